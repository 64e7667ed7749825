/**
 * The shared security suite (STYLE "Tests"; SPEC §3): every protected route,
 * on both stores, against no credentials, bad and expired credentials, the
 * wrong app, the wrong user, and too few scopes. Routes are rows of ROUTES;
 * a route the app serves without a row fails the coverage test below.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import { OPERATION_SCOPES, type OperationId } from '../src/domain/scopes.ts';
import { APPS, basic, connectJwt, jwtHeader, startFixture, USERS, type AppName, type Fixture } from './helpers/fixture.ts';
import {
  assertConfluenceError,
  assertNoStackTrace,
  isPublicRoute,
  servedRoutes,
  unsignedJwt,
  type Reply,
} from './helpers/security.ts';
import { STORE_KINDS } from './helpers/stores.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface RouteRow {
  method: Method;
  /** As registered; `:userId` names whose data it is, `:key` a property key. */
  pattern: string;
  /** Its row in the scope table (src/domain/scopes.ts). */
  operation: OperationId;
  /** What the caller's own namespace must hold before the call succeeds. */
  needs: 'existing' | 'absent' | 'nothing';
  /** The status of a successful call. */
  ok: number;
  body?: unknown;
}

/** One row per route; SPEC §1 serves Confluence under both prefixes, so each row is expanded to both. */
const CONFLUENCE_ROUTES: Array<Omit<RouteRow, 'pattern'> & { path: string }> = [
  { method: 'GET', path: '/user/:userId/property', operation: 'confluence.getUserProperties', needs: 'nothing', ok: 200 },
  { method: 'GET', path: '/user/:userId/property/:key', operation: 'confluence.getUserProperty', needs: 'existing', ok: 200 },
  { method: 'POST', path: '/user/:userId/property/:key', operation: 'confluence.createUserProperty', needs: 'absent', ok: 201, body: { value: { from: 'security' } } },
  { method: 'PUT', path: '/user/:userId/property/:key', operation: 'confluence.updateUserProperty', needs: 'existing', ok: 204, body: { value: { from: 'security' } } },
  { method: 'DELETE', path: '/user/:userId/property/:key', operation: 'confluence.deleteUserProperty', needs: 'existing', ok: 204 },
];

const ROUTES: RouteRow[] = ['/wiki/rest/api', '/rest/api'].flatMap((prefix) =>
  CONFLUENCE_ROUTES.map(({ path, ...row }) => ({ ...row, pattern: `${prefix}${path}` })),
);

const MIA = USERS.mia.accountId;
const json = { 'content-type': 'application/json' };
const b64 = (text: string) => Buffer.from(text).toString('base64');
const now = () => Math.floor(Date.now() / 1000);

let counter = 0;
const freshKey = (tag: string) => `${tag}-${++counter}`;

function urlOf(row: RouteRow, key: string, accountId: string = MIA): string {
  return row.pattern.replace(':userId', accountId).replace(':key', key);
}

/** The same request target with the `/wiki` context path toggled (SPEC §3 accepts both in a qsh). */
function otherContext(url: string): string {
  return url.startsWith('/wiki/') ? url.slice('/wiki'.length) : `/wiki${url}`;
}

/** 401 messages about a credential; none may read like the anonymous refusal (no fallback to anonymous). */
function assertCredentialRejected(response: Reply, pattern: RegExp): void {
  const body = assertConfluenceError(response, 401, pattern);
  assert.doesNotMatch(body.message, /anonymous/i, 'a bad credential was treated as no credential');
}

for (const kind of STORE_KINDS) {
  describe(`security on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());

    function call(row: RouteRow, key: string, headers: Record<string, string>, options: { accountId?: string; query?: string } = {}) {
      const url = urlOf(row, key, options.accountId) + (options.query ?? '');
      const hasBody = row.body !== undefined;
      return fx.app.inject({
        method: row.method,
        url,
        headers: hasBody ? { ...json, ...headers } : headers,
        payload: hasBody ? JSON.stringify(row.body) : undefined,
      });
    }

    /** Creates `key` for `accountId` in the namespace of `owner` (an app's, or "" for the user). */
    async function createProperty(owner: AppName | 'user', key: string, value: object = {}, accountId: string = MIA) {
      const url = `/wiki/rest/api/user/${accountId}/property/${key}`;
      const user = (Object.keys(USERS) as Array<keyof typeof USERS>).find((name) => USERS[name].accountId === accountId)!;
      const headers = owner === 'user' ? basic(user) : jwtHeader(owner, 'POST', url);
      const response = await fx.app.inject({ method: 'POST', url, headers: { ...json, ...headers }, payload: JSON.stringify({ value }) });
      assert.equal(response.statusCode, 201, response.body);
    }

    /** A key in the state the row needs, in the given namespace. */
    async function prepare(row: RouteRow, owner: AppName | 'user', accountId: string = MIA): Promise<string> {
      const key = freshKey('sec');
      if (row.needs === 'existing') await createProperty(owner, key, {}, accountId);
      return key;
    }

    test('the table covers every protected route the app serves', () => {
      const served = servedRoutes(fx.app);
      assert.ok(served.length > 0, 'no routes were read from printRoutes()');
      const inTable = new Set(ROUTES.map((row) => `${row.method} ${row.pattern}`));
      const missing = served
        .filter((route) => route.method !== 'HEAD' && !isPublicRoute(route))
        .map((route) => `${route.method} ${route.pattern}`)
        .filter((route) => !inTable.has(route));
      assert.deepEqual(missing, [], 'add a row to ROUTES in test/security.test.ts for each of these');
      for (const row of ROUTES) assert.ok(fx.app.hasRoute({ method: row.method, url: row.pattern }), `${row.method} ${row.pattern} is not served`);
    });

    test('every protected route, HEAD included, is 401 for anonymous callers and bad credentials', async () => {
      for (const route of servedRoutes(fx.app).filter((r) => !isPublicRoute(r))) {
        const url = route.pattern.replace(':userId', MIA).replace(/:[A-Za-z0-9_]+/g, 'x');
        const method = route.method as Method | 'HEAD';
        const credentials: Array<Record<string, string>> = [
          {},
          { authorization: `Basic ${b64('mia@example.com:not-the-token')}` },
          { authorization: 'JWT not-a-token' },
          { authorization: 'Bearer not-a-token' },
        ];
        for (const headers of credentials) {
          const response = await fx.app.inject({ method, url, headers });
          assert.equal(response.statusCode, 401, `${method} ${url} with ${JSON.stringify(headers)}: ${response.body}`);
          if (method !== 'HEAD') assertConfluenceError(response, 401, headers.authorization ? /./ : /does not allow anonymous access/);
        }
      }
    });

    for (const row of ROUTES) {
      describe(`${row.method} ${row.pattern}`, () => {
        const scopes = OPERATION_SCOPES[row.operation];

        test('401: no credentials, bad Basic credentials, a deactivated user, two credentials, unknown schemes', async () => {
          const key = await prepare(row, 'user');
          assertConfluenceError(await call(row, key, {}), 401, /Authentication required: this site does not allow anonymous access/);

          const invalid = /Basic authentication failed: the email or API token is not valid/;
          assertCredentialRejected(await call(row, key, { authorization: `Basic ${b64(`${USERS.mia.email}:wrong-token-000`)}` }), invalid);
          assertCredentialRejected(await call(row, key, { authorization: `Basic ${b64(`${USERS.noah.email}:${USERS.mia.token}`)}` }), invalid);
          assertCredentialRejected(await call(row, key, { authorization: `Basic ${b64(`unknown@example.com:${USERS.mia.token}`)}` }), invalid);

          const malformed = /Basic authentication failed: expected base64\(email:apiToken\)/;
          assertCredentialRejected(await call(row, key, { authorization: `Basic ${b64(`${USERS.mia.email}${USERS.mia.token}`)}` }), malformed);
          assertCredentialRejected(await call(row, key, { authorization: `Basic ${b64(`:${USERS.mia.token}`)}` }), malformed);
          assertCredentialRejected(await call(row, key, { authorization: 'Basic' }), malformed);

          // A deactivated user's valid token (SPEC §2), on their own data.
          assertCredentialRejected(await call(row, key, basic('gone'), { accountId: USERS.gone.accountId }), /the account is deactivated/);

          const token = connectJwt('notes', row.method, urlOf(row, key));
          assertCredentialRejected(await call(row, key, basic('mia'), { query: `?jwt=${token}` }), /Send one credential: both an Authorization header and a jwt query parameter/);
          assertCredentialRejected(await call(row, key, { authorization: 'Digest x' }), /Unsupported Authorization scheme "digest"/);
          assertCredentialRejected(await call(row, key, { authorization: 'Negotiate abc' }), /Unsupported Authorization scheme "negotiate"/);
          assertCredentialRejected(await call(row, key, { authorization: 'Bearer anything' }), /Bearer token rejected/);
        });

        test('401: Connect JWTs that are expired, for another request, forged or malformed', async () => {
          const key = await prepare(row, 'notes');
          const url = urlOf(row, key);
          const jwt = (claims: Record<string, unknown>, secret?: string) => ({ authorization: `JWT ${connectJwt('notes', row.method, url, claims, secret)}` });
          const rejected = async (headers: Record<string, string>, pattern: RegExp, query?: string) =>
            assertCredentialRejected(await call(row, key, headers, { query }), pattern);

          // Beyond the 30 s leeway, in the header and in the query.
          await rejected(jwt({ iat: now() - 300, exp: now() - 60 }), /JWT rejected: the token has expired/);
          await rejected({}, /JWT rejected: the token has expired/, `?jwt=${connectJwt('notes', row.method, url, { iat: now() - 300, exp: now() - 90 })}`);
          await rejected(jwt({ exp: undefined }), /JWT rejected: the exp claim is missing or invalid/);

          // A qsh for another path, another method, or no qsh at all.
          await rejected(jwt({ qsh: createQueryStringHash(fromMethodAndUrl(row.method, urlOf(row, 'other-key', USERS.noah.accountId))) }), /the qsh claim does not match this request/);
          await rejected(jwt({ qsh: createQueryStringHash(fromMethodAndUrl(row.method === 'GET' ? 'DELETE' : 'GET', url)) }), /the qsh claim does not match this request/);
          await rejected(jwt({ qsh: 'deadbeef' }), /the qsh claim does not match this request/);
          await rejected(jwt({ qsh: undefined }), /JWT rejected: the qsh claim is missing or invalid/);

          // Signed with another app's secret while naming notes; unknown issuers; no issuer.
          await rejected(jwt({}, APPS.tasks.sharedSecret), /the signature does not verify with the app's shared secret/);
          await rejected(jwt({ iss: 'com.example.unknown' }), /no app is installed with key or clientKey "com\.example\.unknown"/);
          await rejected(jwt({ iss: 'com.example.unknown' }, 'a-secret-nobody-installed-of-32-chars!'), /no app is installed/);
          await rejected(jwt({ iss: undefined }), /the iss claim is missing/);

          // Audience that does not name the installation.
          await rejected(jwt({ aud: 'someone-else' }), /aud does not name this installation/);
          await rejected(jwt({ aud: ['someone-else', APPS.tasks.clientKey] }), /aud does not name this installation/);

          // Not HS256, unsigned, or not a JWT at all.
          const payload = { iss: APPS.notes.key, iat: now(), exp: now() + 180, qsh: createQueryStringHash(fromMethodAndUrl(row.method, url)) };
          await rejected({ authorization: `JWT ${unsignedJwt(payload)}` }, /only HS256 is accepted/);
          await rejected({ authorization: `JWT ${encodeSymmetric(payload, APPS.notes.sharedSecret, 'HS512' as never)}` }, /only HS256 is accepted/);
          await rejected({ authorization: 'JWT garbage' }, /the token is malformed/);
          await rejected({ authorization: 'JWT a.b.c' }, /the token is malformed/);
          await rejected({ authorization: 'JWT' }, /the token is malformed/);
          await rejected({}, /the token is malformed/, '?jwt=garbage');
          await rejected({}, /Send one jwt query parameter/, `?jwt=${connectJwt('notes', row.method, url)}&jwt=x`);
          // A tampered payload no longer matches its signature.
          const [head, , signature] = connectJwt('notes', row.method, url).split('.');
          const tampered = Buffer.from(JSON.stringify({ ...payload, iss: APPS.notes.key, exp: now() + 99999 })).toString('base64url');
          await rejected({ authorization: `JWT ${head}.${tampered}.${signature}` }, /the signature does not verify/);
        });

        test('Connect JWTs: leeway, qsh with or without /wiki, the jwt parameter, iss = clientKey, aud', async () => {
          const accepted = async (label: string, make: (url: string) => { headers?: Record<string, string>; query?: string }) => {
            const key = await prepare(row, 'notes');
            const { headers = {}, query } = make(urlOf(row, key));
            const response = await call(row, key, headers, { query });
            assert.equal(response.statusCode, row.ok, `${label}: ${response.body}`);
          };
          const header = (token: string) => ({ headers: { authorization: `JWT ${token}` } });

          await accepted('a fresh JWT', (url) => header(connectJwt('notes', row.method, url)));
          await accepted('expired 10 s ago, within the 30 s leeway', (url) => header(connectJwt('notes', row.method, url, { iat: now() - 200, exp: now() - 10 })));
          await accepted('qsh on the other context path', (url) => header(connectJwt('notes', row.method, otherContext(url))));
          await accepted('the jwt query parameter', (url) => ({ query: `?jwt=${connectJwt('notes', row.method, url)}` }));
          await accepted('iss = clientKey', (url) => header(connectJwt('notes', row.method, url, { iss: APPS.notes.clientKey })));
          await accepted('aud = clientKey', (url) => header(connectJwt('notes', row.method, url, { aud: APPS.notes.clientKey })));
          await accepted('aud lists the clientKey', (url) => header(connectJwt('notes', row.method, url, { aud: ['other', APPS.notes.clientKey] })));
        });

        test('app isolation: another app, and the user without an app, never reach the notes app\'s property', async () => {
          const key = freshKey('iso');
          const marker = `notes-only-${key}`;
          await createProperty('notes', key, { marker });

          const others: Array<[string, Record<string, string>]> = [
            ['tasks', jwtHeader('tasks', row.method, urlOf(row, key))],
            ['mia without an app', basic('mia')],
            // An admin shares mia's namespace "", where the create above already made the key.
            ...(row.needs === 'absent' ? [] : [['an admin without an app', basic('admin')] as [string, Record<string, string>]]),
          ];
          for (const [who, headers] of others) {
            const response = await call(row, key, headers);
            assertNoStackTrace(response);
            assert.doesNotMatch(response.body, new RegExp(marker), `${who} saw the notes app's value`);
            if (row.needs === 'existing') {
              assertConfluenceError(response, 404, new RegExp(`Property "${key}" does not exist`));
            } else {
              assert.equal(response.statusCode, row.ok, `${who}: ${response.body}`);
              if (row.needs === 'nothing') assert.ok(!response.json().results.some((r: { key: string }) => r.key === key), `${who} listed the notes app's key`);
            }
          }
          const own = `/wiki/rest/api/user/${MIA}/property/${key}`;
          const notes = await fx.app.inject({ method: 'GET', url: own, headers: jwtHeader('notes', 'GET', own) });
          assert.equal(notes.statusCode, 200);
          assert.deepEqual(notes.json().value, { marker }, 'the notes app\'s property is untouched');
        });

        test('403: another user\'s data, an unknown user for non-admins, and users outside can-use', async () => {
          const key = await prepare(row, 'user');
          const onlyOwn = /You may not access the properties of user 712020:mia: only your own/;
          assertConfluenceError(await call(row, key, basic('noah')), 403, onlyOwn);
          // Not 404: a non-admin learns nothing about which accounts exist (SPEC §3).
          assertConfluenceError(await call(row, key, basic('noah'), { accountId: '712020:nobody' }), 403, /properties of user 712020:nobody: only your own/);
          // The outsider is refused even on their own data, before anything else is looked at.
          const outsider = USERS.outsider.accountId;
          assertConfluenceError(await call(row, key, basic('outsider'), { accountId: outsider }), 403, /User 712020:outsider may not use this site: not a member of confluence-users or confluence-admins/);
          assertConfluenceError(await call(row, key, basic('outsider')), 403, /may not use this site/);
        });

        test(`scopes: an app holding only READ ${scopes.connect === 'READ' ? 'may call' : 'is refused'} this ${scopes.connect} operation`, async () => {
          const key = freshKey('scope');
          const response = await call(row, key, jwtHeader('reader', row.method, urlOf(row, key)));
          if (scopes.connect === 'READ') {
            // The reader app cannot create, so its namespace is empty: 404 or an empty list.
            if (row.needs === 'existing') assertConfluenceError(response, 404, /does not exist/);
            else assert.equal(response.statusCode, row.ok, response.body);
          } else {
            const body = assertConfluenceError(response, 403, new RegExp(`App com\\.example\\.reader lacks the scope for this operation: it needs ${scopes.connect}`));
            for (const scope of scopes.oauth) assert.ok(body.message.includes(scope), `the message names ${scope}`);
          }
          // Connect's nesting: WRITE covers READ, so the tasks app (WRITE only) passes every property operation.
          const tasks = await call(row, key, jwtHeader('tasks', row.method, urlOf(row, key)));
          assert.notEqual(tasks.statusCode, 403, tasks.body);
          assert.notEqual(tasks.statusCode, 401, tasks.body);
        });
      });
    }
  });

  describe(`security on ${kind}, on a site that allows anonymous access`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind, { anonymousAccess: true });
    });
    after(() => fx.close());

    test('bad and expired credentials are 401 about the credential, never an anonymous call', async () => {
      for (const row of ROUTES) {
        const url = urlOf(row, 'anon');
        const send = (headers: Record<string, string>, query = '') =>
          fx.app.inject({
            method: row.method,
            url: url + query,
            headers: row.body === undefined ? headers : { ...json, ...headers },
            payload: row.body === undefined ? undefined : JSON.stringify(row.body),
          });
        // Properties are not among the routes anonymous callers may read (SPEC §3).
        assertConfluenceError(await send({}), 401, /anonymous callers may only read users and groups/);
        assertCredentialRejected(await send({ authorization: `Basic ${b64('mia@example.com:wrong-token-000')}` }), /email or API token is not valid/);
        assertCredentialRejected(await send(basic('gone')), /deactivated/);
        assertCredentialRejected(await send({ authorization: `JWT ${connectJwt('notes', row.method, url, { iat: now() - 300, exp: now() - 60 })}` }), /expired/);
        assertCredentialRejected(await send({}, `?jwt=${connectJwt('notes', row.method, url, { iat: now() - 300, exp: now() - 60 })}`), /expired/);
        assertCredentialRejected(await send({ authorization: 'JWT garbage' }), /malformed/);
        assertCredentialRejected(await send({ authorization: 'Bearer anything' }), /Bearer token rejected/);
        assertCredentialRejected(await send({ authorization: 'Digest x' }), /Unsupported Authorization scheme/);
        assertCredentialRejected(await send({ authorization: '' }), /Unsupported Authorization scheme|Authorization/);
      }
    });
  });
}
