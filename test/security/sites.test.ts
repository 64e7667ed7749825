/**
 * The security suite for sites (docs/behaviour.md §10), on both stores:
 * - every credential kind of site A (a user's and an admin's Basic, a
 *   Connect JWT, asApp and asUser bearer tokens) is unknown on site B, on
 *   every protected route B serves: 401, with the answer a credential that
 *   exists nowhere gets, so nothing tells that it exists elsewhere;
 * - the operator's routes refuse everyone but the operator: anonymous 401,
 *   site admins, apps and bearer tokens 403;
 * - the bearer token's own route answers only bearer tokens.
 * Sites A and B are made from one fixture seed, so every credential of A has
 * a twin of the same text on B that would work there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { basicAuth, bearer, connectJwt, type Headers } from '../helpers/credentials.ts';
import { APPS, BASE_URL, basic, impersonationAssertion, OAUTH_APPS, USERS } from '../helpers/fixture.ts';
import { assertConfluenceError, assertJiraError, assertNoStackTrace } from '../helpers/security.ts';
import { OPERATOR_TOKEN, type SitesFixture, siteSeed, startSitesFixture } from '../helpers/sites.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const JSON_BODY = { 'content-type': 'application/json' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const A = '-a';
const basicOfA = (user: keyof typeof USERS) => basicAuth(USERS[user].email, `${USERS[user].token}${A}`);

for (const kind of STORE_KINDS) {
  describe(`credentials across sites on ${kind}`, () => {
    let fx: SitesFixture;
    let app: FastifyInstance;
    let cloudIdB: string;
    /** Each credential of site A, with the request it is valid for there (as a check that it works on A). */
    const ofA: Array<{ label: string; headers: (method: string, url: string) => Headers }> = [];

    const send = (method: string, url: string, headers: Headers) =>
      app.inject({
        method: method as 'GET',
        url,
        headers: method === 'POST' || method === 'PUT' || method === 'PATCH' ? { ...headers, ...JSON_BODY } : headers,
        ...((method === 'POST' || method === 'PUT' || method === 'PATCH') && { payload: '{}' }),
      });
    const token = async (site: string, params: Record<string, string>) => {
      const response = await app.inject({
        method: 'POST',
        url: `/sites/${site}/oauth2/token`,
        headers: FORM,
        payload: new URLSearchParams(params).toString(),
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json().access_token as string;
    };

    before(async () => {
      fx = await startSitesFixture(kind);
      ({ app } = fx);
      for (const name of ['a', 'b']) {
        const response = await app.inject({
          method: 'POST',
          url: '/admin/api/sites',
          headers: { ...bearer(OPERATOR_TOKEN), ...JSON_BODY },
          payload: JSON.stringify({ name, seed: siteSeed(name === 'a' ? A : '') }),
        });
        assert.equal(response.statusCode, 201, response.body);
        if (name === 'b') cloudIdB = response.json().cloudId;
      }
      const asApp = await token('a', {
        grant_type: 'client_credentials',
        client_id: OAUTH_APPS.oauth.oauthClientId,
        client_secret: `${OAUTH_APPS.oauth.clientSecret}${A}`,
      });
      const asUser = await token('a', {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: impersonationAssertion(
          { ...OAUTH_APPS.oauth, sharedSecret: `${OAUTH_APPS.oauth.sharedSecret}${A}` },
          USERS.mia.accountId,
          { tnt: `${BASE_URL}/sites/a` },
        ),
      });
      ofA.push(
        { label: "a user's Basic", headers: () => basicOfA('mia') },
        { label: "an admin's Basic", headers: () => basicOfA('admin') },
        {
          label: 'a Connect JWT',
          headers: (method, url) =>
            connectJwt({ ...APPS.notes, sharedSecret: `${APPS.notes.sharedSecret}${A}` }, method, url),
        },
        { label: 'an asApp bearer token', headers: () => bearer(asApp) },
        { label: 'an asUser bearer token', headers: () => bearer(asUser) },
      );
    });
    after(() => fx.close());

    test("each of site A's credentials works on A, and the same names with B's own secrets work on B", async () => {
      for (const { label, headers } of ofA) {
        const url = '/sites/a/wiki/rest/api/user/current';
        const response = await send('GET', url, headers('GET', url));
        assert.equal(response.statusCode, 200, `${label}: ${response.body}`);
      }
      assert.equal((await send('GET', '/sites/b/wiki/rest/api/user/current', basic('mia'))).statusCode, 200);
    });

    test("every protected route of site B answers each of A's credentials 401, as it answers one that exists nowhere", async () => {
      // Accessible resources answer for a bearer token's own site wherever asked (§10): walked below instead.
      const routes = app.routeAccess.filter(
        ({ access }) => access.kind !== 'public' && access.kind !== 'operator' && access.kind !== 'token',
      );
      assert.ok(routes.length > 50, 'the walk covers the product, administration and token routes');
      for (const { method, url: pattern } of routes) {
        const path = pattern
          .replace(':cloudId', cloudIdB)
          .replace(':userId', USERS.mia.accountId)
          .replace(/:[A-Za-z0-9_]+/g, 'x');
        const url = `/sites/b${path}`;
        for (const { label, headers } of ofA) {
          const response = await send(method, url, headers(method, url));
          const where = `${method} ${url} with ${label}`;
          assert.equal(response.statusCode, 401, `${where}: ${response.body}`);
          assertNoStackTrace(response);
          if (method === 'HEAD') continue;
          const assertError = /\/rest\/api\/[23]\//.test(url) ? assertJiraError : assertConfluenceError;
          assertError(response, 401, /./);
          assert.doesNotMatch(response.body, /site a\b|sites\/a\b/i, `${where} names site A`);
        }
      }
    });

    test("the answer to A's app on B is the answer to an app that exists nowhere", async () => {
      const url = '/sites/b/wiki/rest/api/user/current';
      const fromA = await send(
        'GET',
        url,
        connectJwt({ key: 'com.example.solo-a', sharedSecret: 'x'.repeat(40) }, 'GET', url),
      );
      const nowhere = await send(
        'GET',
        url,
        connectJwt({ key: 'com.example.nowhere', sharedSecret: 'x'.repeat(40) }, 'GET', url),
      );
      assert.equal(fromA.json().message, nowhere.json().message);
      const wrongPassword = await send('GET', url, basicAuth(USERS.mia.email, 'wrong-token-000'));
      const unknownEmail = await send('GET', url, basicAuth('nobody@example.com', 'wrong-token-000'));
      assert.equal(wrongPassword.json().message, unknownEmail.json().message);
    });

    test("the operator's routes: the operator only; site admins, apps and bearer tokens 403, anonymous 401", async () => {
      const routes = app.routeAccess.filter(({ access }) => access.kind === 'operator');
      assert.ok(routes.length >= 4);
      for (const { method, url: pattern } of routes) {
        for (const prefix of ['', '/sites/a']) {
          const url = `${prefix}${pattern.replace(':name', 'b')}`;
          const anonymous = await send(method, url, {});
          assert.equal(anonymous.statusCode, 401, `${method} ${url}`);
          for (const { label, headers } of ofA) {
            // On the root the default site is selected, where A's credentials are unknown (401); under A they are valid (403).
            const response = await send(method, url, headers(method, url));
            const expected = prefix === '' ? [401] : [403];
            assert.ok(
              expected.includes(response.statusCode),
              `${method} ${url} with ${label}: ${response.statusCode} ${response.body}`,
            );
          }
          // The default site's own admin: a site admin, not the operator.
          if (prefix === '') {
            const admin = await send(method, url, basic('admin'));
            assert.equal(admin.statusCode, 403, `${method} ${url} with the default site's admin`);
            if (method !== 'HEAD') assert.match(admin.json().message, /Only the server's operator may manage sites/);
          }
        }
      }
      // The operator reaches every one (here: read them; deleting is tested in test/http/sites.test.ts).
      assert.equal((await send('GET', '/admin/api/sites', bearer(OPERATOR_TOKEN))).statusCode, 200);
      assert.equal((await send('GET', '/admin/api/sites/b', bearer(OPERATOR_TOKEN))).statusCode, 200);
      assert.equal((await send('GET', '/admin/api/sites', bearer('x'.repeat(40)))).statusCode, 401);
    });

    test("the bearer token's own route answers bearer tokens only, and names the token's site wherever asked", async () => {
      const url = '/sites/a/oauth/token/accessible-resources';
      for (const { label, headers } of ofA) {
        const response = await send('GET', url, headers('GET', url));
        const isBearer = label.includes('bearer');
        assert.equal(response.statusCode, isBearer ? 200 : 403, `${label}: ${response.body}`);
      }
      assert.equal((await send('GET', url, bearer(OPERATOR_TOKEN))).statusCode, 403);
      for (const { label, headers } of ofA.filter(({ label }) => label.includes('bearer'))) {
        const onB = await send('GET', '/sites/b/oauth/token/accessible-resources', headers('GET', url));
        assert.equal(onB.statusCode, 200, label);
        assert.notEqual(onB.json()[0].id, cloudIdB, `${label}: A's own site, never B`);
      }
      assert.equal((await send('GET', url, {})).statusCode, 401);
    });
  });
}
