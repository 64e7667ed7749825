/**
 * The security suite (docs/behaviour.md §3) on EVERY protected route, read from the
 * app's own route table (`app.routeAccess`), so a new route is walked
 * without a new row:
 * - the suite's reach: every protected route is walked by a part of
 *   test/security/, the routes declared public are exactly the always-public
 *   ones, and each table's operations are served under every prefix;
 * - anonymous callers and bad credentials get 401, HEAD included;
 * - OAuth 2.0 bearer tokens: a token of either grant lacking the route's
 *   scope is a 403 naming the scopes that would have sufficed, a token
 *   holding any one of them passes the scope check, expired or revoked
 *   tokens are 401s, and the administration API refuses every bearer token
 *   with 403.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OPERATION_SCOPES, scopesAllow } from '../../src/domain/scopes.ts';
import { envelopeFor } from '../../src/http/errors.ts';
import { adminCaller } from '../helpers/admin.ts';
import { basicAuth, bearer } from '../helpers/credentials.ts';
import {
  bearerToken,
  cloudIdOf,
  type Fixture,
  loadOAuthFixture,
  OAUTH_APPS,
  startFixture,
  UNTHROTTLED,
  USERS,
} from '../helpers/fixture.ts';
import { assertConfluenceError, assertJiraError, assertNoStackTrace, isPublicRoute } from '../helpers/security.ts';
import { type Method, OPERATION_TABLES, routeTable } from '../helpers/security-routes.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const served = await routeTable();
const MIA = USERS.mia.accountId;
const describeRoute = ({ method, url }: { method: string; url: string }) => `${method} ${url}`;

test('every protected route is walked: admin routes by admin.test.ts, sites and token routes by sites.test.ts, product routes by a table', () => {
  assert.ok(served.some(({ access }) => access.kind === 'admin'));
  const walkedElsewhere = new Set(['public', 'admin', 'operator', 'token']);
  const unwalked = served
    .filter(({ access }) => {
      if (access.kind !== 'product') return !walkedElsewhere.has(access.kind);
      return !OPERATION_TABLES.some(({ table }) => access.operation in table);
    })
    .map(describeRoute);
  assert.deepEqual(unwalked, [], 'give each operation a row in a table of test/helpers/security-routes.ts');
});

test('the routes declared public are exactly the always-public ones (docs/behaviour.md §3)', () => {
  assert.ok(served.some(({ access }) => access.kind === 'public'));
  const mismatched = served
    .filter(({ method, url, access }) => (access.kind === 'public') !== isPublicRoute({ method, pattern: url }))
    .map((route) => `${describeRoute(route)} declares ${route.access.kind}`);
  assert.deepEqual(mismatched, []);
});

for (const { name, table, prefixes } of OPERATION_TABLES) {
  test(`${name}: every operation is served under each of its prefixes`, () => {
    for (const [operation, row] of Object.entries(table)) {
      const patterns = served
        .filter(
          ({ method, access }) => method !== 'HEAD' && access.kind === 'product' && access.operation === operation,
        )
        .map(({ url }) => url);
      assert.deepEqual(patterns.sort(), prefixes.map((prefix) => `${prefix}${row!.path}`).sort(), operation);
    }
  });
}

for (const kind of STORE_KINDS) {
  describe(`every protected route on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind, UNTHROTTLED);
    });
    after(() => fx.close());

    test('every protected route, HEAD included, is 401 for anonymous callers and bad credentials', async () => {
      const cloudId = await cloudIdOf(fx);
      for (const route of fx.app.routeAccess.filter(({ access }) => access.kind !== 'public')) {
        const url = route.url
          .replace(':cloudId', cloudId)
          .replace(':userId', MIA)
          .replace(/:[A-Za-z0-9_]+/g, 'x');
        const method = route.method as Method | 'HEAD';
        const credentials: Array<Record<string, string>> = [
          {},
          basicAuth('mia@example.com', 'not-the-token'),
          { authorization: 'JWT not-a-token' },
          { authorization: 'Bearer not-a-token' },
        ];
        for (const headers of credentials) {
          const response = await fx.app.inject({ method, url, headers });
          assert.equal(response.statusCode, 401, `${method} ${url} with ${JSON.stringify(headers)}: ${response.body}`);
          const assertError = envelopeFor(url) === 'jira' ? assertJiraError : assertConfluenceError;
          const anonymous = url.startsWith('/admin/api/sites')
            ? /sites are managed with the server's operator token/
            : url.startsWith('/admin/api/')
              ? /the administration API is for site admins/
              : url.includes('/oauth/token/')
                ? /send a bearer token/
                : /does not allow anonymous access/;
          if (method !== 'HEAD') assertError(response, 401, headers.authorization ? /./ : anonymous);
        }
      }
    });
  });
}

for (const kind of STORE_KINDS) {
  describe(`bearer tokens on every protected route on ${kind}`, () => {
    let fx: Fixture;
    let cloudId: string;
    /** Expired, or revoked (the app deleted, the user deactivated or deleted) before their first use. */
    const dead: Array<{ label: string; headers: Record<string, string>; pattern: RegExp }> = [];
    before(async () => {
      fx = await startFixture(kind, UNTHROTTLED);
      await loadOAuthFixture(fx);
      cloudId = await cloudIdOf(fx);
      const admin = adminCaller(() => fx);
      const expire = (token: string) =>
        fx.store.db
          .updateTable('oauth_tokens')
          .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
          .where('digest', '=', fx.secrets.digest(token))
          .execute();
      for (const [label, options] of [
        ['asApp', {}],
        ['asUser', { asUser: MIA }],
      ] as const) {
        const token = await bearerToken(fx, 'oauth', options);
        await expire(token);
        dead.push({
          label: `an expired ${label} token`,
          headers: bearer(token),
          pattern: /^Bearer token rejected: it has expired$/,
        });
      }
      // An app with tokens of both grants, then deleted; users with asUser tokens, then deactivated or deleted.
      const doomed = {
        key: 'com.example.revoked',
        name: 'Revoked',
        clientKey: 'revoked-client',
        sharedSecret: 'revoked-shared-secret-of-at-least-32-chars',
        oauthClientId: 'revoked-id',
        clientSecret: 'revoked-secret',
        scopes: ['READ', 'WRITE', 'DELETE', 'ACT_AS_USER'],
      };
      assert.equal((await admin('POST', '/apps', doomed)).statusCode, 201);
      const form = (params: Record<string, string>) =>
        fx.app.inject({
          method: 'POST',
          url: '/oauth2/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams(params).toString(),
        });
      const doomedApp = (
        await form({
          grant_type: 'client_credentials',
          client_id: doomed.oauthClientId,
          client_secret: doomed.clientSecret,
        })
      ).json().access_token;
      const users: string[] = [];
      for (const email of ['deactivated@example.com', 'deleted@example.com']) {
        const created = await admin('POST', '/users', { email, displayName: email, groups: ['confluence-users'] });
        assert.equal(created.statusCode, 201, created.body);
        users.push(created.json().accountId);
      }
      const [deactivated, deleted] = users as [string, string];
      const asDeactivated = await bearerToken(fx, 'oauth', { asUser: deactivated });
      const asDeleted = await bearerToken(fx, 'oauth', { asUser: deleted });
      assert.equal((await admin('DELETE', `/apps/${doomed.key}`)).statusCode, 204);
      assert.equal((await admin('PATCH', `/users/${deactivated}`, { active: false })).statusCode, 200);
      assert.equal((await admin('DELETE', `/users/${deleted}`)).statusCode, 204);
      dead.push(
        {
          label: 'a token of a deleted app',
          headers: bearer(doomedApp),
          pattern: /^Bearer token rejected: it is not valid or has expired$/,
        },
        {
          label: 'an asUser token of a deactivated user',
          headers: bearer(asDeactivated),
          pattern: new RegExp(`^Bearer token rejected: user ${deactivated} is deactivated$`),
        },
        {
          label: 'an asUser token of a deleted user',
          headers: bearer(asDeleted),
          pattern: /^Bearer token rejected: it is not valid or has expired$/,
        },
      );
    });
    after(() => fx.close());

    /** Tokens per requested scope set, so each is issued once per store. */
    const tokens = new Map<string, Record<string, string>>();
    async function tokenFor(grant: 'asApp' | 'asUser', scopes: readonly string[]): Promise<Record<string, string>> {
      const cacheKey = `${grant} ${scopes.join(' ')}`;
      let headers = tokens.get(cacheKey);
      if (!headers) {
        headers = bearer(
          await bearerToken(fx, 'oauth', { scope: scopes.join(' '), ...(grant === 'asUser' && { asUser: MIA }) }),
        );
        tokens.set(cacheKey, headers);
      }
      return headers;
    }

    /** The route's pattern made concrete: the site's cloudId, mia as the user, `x` for anything else. */
    const urlOf = (pattern: string) =>
      pattern
        .replace(':cloudId', cloudId)
        .replace(':userId', MIA)
        .replace(/:[A-Za-z0-9_]+/g, 'x');
    const send = (method: string, url: string, headers: Record<string, string>) =>
      fx.app.inject({ method: method as Method, url, headers });
    const assertError = (url: string) => (envelopeFor(url) === 'jira' ? assertJiraError : assertConfluenceError);

    test("a token lacking the route's scope is a 403 naming the scopes that would have sufficed; any one of them passes", async () => {
      for (const { method, url: pattern, access } of fx.app.routeAccess) {
        if (access.kind !== 'product') continue;
        const needed = OPERATION_SCOPES[access.operation];
        const url = urlOf(pattern);
        // Everything the oauth app holds except what would suffice.
        const lacking = OAUTH_APPS.oauth.scopes.filter((scope) => !scopesAllow([scope], needed));
        for (const grant of ['asApp', 'asUser'] as const) {
          const response = await send(method, url, await tokenFor(grant, lacking));
          const where = `${grant} ${method} ${url}`;
          if (method === 'HEAD') {
            assert.equal(response.statusCode, 403, where);
            continue;
          }
          const body = assertError(url)(
            response,
            403,
            /^App com\.example\.oauth lacks the scope for this operation: it needs .* \(this bearer token carries .+\)$/,
          );
          const message: string = envelopeFor(url) === 'jira' ? body.errorMessages[0] : body.message;
          for (const scope of [needed.connect, ...needed.oauth])
            assert.ok(message.includes(` ${scope}`), `${where}: the message names ${scope}`);

          for (const sufficient of [needed.connect, ...needed.oauth]) {
            const passed = await send(method, url, await tokenFor(grant, [sufficient]));
            assert.notEqual(passed.statusCode, 401, `${where} with ${sufficient}: ${passed.body}`);
            assert.doesNotMatch(passed.body, /lacks the scope/, `${where} with ${sufficient}`);
            assertNoStackTrace(passed);
            assert.ok(passed.statusCode < 500, `${where} with ${sufficient}: ${passed.body}`);
          }
        }
      }
    });

    test('expired and revoked tokens are 401s on every protected route', async () => {
      for (const { method, url: pattern } of fx.app.routeAccess.filter((r) => r.access.kind !== 'public')) {
        const url = urlOf(pattern);
        for (const { label, headers, pattern: expected } of dead) {
          const response = await send(method, url, headers);
          if (method === 'HEAD') assert.equal(response.statusCode, 401, `${label}: HEAD ${url}`);
          else assertError(url)(response, 401, expected);
        }
      }
    });

    test("the administration API refuses every bearer token with 403, an impersonated admin's included", async () => {
      const asAdmin = bearer(await bearerToken(fx, 'oauth', { asUser: USERS.admin.accountId }));
      const asApp = await tokenFor('asApp', OAUTH_APPS.oauth.scopes);
      for (const { method, url: pattern, access } of fx.app.routeAccess) {
        if (access.kind !== 'admin' || method === 'HEAD') continue;
        for (const headers of [asAdmin, asApp])
          assertConfluenceError(
            await send(method, urlOf(pattern), headers),
            403,
            /^Only site admins may use the administration API$/,
          );
      }
    });
  });
}
