/**
 * The shared security suite (STYLE "Tests"; docs/behaviour.md §3): every protected route,
 * on both stores, against no credentials, bad and expired credentials, the
 * wrong app, the wrong user, and too few scopes. Routes are rows of ROUTES;
 * a route the app serves without a row fails the coverage test below.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeSymmetric } from 'atlassian-jwt';
import { OPERATION_SCOPES, type OperationId, scopesAllow } from '../src/domain/scopes.ts';
import { envelopeFor } from '../src/http/errors.ts';
import { adminCaller } from './helpers/admin.ts';
import { base64, basicAuth, bearer, connectJwt, connectJwtToken, queryStringHash } from './helpers/credentials.ts';
import {
  APPS,
  type AppName,
  basic,
  bearerToken,
  cloudIdOf,
  DIRECTORY_APPS,
  DIRECTORY_USERS,
  type Fixture,
  loadDirectoryFixture,
  loadOAuthFixture,
  loadWatchFixture,
  OAUTH_APPS,
  startFixture,
  USERS,
} from './helpers/fixture.ts';
import {
  assertConfluenceError,
  assertJiraError,
  assertNoStackTrace,
  isPublicRoute,
  type Reply,
  servedRoutes,
  unsignedJwt,
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

/** One row per route; docs/behaviour.md §1 serves Confluence under both prefixes, so each row is expanded to both. */
const CONFLUENCE_ROUTES: Array<Omit<RouteRow, 'pattern'> & { path: string }> = [
  {
    method: 'GET',
    path: '/user/:userId/property',
    operation: 'confluence.getUserProperties',
    needs: 'nothing',
    ok: 200,
  },
  {
    method: 'GET',
    path: '/user/:userId/property/:key',
    operation: 'confluence.getUserProperty',
    needs: 'existing',
    ok: 200,
  },
  {
    method: 'POST',
    path: '/user/:userId/property/:key',
    operation: 'confluence.createUserProperty',
    needs: 'absent',
    ok: 201,
    body: { value: { from: 'security' } },
  },
  {
    method: 'PUT',
    path: '/user/:userId/property/:key',
    operation: 'confluence.updateUserProperty',
    needs: 'existing',
    ok: 204,
    body: { value: { from: 'security' } },
  },
  {
    method: 'DELETE',
    path: '/user/:userId/property/:key',
    operation: 'confluence.deleteUserProperty',
    needs: 'existing',
    ok: 204,
  },
];

const ROUTES: RouteRow[] = ['/wiki/rest/api', '/rest/api'].flatMap((prefix) =>
  CONFLUENCE_ROUTES.map(({ path, ...row }) => ({ ...row, pattern: `${prefix}${path}` })),
);

/**
 * The user directory (docs/behaviour.md §1 `/user…`): reads with no path parameters,
 * tested by the suite at the end of this file. `anonymous`: readable by
 * anonymous callers where the site allows them; `apps`: how an app acting
 * as itself fares — allowed, refused (`/user/bulk`), or the email API,
 * which needs ACCESS_EMAIL_ADDRESSES and approval.
 */
interface DirectoryRouteRow {
  method: 'GET';
  pattern: string;
  operation: OperationId;
  /** A query that succeeds for an allowed caller. */
  query: string;
  anonymous: boolean;
  apps: 'allowed' | 'closed' | 'email';
}

const DIRECTORY_PATHS: Array<Omit<DirectoryRouteRow, 'pattern' | 'method'> & { path: string }> = [
  { path: '/user', query: `?accountId=712020:mia`, operation: 'confluence.getUser', anonymous: true, apps: 'allowed' },
  { path: '/user/anonymous', query: '', operation: 'confluence.getAnonymousUser', anonymous: true, apps: 'allowed' },
  { path: '/user/current', query: '', operation: 'confluence.getCurrentUser', anonymous: true, apps: 'allowed' },
  {
    path: '/user/memberof',
    query: '?accountId=712020:mia',
    operation: 'confluence.getGroupMembershipsForUser',
    anonymous: true,
    apps: 'allowed',
  },
  {
    path: '/user/bulk',
    query: '?accountId=712020:mia',
    operation: 'confluence.getBulkUserLookup',
    anonymous: true,
    apps: 'closed',
  },
  {
    path: '/user/bulk/migration',
    query: '?username=ada',
    operation: 'confluence.getBulkUserMigration',
    anonymous: true,
    apps: 'allowed',
  },
  {
    path: '/user/email',
    query: '?accountId=712020:mia',
    operation: 'confluence.getPrivacyUnsafeUserEmail',
    anonymous: false,
    apps: 'email',
  },
  {
    path: '/user/email/bulk',
    query: '?accountId=712020:mia',
    operation: 'confluence.getPrivacyUnsafeUserEmailBulk',
    anonymous: false,
    apps: 'email',
  },
];

/** Directly, under the alias, and under the OAuth gateway (`:cloudId` is the fixture site's). */
const DIRECTORY_PREFIXES = [
  '/wiki/rest/api',
  '/rest/api',
  '/ex/confluence/:cloudId/wiki/rest/api',
  '/ex/confluence/:cloudId/rest/api',
];

const DIRECTORY_ROUTES: DirectoryRouteRow[] = DIRECTORY_PREFIXES.flatMap((prefix) =>
  DIRECTORY_PATHS.map(({ path, ...row }) => ({ ...row, method: 'GET' as const, pattern: `${prefix}${path}` })),
);

/**
 * Jira user properties (docs/behaviour.md §6) under both versions, directly and under the
 * OAuth gateway; the user is named in the query (`?accountId=`). Tested by the
 * Jira suite at the end of this file.
 */
interface JiraRouteRow {
  method: Method;
  /** As registered; `:propertyKey` a property key, `:cloudId` the site's. */
  pattern: string;
  operation: OperationId;
  /** What the user's one Jira namespace must hold before the call succeeds. */
  needs: 'existing' | 'absent' | 'nothing';
  ok: number;
  body?: string;
}

const JIRA_PATHS: Array<Omit<JiraRouteRow, 'pattern'> & { path: string }> = [
  { method: 'GET', path: '/user/properties', operation: 'jira.getUserPropertyKeys', needs: 'nothing', ok: 200 },
  {
    method: 'GET',
    path: '/user/properties/:propertyKey',
    operation: 'jira.getUserProperty',
    needs: 'existing',
    ok: 200,
  },
  {
    method: 'PUT',
    path: '/user/properties/:propertyKey',
    operation: 'jira.setUserProperty',
    needs: 'absent',
    ok: 201,
    body: '{"from":"security"}',
  },
  {
    method: 'DELETE',
    path: '/user/properties/:propertyKey',
    operation: 'jira.deleteUserProperty',
    needs: 'existing',
    ok: 204,
  },
];

const JIRA_ROUTES: JiraRouteRow[] = [
  '/rest/api/2',
  '/rest/api/3',
  '/ex/jira/:cloudId/rest/api/2',
  '/ex/jira/:cloudId/rest/api/3',
].flatMap((prefix) => JIRA_PATHS.map(({ path, ...row }) => ({ ...row, pattern: `${prefix}${path}` })));

/** Confluence user properties under the OAuth gateway (docs/behaviour.md §1), tested by the gateway suite at the end of this file. */
const CONFLUENCE_GATEWAY_ROUTES: RouteRow[] = [
  '/ex/confluence/:cloudId/wiki/rest/api',
  '/ex/confluence/:cloudId/rest/api',
].flatMap((prefix) => CONFLUENCE_ROUTES.map(({ path, ...row }) => ({ ...row, pattern: `${prefix}${path}` })));

/**
 * The administration API (docs/behaviour.md §9): site admins only. Anonymous callers get
 * 401 even where the site allows them; everyone else, apps included, 403.
 * Tested by the suite at the end of this file.
 */
interface AdminRouteRow {
  method: Method | 'PATCH';
  pattern: string;
  body?: unknown;
}

const ADMIN_ROUTES: AdminRouteRow[] = [
  { method: 'GET', pattern: '/admin/api/site' },
  { method: 'PATCH', pattern: '/admin/api/site', body: {} },
  { method: 'GET', pattern: '/admin/api/users' },
  { method: 'POST', pattern: '/admin/api/users', body: {} },
  { method: 'GET', pattern: '/admin/api/users/:accountId' },
  { method: 'PATCH', pattern: '/admin/api/users/:accountId', body: {} },
  { method: 'DELETE', pattern: '/admin/api/users/:accountId' },
  { method: 'POST', pattern: '/admin/api/users/:accountId/tokens', body: {} },
  { method: 'GET', pattern: '/admin/api/users/:accountId/tokens' },
  { method: 'DELETE', pattern: '/admin/api/tokens/:id' },
  { method: 'GET', pattern: '/admin/api/groups' },
  { method: 'POST', pattern: '/admin/api/groups', body: {} },
  { method: 'DELETE', pattern: '/admin/api/groups/:name' },
  { method: 'GET', pattern: '/admin/api/groups/:name/members' },
  { method: 'PUT', pattern: '/admin/api/groups/:name/members/:accountId' },
  { method: 'DELETE', pattern: '/admin/api/groups/:name/members/:accountId' },
  { method: 'GET', pattern: '/admin/api/apps' },
  { method: 'POST', pattern: '/admin/api/apps', body: {} },
  { method: 'GET', pattern: '/admin/api/apps/:key' },
  { method: 'PATCH', pattern: '/admin/api/apps/:key', body: {} },
  { method: 'DELETE', pattern: '/admin/api/apps/:key' },
  { method: 'GET', pattern: '/admin/api/spaces' },
  { method: 'POST', pattern: '/admin/api/spaces', body: {} },
  { method: 'GET', pattern: '/admin/api/spaces/:key' },
  { method: 'PATCH', pattern: '/admin/api/spaces/:key', body: {} },
  { method: 'DELETE', pattern: '/admin/api/spaces/:key' },
  { method: 'GET', pattern: '/admin/api/content' },
  { method: 'POST', pattern: '/admin/api/content', body: {} },
  { method: 'GET', pattern: '/admin/api/content/:id' },
  { method: 'PATCH', pattern: '/admin/api/content/:id', body: {} },
  { method: 'DELETE', pattern: '/admin/api/content/:id' },
];

/**
 * Content, label and space watches (docs/behaviour.md §1, §3 "Watches") under every
 * Confluence prefix, the gateway forms included. `target` is a fixture
 * content id, label or space mia may view (test/helpers/fixture.ts,
 * WATCH_SPACES). Tested by the suite at the end of this file.
 */
interface WatchRouteRow {
  method: Method;
  pattern: string;
  operation: OperationId;
  target: string;
  ok: number;
}

const WATCH_PATHS: Array<Omit<WatchRouteRow, 'pattern'> & { path: string }> = [
  {
    method: 'GET',
    path: '/user/watch/content/:contentId',
    operation: 'confluence.getContentWatchStatus',
    target: '1001',
    ok: 200,
  },
  {
    method: 'POST',
    path: '/user/watch/content/:contentId',
    operation: 'confluence.addContentWatcher',
    target: '1001',
    ok: 204,
  },
  {
    method: 'DELETE',
    path: '/user/watch/content/:contentId',
    operation: 'confluence.removeContentWatcher',
    target: '1001',
    ok: 204,
  },
  {
    method: 'GET',
    path: '/user/watch/label/:labelName',
    operation: 'confluence.isWatchingLabel',
    target: 'release',
    ok: 200,
  },
  {
    method: 'POST',
    path: '/user/watch/label/:labelName',
    operation: 'confluence.addLabelWatcher',
    target: 'release',
    ok: 204,
  },
  {
    method: 'DELETE',
    path: '/user/watch/label/:labelName',
    operation: 'confluence.removeLabelWatcher',
    target: 'release',
    ok: 204,
  },
  {
    method: 'GET',
    path: '/user/watch/space/:spaceKey',
    operation: 'confluence.isWatchingSpace',
    target: 'ENG',
    ok: 200,
  },
  {
    method: 'POST',
    path: '/user/watch/space/:spaceKey',
    operation: 'confluence.addSpaceWatcher',
    target: 'ENG',
    ok: 204,
  },
  {
    method: 'DELETE',
    path: '/user/watch/space/:spaceKey',
    operation: 'confluence.removeSpaceWatch',
    target: 'ENG',
    ok: 204,
  },
];

const WATCH_ROUTES: WatchRouteRow[] = DIRECTORY_PREFIXES.flatMap((prefix) =>
  WATCH_PATHS.map(({ path, ...row }) => ({ ...row, pattern: `${prefix}${path}` })),
);

const MIA = USERS.mia.accountId;
const json = { 'content-type': 'application/json' };
const now = () => Math.floor(Date.now() / 1000);

let counter = 0;
const freshKey = (tag: string) => `${tag}-${++counter}`;

function urlOf(row: RouteRow, key: string, accountId: string = MIA): string {
  return row.pattern.replace(':userId', accountId).replace(':key', key);
}

/** The same request target with the `/wiki` context path toggled (docs/behaviour.md §3 accepts both in a qsh). */
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

    function call(
      row: RouteRow,
      key: string,
      headers: Record<string, string>,
      options: { accountId?: string; query?: string } = {},
    ) {
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
      const user = (Object.keys(USERS) as Array<keyof typeof USERS>).find(
        (name) => USERS[name].accountId === accountId,
      )!;
      const headers = owner === 'user' ? basic(user) : connectJwt(APPS[owner], 'POST', url);
      const response = await fx.app.inject({
        method: 'POST',
        url,
        headers: { ...json, ...headers },
        payload: JSON.stringify({ value }),
      });
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
      const inTable = new Set(
        [
          ...ROUTES,
          ...DIRECTORY_ROUTES,
          ...JIRA_ROUTES,
          ...CONFLUENCE_GATEWAY_ROUTES,
          ...ADMIN_ROUTES,
          ...WATCH_ROUTES,
        ].map((row) => `${row.method} ${row.pattern}`),
      );
      const missing = served
        .filter((route) => route.method !== 'HEAD' && !isPublicRoute(route))
        .map((route) => `${route.method} ${route.pattern}`)
        .filter((route) => !inTable.has(route));
      assert.deepEqual(missing, [], 'add a row to ROUTES in test/security.test.ts for each of these');
      for (const row of ROUTES)
        assert.ok(
          fx.app.hasRoute({ method: row.method, url: row.pattern }),
          `${row.method} ${row.pattern} is not served`,
        );
    });

    test('every protected route, HEAD included, is 401 for anonymous callers and bad credentials', async () => {
      const cloudId = await cloudIdOf(fx);
      for (const route of servedRoutes(fx.app).filter((r) => !isPublicRoute(r))) {
        const url = route.pattern
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
          const anonymous = url.startsWith('/admin/api/')
            ? /the administration API is for site admins/
            : /does not allow anonymous access/;
          if (method !== 'HEAD') assertError(response, 401, headers.authorization ? /./ : anonymous);
        }
      }
    });

    for (const row of ROUTES) {
      describe(`${row.method} ${row.pattern}`, () => {
        const scopes = OPERATION_SCOPES[row.operation];

        test('401: no credentials, bad Basic credentials, a deactivated user, two credentials, unknown schemes', async () => {
          const key = await prepare(row, 'user');
          assertConfluenceError(
            await call(row, key, {}),
            401,
            /Authentication required: this site does not allow anonymous access/,
          );

          const invalid = /Basic authentication failed: the email or API token is not valid/;
          assertCredentialRejected(await call(row, key, basicAuth(USERS.mia.email, 'wrong-token-000')), invalid);
          assertCredentialRejected(await call(row, key, basicAuth(USERS.noah.email, USERS.mia.token)), invalid);
          assertCredentialRejected(await call(row, key, basicAuth('unknown@example.com', USERS.mia.token)), invalid);

          const malformed = /Basic authentication failed: expected base64\(email:apiToken\)/;
          assertCredentialRejected(
            await call(row, key, { authorization: `Basic ${base64(`${USERS.mia.email}${USERS.mia.token}`)}` }),
            malformed,
          );
          assertCredentialRejected(await call(row, key, basicAuth('', USERS.mia.token)), malformed);
          assertCredentialRejected(await call(row, key, { authorization: 'Basic' }), malformed);

          // A deactivated user's valid token (docs/behaviour.md §2), on their own data.
          assertCredentialRejected(
            await call(row, key, basic('gone'), { accountId: USERS.gone.accountId }),
            /the account is deactivated/,
          );

          const token = connectJwtToken(APPS.notes, row.method, urlOf(row, key));
          assertCredentialRejected(
            await call(row, key, basic('mia'), { query: `?jwt=${token}` }),
            /Send one credential: both an Authorization header and a jwt query parameter/,
          );
          assertCredentialRejected(
            await call(row, key, { authorization: 'Digest x' }),
            /Unsupported Authorization scheme "digest"/,
          );
          assertCredentialRejected(
            await call(row, key, { authorization: 'Negotiate abc' }),
            /Unsupported Authorization scheme "negotiate"/,
          );
          assertCredentialRejected(await call(row, key, { authorization: 'Bearer anything' }), /Bearer token rejected/);
        });

        test('401: Connect JWTs that are expired, for another request, forged or malformed', async () => {
          const key = await prepare(row, 'notes');
          const url = urlOf(row, key);
          const jwt = (claims: Record<string, unknown>, secret?: string) =>
            connectJwt(APPS.notes, row.method, url, claims, secret);
          const rejected = async (headers: Record<string, string>, pattern: RegExp, query?: string) =>
            assertCredentialRejected(await call(row, key, headers, { query }), pattern);

          // Beyond the 30 s leeway, in the header and in the query.
          await rejected(jwt({ iat: now() - 300, exp: now() - 60 }), /JWT rejected: the token has expired/);
          await rejected(
            {},
            /JWT rejected: the token has expired/,
            `?jwt=${connectJwtToken(APPS.notes, row.method, url, { iat: now() - 300, exp: now() - 90 })}`,
          );
          await rejected(jwt({ exp: undefined }), /JWT rejected: the exp claim is missing or invalid/);

          // A qsh for another path, another method, or no qsh at all.
          await rejected(
            jwt({
              qsh: queryStringHash(row.method, urlOf(row, 'other-key', USERS.noah.accountId)),
            }),
            /the qsh claim does not match this request/,
          );
          await rejected(
            jwt({ qsh: queryStringHash(row.method === 'GET' ? 'DELETE' : 'GET', url) }),
            /the qsh claim does not match this request/,
          );
          await rejected(jwt({ qsh: 'deadbeef' }), /the qsh claim does not match this request/);
          await rejected(jwt({ qsh: undefined }), /JWT rejected: the qsh claim is missing or invalid/);

          // Signed with another app's secret while naming notes; unknown issuers; no issuer.
          await rejected(
            jwt({}, APPS.tasks.sharedSecret),
            /the signature does not verify with the app's shared secret/,
          );
          await rejected(
            jwt({ iss: 'com.example.unknown' }),
            /no app is installed with key or clientKey "com\.example\.unknown"/,
          );
          await rejected(
            jwt({ iss: 'com.example.unknown' }, 'a-secret-nobody-installed-of-32-chars!'),
            /no app is installed/,
          );
          await rejected(jwt({ iss: undefined }), /the iss claim is missing/);

          // Audience that does not name the installation.
          await rejected(jwt({ aud: 'someone-else' }), /aud does not name this installation/);
          await rejected(jwt({ aud: ['someone-else', APPS.tasks.clientKey] }), /aud does not name this installation/);

          // Not HS256, unsigned, or not a JWT at all.
          const payload = {
            iss: APPS.notes.key,
            iat: now(),
            exp: now() + 180,
            qsh: queryStringHash(row.method, url),
          };
          await rejected({ authorization: `JWT ${unsignedJwt(payload)}` }, /only HS256 is accepted/);
          await rejected(
            { authorization: `JWT ${encodeSymmetric(payload, APPS.notes.sharedSecret, 'HS512' as never)}` },
            /only HS256 is accepted/,
          );
          await rejected({ authorization: 'JWT garbage' }, /the token is malformed/);
          await rejected({ authorization: 'JWT a.b.c' }, /the token is malformed/);
          await rejected({ authorization: 'JWT' }, /the token is malformed/);
          await rejected({}, /the token is malformed/, '?jwt=garbage');
          await rejected(
            {},
            /Send one jwt query parameter/,
            `?jwt=${connectJwtToken(APPS.notes, row.method, url)}&jwt=x`,
          );
          // A tampered payload no longer matches its signature.
          const [head, , signature] = connectJwtToken(APPS.notes, row.method, url).split('.');
          const tampered = Buffer.from(
            JSON.stringify({ ...payload, iss: APPS.notes.key, exp: now() + 99999 }),
          ).toString('base64url');
          await rejected({ authorization: `JWT ${head}.${tampered}.${signature}` }, /the signature does not verify/);
        });

        test('Connect JWTs: leeway, qsh with or without /wiki, the jwt parameter, iss = clientKey, aud', async () => {
          const accepted = async (
            label: string,
            make: (url: string) => { headers?: Record<string, string>; query?: string },
          ) => {
            const key = await prepare(row, 'notes');
            const { headers = {}, query } = make(urlOf(row, key));
            const response = await call(row, key, headers, { query });
            assert.equal(response.statusCode, row.ok, `${label}: ${response.body}`);
          };
          const header = (token: string) => ({ headers: { authorization: `JWT ${token}` } });

          await accepted('a fresh JWT', (url) => header(connectJwtToken(APPS.notes, row.method, url)));
          await accepted('expired 10 s ago, within the 30 s leeway', (url) =>
            header(connectJwtToken(APPS.notes, row.method, url, { iat: now() - 200, exp: now() - 10 })),
          );
          await accepted('qsh on the other context path', (url) =>
            header(connectJwtToken(APPS.notes, row.method, otherContext(url))),
          );
          await accepted('the jwt query parameter', (url) => ({
            query: `?jwt=${connectJwtToken(APPS.notes, row.method, url)}`,
          }));
          await accepted('iss = clientKey', (url) =>
            header(connectJwtToken(APPS.notes, row.method, url, { iss: APPS.notes.clientKey })),
          );
          await accepted('aud = clientKey', (url) =>
            header(connectJwtToken(APPS.notes, row.method, url, { aud: APPS.notes.clientKey })),
          );
          await accepted('aud lists the clientKey', (url) =>
            header(connectJwtToken(APPS.notes, row.method, url, { aud: ['other', APPS.notes.clientKey] })),
          );
        });

        test("app isolation: another app, and the user without an app, never reach the notes app's property", async () => {
          const key = freshKey('iso');
          const marker = `notes-only-${key}`;
          await createProperty('notes', key, { marker });

          const others: Array<[string, Record<string, string>]> = [
            ['tasks', connectJwt(APPS.tasks, row.method, urlOf(row, key))],
            ['mia without an app', basic('mia')],
            // An admin shares mia's namespace "", where the create above already made the key.
            ...(row.needs === 'absent'
              ? []
              : [['an admin without an app', basic('admin')] as [string, Record<string, string>]]),
          ];
          for (const [who, headers] of others) {
            const response = await call(row, key, headers);
            assertNoStackTrace(response);
            assert.doesNotMatch(response.body, new RegExp(marker), `${who} saw the notes app's value`);
            if (row.needs === 'existing') {
              assertConfluenceError(response, 404, new RegExp(`Property "${key}" does not exist`));
            } else {
              assert.equal(response.statusCode, row.ok, `${who}: ${response.body}`);
              if (row.needs === 'nothing')
                assert.ok(
                  !response.json().results.some((r: { key: string }) => r.key === key),
                  `${who} listed the notes app's key`,
                );
            }
          }
          const own = `/wiki/rest/api/user/${MIA}/property/${key}`;
          const notes = await fx.app.inject({ method: 'GET', url: own, headers: connectJwt(APPS.notes, 'GET', own) });
          assert.equal(notes.statusCode, 200);
          assert.deepEqual(notes.json().value, { marker }, "the notes app's property is untouched");
        });

        test("403: another user's data, an unknown user for non-admins, and users outside can-use", async () => {
          const key = await prepare(row, 'user');
          const onlyOwn = /You may not access the properties of user 712020:mia: only your own/;
          assertConfluenceError(await call(row, key, basic('noah')), 403, onlyOwn);
          // Not 404: a non-admin learns nothing about which accounts exist (docs/behaviour.md §3).
          assertConfluenceError(
            await call(row, key, basic('noah'), { accountId: '712020:nobody' }),
            403,
            /properties of user 712020:nobody: only your own/,
          );
          // The outsider is refused even on their own data, before anything else is looked at.
          const outsider = USERS.outsider.accountId;
          assertConfluenceError(
            await call(row, key, basic('outsider'), { accountId: outsider }),
            403,
            /User 712020:outsider may not use this site: not a member of confluence-users or confluence-admins/,
          );
          assertConfluenceError(await call(row, key, basic('outsider')), 403, /may not use this site/);
        });

        test(`scopes: an app holding only READ ${scopes.connect === 'READ' ? 'may call' : 'is refused'} this ${scopes.connect} operation`, async () => {
          const key = freshKey('scope');
          const response = await call(row, key, connectJwt(APPS.reader, row.method, urlOf(row, key)));
          if (scopes.connect === 'READ') {
            // The reader app cannot create, so its namespace is empty: 404 or an empty list.
            if (row.needs === 'existing') assertConfluenceError(response, 404, /does not exist/);
            else assert.equal(response.statusCode, row.ok, response.body);
          } else {
            const body = assertConfluenceError(
              response,
              403,
              new RegExp(`App com\\.example\\.reader lacks the scope for this operation: it needs ${scopes.connect}`),
            );
            for (const scope of scopes.oauth) assert.ok(body.message.includes(scope), `the message names ${scope}`);
          }
          // Connect's nesting: WRITE covers READ, so the tasks app (WRITE only) passes every property operation.
          const tasks = await call(row, key, connectJwt(APPS.tasks, row.method, urlOf(row, key)));
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
        // Properties are not among the routes anonymous callers may read (docs/behaviour.md §3).
        assertConfluenceError(await send({}), 401, /anonymous callers may only read users and groups/);
        assertCredentialRejected(
          await send(basicAuth('mia@example.com', 'wrong-token-000')),
          /email or API token is not valid/,
        );
        assertCredentialRejected(await send(basic('gone')), /deactivated/);
        assertCredentialRejected(
          await send(connectJwt(APPS.notes, row.method, url, { iat: now() - 300, exp: now() - 60 })),
          /expired/,
        );
        assertCredentialRejected(
          await send({}, `?jwt=${connectJwtToken(APPS.notes, row.method, url, { iat: now() - 300, exp: now() - 60 })}`),
          /expired/,
        );
        assertCredentialRejected(await send({ authorization: 'JWT garbage' }), /malformed/);
        assertCredentialRejected(await send({ authorization: 'Bearer anything' }), /Bearer token rejected/);
        assertCredentialRejected(await send({ authorization: 'Digest x' }), /Unsupported Authorization scheme/);
        assertCredentialRejected(await send({ authorization: '' }), /Unsupported Authorization scheme|Authorization/);
      }
    });
  });
}

/** The user directory's rows (DIRECTORY_ROUTES), on both stores, on a closed site and on one open to anonymous callers. */
for (const kind of STORE_KINDS) {
  describe(`security of the user directory on ${kind}`, () => {
    let fx: Fixture;
    let open: Fixture;
    const cloudIds = new Map<Fixture, string>();
    before(async () => {
      [fx, open] = await Promise.all([startFixture(kind), startFixture(kind, { anonymousAccess: true })]);
      await Promise.all([fx, open].map(loadDirectoryFixture));
      for (const f of [fx, open])
        cloudIds.set(f, (await f.app.inject({ method: 'GET', url: '/_edge/tenant_info' })).json().cloudId);
    });
    after(() => Promise.all([fx, open].map((f) => f.close())));

    const { mailer, emailOnly } = DIRECTORY_APPS;
    /** The request target on a fixture: its cloudId in gateway paths. */
    const urlOf = (row: DirectoryRouteRow, on: Fixture = fx, query = row.query) =>
      `${row.pattern.replace(':cloudId', cloudIds.get(on)!)}${query}`;
    /** What a Connect qsh covers: the path without the gateway prefix (docs/behaviour.md §3). */
    const qshTarget = (url: string) => url.replace(/^\/ex\/[^/]+\/[^/]+(?=\/)/, '');
    const send = (row: DirectoryRouteRow, headers: Record<string, string>, on: Fixture = fx, query = row.query) =>
      on.app.inject({ method: row.method, url: urlOf(row, on, query), headers });
    const jwtFor = (
      app: { key: string; sharedSecret: string },
      row: DirectoryRouteRow,
      claims: Record<string, unknown> = {},
      url = qshTarget(urlOf(row)),
    ) => connectJwt(app, row.method, url, claims);
    /** The app that may call the row: any READ app, or the email-approved one. */
    const allowedApp = (row: DirectoryRouteRow) =>
      row.apps === 'email' ? mailer : { key: APPS.notes.key, sharedSecret: APPS.notes.sharedSecret };

    for (const row of DIRECTORY_ROUTES) {
      describe(`${row.method} ${row.pattern}`, () => {
        const scopes = OPERATION_SCOPES[row.operation];

        test('is served', () => {
          assert.ok(
            fx.app.hasRoute({ method: row.method, url: row.pattern }),
            `${row.method} ${row.pattern} is not served`,
          );
        });

        test('401: no credentials on a closed site, bad or deactivated credentials, two credentials, unknown schemes', async () => {
          assertConfluenceError(
            await send(row, {}),
            401,
            /Authentication required: this site does not allow anonymous access/,
          );
          for (const on of [fx, open]) {
            assertCredentialRejected(
              await send(row, basicAuth(USERS.mia.email, 'wrong-token-000'), on),
              /the email or API token is not valid/,
            );
            assertCredentialRejected(await send(row, basic('gone'), on), /the account is deactivated/);
            assertCredentialRejected(
              await send(row, { authorization: 'Digest x' }, on),
              /Unsupported Authorization scheme "digest"/,
            );
            assertCredentialRejected(
              await send(row, { authorization: 'Bearer anything' }, on),
              /Bearer token rejected/,
            );
            const token = connectJwtToken(APPS.notes, row.method, qshTarget(urlOf(row, on)));
            const both = `${row.query}${row.query === '' ? '?' : '&'}jwt=${token}`;
            assertCredentialRejected(await send(row, basic('mia'), on, both), /Send one credential/);
          }
        });

        test('401: Connect JWTs that are expired, forged, for another request or from unknown apps', async () => {
          const app = allowedApp(row);
          const rejected = async (headers: Record<string, string>, pattern: RegExp) =>
            assertCredentialRejected(await send(row, headers), pattern);
          await rejected(jwtFor(app, row, { iat: now() - 300, exp: now() - 60 }), /the token has expired/);
          await rejected(
            jwtFor(app, row, {
              qsh: queryStringHash('GET', `${qshTarget(urlOf(row, fx, ''))}?other=1`),
            }),
            /the qsh claim does not match/,
          );
          await rejected(
            connectJwt({ key: app.key, sharedSecret: APPS.tasks.sharedSecret }, row.method, qshTarget(urlOf(row))),
            /the signature does not verify/,
          );
          await rejected(
            jwtFor({ key: 'com.example.unknown', sharedSecret: app.sharedSecret }, row),
            /no app is installed/,
          );
          await rejected({ authorization: 'JWT garbage' }, /the token is malformed/);
        });

        test('Connect JWTs: accepted with or without /wiki in the qsh, and as the jwt parameter', async () => {
          const app = allowedApp(row);
          const url = qshTarget(urlOf(row));
          const other = url.startsWith('/wiki/') ? url.slice('/wiki'.length) : `/wiki${url}`;
          const expected = row.apps === 'closed' ? 403 : 200;
          for (const headers of [jwtFor(app, row), jwtFor(app, row, {}, other)]) {
            const response = await send(row, headers);
            assert.equal(response.statusCode, expected, response.body);
          }
          const token = jwtFor(app, row).authorization!.slice('JWT '.length);
          const viaQuery = await send(row, {}, fx, `${row.query}${row.query === '' ? '?' : '&'}jwt=${token}`);
          assert.equal(viaQuery.statusCode, expected, viaQuery.body);
        });

        test('403: users outside "Can use", on a closed site and an open one', async () => {
          for (const on of [fx, open]) {
            assertConfluenceError(
              await send(row, basic('outsider'), on),
              403,
              /User 712020:outsider may not use this site/,
            );
          }
          // Inside "Can use", users are not scope-limited (the email API refuses them later, with 400).
          const mia = await send(row, basic('mia'));
          assert.equal(mia.statusCode, row.apps === 'email' ? 400 : 200, mia.body);
        });

        test(`scopes: ${scopes.connect} or ${scopes.oauth.join(' or ')}`, async () => {
          const lacking =
            row.apps === 'email' ? { key: APPS.notes.key, sharedSecret: APPS.notes.sharedSecret } : emailOnly;
          const body = assertConfluenceError(
            await send(row, jwtFor(lacking, row)),
            403,
            new RegExp(`lacks the scope for this operation: it needs ${scopes.connect}`),
          );
          for (const scope of scopes.oauth) assert.ok(body.message.includes(scope), `the message names ${scope}`);
          if (row.apps === 'closed') {
            // Every app is refused, whatever its scopes.
            for (const app of [mailer, { key: APPS.notes.key, sharedSecret: APPS.notes.sharedSecret }]) {
              assertConfluenceError(await send(row, jwtFor(app, row)), 403, /Apps cannot use GET \/user\/bulk/);
            }
          }
        });

        test(`anonymous callers on a site that allows them: ${row.anonymous ? '200, with no email' : '401'}`, async () => {
          const response = await send(row, {}, open);
          if (row.anonymous) {
            assert.equal(response.statusCode, 200, response.body);
            assert.doesNotMatch(response.body, /@/, 'an anonymous caller saw an email address');
          } else {
            assertConfluenceError(response, 401, /anonymous callers may only read users and groups/);
          }
        });
      });
    }

    test("directory users see each other's emails only as their visibility allows", async () => {
      // One spot check per visibility through a row-independent route; users.test.ts has the full matrix.
      const read = async (accountId: string, headers: Record<string, string>) =>
        (await fx.app.inject({ method: 'GET', url: `/wiki/rest/api/user?accountId=${accountId}`, headers })).json()
          .email;
      assert.equal(await read(DIRECTORY_USERS.ada.accountId, basic('noah')), DIRECTORY_USERS.ada.email);
      assert.equal(await read(DIRECTORY_USERS.grace.accountId, basic('admin')), '');
      assert.equal(
        await read(
          DIRECTORY_USERS.grace.accountId,
          basicAuth(DIRECTORY_USERS.grace.email, DIRECTORY_USERS.grace.token),
        ),
        DIRECTORY_USERS.grace.email,
      );
    });
  });
}

/** The administration API's rows (ADMIN_ROUTES), on both stores: admins only, whatever the site allows anonymous callers. */
for (const kind of STORE_KINDS) {
  describe(`security of the administration API on ${kind}`, () => {
    let fx: Fixture;
    let open: Fixture;
    /** An admin who was deactivated: their valid token must not authenticate. */
    let formerAdmin: Record<string, string>;
    before(async () => {
      [fx, open] = await Promise.all([startFixture(kind), startFixture(kind, { anonymousAccess: true })]);
      const adminJson = { ...basic('admin'), 'content-type': 'application/json' };
      const created = await fx.app.inject({
        method: 'POST',
        url: '/admin/api/users',
        headers: adminJson,
        payload: JSON.stringify({
          email: 'former-admin@example.com',
          displayName: 'Former Admin',
          groups: ['confluence-admins'],
        }),
      });
      assert.equal(created.statusCode, 201, created.body);
      const { accountId } = created.json();
      const token = await fx.app.inject({
        method: 'POST',
        url: `/admin/api/users/${accountId}/tokens`,
        headers: adminJson,
        payload: '{}',
      });
      const deactivated = await fx.app.inject({
        method: 'PATCH',
        url: `/admin/api/users/${accountId}`,
        headers: adminJson,
        payload: '{"active":false}',
      });
      assert.equal(deactivated.statusCode, 200, deactivated.body);
      formerAdmin = basicAuth('former-admin@example.com', token.json().token);
    });
    after(() => Promise.all([fx, open].map((f) => f.close())));

    /** Placeholders that name nothing, so an admin's call changes nothing. */
    const urlOf = (row: AdminRouteRow) =>
      row.pattern
        .replace(':accountId', '712020:nobody')
        .replace(':name', 'no-such-group')
        .replace(':id', '00000000-0000-4000-8000-000000000000')
        .replace(':key', 'com.example.nothing');
    const send = (row: AdminRouteRow, headers: Record<string, string>, on: Fixture = fx) =>
      on.app.inject({
        method: row.method,
        url: urlOf(row),
        headers: row.body === undefined ? headers : { ...json, ...headers },
        payload: row.body === undefined ? undefined : JSON.stringify(row.body),
      });

    for (const row of ADMIN_ROUTES) {
      describe(`${row.method} ${row.pattern}`, () => {
        test('is served', () => {
          assert.ok(
            fx.app.hasRoute({ method: row.method, url: row.pattern }),
            `${row.method} ${row.pattern} is not served`,
          );
        });

        test('401: anonymous callers, even where the site allows them; bad, deactivated and doubled credentials', async () => {
          for (const on of [fx, open]) {
            assertConfluenceError(
              await send(row, {}, on),
              401,
              /^Authentication required: the administration API is for site admins$/,
            );
            assertCredentialRejected(
              await send(row, basicAuth(USERS.admin.email, 'wrong-token-000'), on),
              /the email or API token is not valid/,
            );
            assertCredentialRejected(
              await send(row, basicAuth(USERS.mia.email, USERS.admin.token), on),
              /the email or API token is not valid/,
            );
            assertCredentialRejected(
              await send(row, { authorization: 'Digest x' }, on),
              /Unsupported Authorization scheme "digest"/,
            );
            assertCredentialRejected(
              await send(row, { authorization: 'Bearer anything' }, on),
              /Bearer token rejected/,
            );
            assertCredentialRejected(await send(row, { authorization: 'JWT garbage' }, on), /the token is malformed/);
          }
          assertCredentialRejected(await send(row, formerAdmin), /the account is deactivated/);
          const both = await fx.app.inject({
            method: row.method,
            url: `${urlOf(row)}?jwt=${connectJwtToken(APPS.notes, row.method, urlOf(row))}`,
            headers: basic('admin'),
          });
          assertCredentialRejected(both, /Send one credential/);
        });

        test('403: users who are not admins, and every app, whatever its scopes', async () => {
          const refused = /^Only site admins may use the administration API$/;
          for (const user of ['mia', 'noah', 'outsider'] as const)
            assertConfluenceError(await send(row, basic(user)), 403, refused);
          for (const app of Object.keys(APPS) as AppName[]) {
            assertConfluenceError(await send(row, connectJwt(APPS[app], row.method, urlOf(row))), 403, refused);
            // Also through the jwt query parameter.
            const viaQuery = await fx.app.inject({
              method: row.method,
              url: `${urlOf(row)}?jwt=${connectJwtToken(APPS[app], row.method, urlOf(row))}`,
            });
            assertConfluenceError(viaQuery, 403, refused);
          }
        });

        test('an admin passes authentication and authorisation', async () => {
          const response = await send(row, basic('admin'));
          assertNoStackTrace(response);
          assert.ok(![401, 403, 500].includes(response.statusCode), `${response.statusCode}: ${response.body}`);
        });
      });
    }
  });
}

/**
 * Jira user properties (JIRA_ROUTES) and the gateway forms of Confluence's
 * (CONFLUENCE_GATEWAY_ROUTES), on both stores. Jira has one namespace per
 * user shared by every caller, so where Confluence's suite checks app
 * isolation this one checks that every permitted caller sees the same data.
 */
for (const kind of STORE_KINDS) {
  describe(`security of Jira user properties and the gateway forms on ${kind}`, () => {
    let fx: Fixture;
    let open: Fixture;
    let cloudId: string;
    before(async () => {
      // Every test writes fresh keys for mia; the property limit is not what is tested here.
      [fx, open] = await Promise.all([
        startFixture(kind, { maxPropertiesPerUser: 100000 }),
        startFixture(kind, { anonymousAccess: true }),
      ]);
      cloudId = await cloudIdOf(fx);
    });
    after(() => Promise.all([fx, open].map((f) => f.close())));

    let counter = 0;
    const freshKey = (tag: string) => `${tag}-${++counter}`;
    /** What a Connect qsh covers: the path without the gateway prefix (docs/behaviour.md §3). */
    const qshTarget = (url: string) => url.replace(/^\/ex\/[^/]+\/[^/]+(?=\/)/, '');
    const isGateway = (pattern: string) => pattern.startsWith('/ex/');

    describe('Jira rows', () => {
      const jiraUrl = (row: JiraRouteRow, key: string, accountId: string = MIA) =>
        `${row.pattern.replace(':cloudId', cloudId).replace(':propertyKey', encodeURIComponent(key))}?accountId=${accountId}`;
      const call = (row: JiraRouteRow, url: string, headers: Record<string, string>, on: Fixture = fx) =>
        on.app.inject({
          method: row.method,
          url,
          headers: row.body === undefined ? headers : { ...json, ...headers },
          payload: row.body,
        });
      const jwtAs = (app: AppName, row: JiraRouteRow, url: string, claims: Record<string, unknown> = {}) =>
        connectJwt(APPS[app], row.method, qshTarget(url), claims);

      /** A key in the state the row needs, written by `writer` (Jira's namespace is the same for every writer). */
      async function prepare(
        row: JiraRouteRow,
        writer: AppName | 'user' = 'user',
        accountId: string = MIA,
      ): Promise<string> {
        const key = freshKey('jira-sec');
        if (row.needs !== 'existing') return key;
        const url = `/rest/api/3/user/properties/${key}?accountId=${accountId}`;
        const user = (Object.keys(USERS) as Array<keyof typeof USERS>).find(
          (name) => USERS[name].accountId === accountId,
        )!;
        const headers = writer === 'user' ? basic(user) : connectJwt(APPS[writer], 'PUT', url);
        const response = await fx.app.inject({
          method: 'PUT',
          url,
          headers: { ...json, ...headers },
          payload: '{"prepared":true}',
        });
        assert.equal(response.statusCode, 201, response.body);
        return key;
      }

      function assertOk(row: JiraRouteRow, response: Reply, caller: string, who: string): void {
        assert.equal(response.statusCode, row.ok, `${who}: ${response.body}`);
        assert.equal(response.headers['x-aaccountid'], caller, `${who}: X-AAccountId`);
      }

      /** 401 about the credential, never the anonymous refusal, and no X-AAccountId: nobody was authenticated. */
      function assertJiraCredentialRejected(response: Reply, pattern: RegExp): void {
        const body = assertJiraError(response, 401, pattern);
        assert.doesNotMatch(body.errorMessages[0], /anonymous/i, 'a bad credential was treated as no credential');
        assert.equal(response.headers['x-aaccountid'], undefined);
      }

      for (const row of JIRA_ROUTES) {
        describe(`${row.method} ${row.pattern}`, () => {
          const scopes = OPERATION_SCOPES[row.operation];

          test('is served', () => {
            assert.ok(
              fx.app.hasRoute({ method: row.method, url: row.pattern }),
              `${row.method} ${row.pattern} is not served`,
            );
          });

          test('401: no credentials, bad Basic credentials, a deactivated user, two credentials, unknown schemes', async () => {
            const key = await prepare(row);
            const url = jiraUrl(row, key);
            const anonymous = await call(row, url, {});
            assertJiraError(anonymous, 401, /Authentication required: this site does not allow anonymous access/);
            assert.equal(anonymous.headers['x-aaccountid'], undefined);
            assertJiraCredentialRejected(
              await call(row, url, basicAuth(USERS.mia.email, 'wrong-token-000')),
              /the email or API token is not valid/,
            );
            assertJiraCredentialRejected(
              await call(row, url, basicAuth(USERS.noah.email, USERS.mia.token)),
              /the email or API token is not valid/,
            );
            assertJiraCredentialRejected(
              await call(row, url, { authorization: 'Basic' }),
              /expected base64\(email:apiToken\)/,
            );
            assertJiraCredentialRejected(
              await call(row, jiraUrl(row, key, USERS.gone.accountId), basic('gone')),
              /the account is deactivated/,
            );
            assertJiraCredentialRejected(
              await call(row, `${url}&jwt=${connectJwtToken(APPS.notes, row.method, qshTarget(url))}`, basic('mia')),
              /Send one credential/,
            );
            assertJiraCredentialRejected(
              await call(row, url, { authorization: 'Digest x' }),
              /Unsupported Authorization scheme "digest"/,
            );
            assertJiraCredentialRejected(
              await call(row, url, { authorization: 'Bearer anything' }),
              /Bearer token rejected/,
            );
          });

          test('401: Connect JWTs that are expired, for another request, forged or malformed', async () => {
            const key = await prepare(row);
            const url = jiraUrl(row, key);
            const rejected = async (headers: Record<string, string>, pattern: RegExp, target = url) =>
              assertJiraCredentialRejected(await call(row, target, headers), pattern);
            await rejected(jwtAs('notes', row, url, { iat: now() - 300, exp: now() - 60 }), /the token has expired/);
            await rejected(
              {},
              /the token has expired/,
              `${url}&jwt=${connectJwtToken(APPS.notes, row.method, qshTarget(url), { iat: now() - 300, exp: now() - 90 })}`,
            );
            // The user is in the query: a token for another user's record does not fit this one.
            await rejected(
              jwtAs('notes', row, jiraUrl(row, key, USERS.noah.accountId)),
              /the qsh claim does not match this request/,
            );
            await rejected(
              jwtAs('notes', row, url, {
                qsh: queryStringHash(row.method === 'GET' ? 'DELETE' : 'GET', qshTarget(url)),
              }),
              /the qsh claim does not match/,
            );
            await rejected(
              connectJwt(APPS.notes, row.method, qshTarget(url), {}, APPS.tasks.sharedSecret),
              /the signature does not verify/,
            );
            await rejected(jwtAs('notes', row, url, { iss: 'com.example.unknown' }), /no app is installed/);
            await rejected(jwtAs('notes', row, url, { aud: 'someone-else' }), /aud does not name this installation/);
            await rejected({ authorization: 'JWT garbage' }, /the token is malformed/);
            if (isGateway(row.pattern)) {
              // The qsh covers the path without the gateway prefix; one over the full path names another request.
              await rejected(connectJwt(APPS.notes, row.method, url), /the qsh claim does not match this request/);
            }
          });

          test("Connect JWTs are accepted in the header and as the jwt parameter, and the caller is the app's bot", async () => {
            for (const [label, make] of [
              ['a fresh JWT', (url: string) => ({ headers: jwtAs('notes', row, url), target: url })],
              [
                'iss = clientKey',
                (url: string) => ({ headers: jwtAs('notes', row, url, { iss: APPS.notes.clientKey }), target: url }),
              ],
              [
                'the jwt parameter',
                (url: string) => ({
                  headers: {},
                  target: `${url}&jwt=${connectJwtToken(APPS.notes, row.method, qshTarget(url))}`,
                }),
              ],
            ] as Array<[string, (url: string) => { headers: Record<string, string>; target: string }]>) {
              const key = await prepare(row);
              const { headers, target } = make(jiraUrl(row, key));
              assertOk(row, await call(row, target, headers), APPS.notes.accountId, label);
            }
          });

          test("403: another user's record, an unknown user for non-admins, and users outside can-use; the caller is named", async () => {
            const key = await prepare(row);
            const onlyOwn = /You may not access the properties of user 712020:mia: only your own/;
            const noah = await call(row, jiraUrl(row, key), basic('noah'));
            assertJiraError(noah, 403, onlyOwn);
            assert.equal(noah.headers['x-aaccountid'], USERS.noah.accountId);
            // Not 404: a non-admin learns nothing about which accounts exist (docs/behaviour.md §3).
            assertJiraError(
              await call(row, jiraUrl(row, key, '712020:nobody'), basic('noah')),
              403,
              /properties of user 712020:nobody: only your own/,
            );
            const outsider = await call(row, jiraUrl(row, key, USERS.outsider.accountId), basic('outsider'));
            assertJiraError(
              outsider,
              403,
              /User 712020:outsider may not use this site: not a member of confluence-users or confluence-admins/,
            );
            assert.equal(outsider.headers['x-aaccountid'], USERS.outsider.accountId);
            // Admins reach any user's record.
            assertOk(row, await call(row, jiraUrl(row, key), basic('admin')), USERS.admin.accountId, 'an admin');
          });

          test('one namespace: what one app writes, another app, the user and an admin reach', async () => {
            for (const [who, headers, caller] of [
              ['the tasks app', (url: string) => jwtAs('tasks', row, url), APPS.tasks.accountId],
              ['mia', () => basic('mia'), MIA],
              ['an admin', () => basic('admin'), USERS.admin.accountId],
            ] as Array<[string, (url: string) => Record<string, string>, string]>) {
              if (row.operation === 'jira.deleteUserProperty' && who === 'the tasks app') continue; // needs DELETE, which tasks lacks
              // The list needs nothing, but is only telling with the app's key in it.
              const key = await prepare(row.needs === 'nothing' ? { ...row, needs: 'existing' } : row, 'notes');
              const url = jiraUrl(row, key);
              const response = await call(row, url, headers(url));
              assertOk(row, response, caller, who);
              if (row.operation === 'jira.getUserProperty')
                assert.deepEqual(response.json(), { key, value: { prepared: true } }, who);
              if (row.operation === 'jira.getUserPropertyKeys')
                assert.ok(
                  response.json().keys.some((k: { key: string }) => k.key === key),
                  who,
                );
            }
          });

          test(`scopes: ${scopes.connect}, or ${scopes.oauth.join(' or ')}`, async () => {
            // Connect's nesting: DELETE ⊃ WRITE ⊃ READ. reader holds READ, tasks WRITE, notes DELETE.
            const rank = { READ: 1, WRITE: 2, DELETE: 3, ADMIN: 4, ACCESS_EMAIL_ADDRESSES: 0 }[scopes.connect];
            for (const [app, held] of [
              ['reader', 1],
              ['tasks', 2],
              ['notes', 3],
            ] as Array<[AppName, number]>) {
              const key = await prepare(row);
              const url = jiraUrl(row, key);
              const response = await call(row, url, jwtAs(app, row, url));
              if (held >= rank) {
                assertOk(row, response, APPS[app].accountId, app);
              } else {
                const body = assertJiraError(
                  response,
                  403,
                  new RegExp(
                    `App ${APPS[app].key.replace(/\./g, '\\.')} lacks the scope for this operation: it needs ${scopes.connect}`,
                  ),
                );
                for (const scope of scopes.oauth)
                  assert.ok(body.errorMessages[0].includes(scope), `the message names ${scope}`);
                assert.equal(response.headers['x-aaccountid'], APPS[app].accountId);
              }
            }
          });

          test('on a site open to anonymous callers, Jira properties still need credentials', async () => {
            const openCloudId = await cloudIdOf(open);
            const url = `${row.pattern.replace(':cloudId', openCloudId).replace(':propertyKey', 'anon')}?accountId=${MIA}`;
            assertJiraError(await call(row, url, {}, open), 401, /anonymous callers may only read users and groups/);
            assertJiraCredentialRejected(
              await call(row, url, basicAuth('mia@example.com', 'wrong-token-000'), open),
              /email or API token is not valid/,
            );
            assertJiraCredentialRejected(await call(row, url, basic('gone'), open), /deactivated/);
          });

          if (isGateway(row.pattern)) {
            test('a wrong cloudId is a 404, before credentials', async () => {
              const key = await prepare(row);
              const url = jiraUrl(row, key).replace(cloudId, '00000000-0000-0000-0000-000000000000');
              for (const headers of [{}, basic('mia'), { authorization: 'Digest x' }]) {
                assertJiraError(await call(row, url, headers), 404, /is not this site's cloudId/);
              }
            });
          }
        });
      }
    });

    describe('Confluence rows under the gateway', () => {
      const gatewayUrl = (row: RouteRow, key: string, accountId: string = MIA, id: string = cloudId) =>
        row.pattern.replace(':cloudId', id).replace(':userId', accountId).replace(':key', key);
      const call = (row: RouteRow, url: string, headers: Record<string, string>) =>
        fx.app.inject({
          method: row.method,
          url,
          headers: row.body === undefined ? headers : { ...json, ...headers },
          payload: row.body === undefined ? undefined : JSON.stringify(row.body),
        });

      /** A key in the state the row needs, in namespace "" (user) or the notes app's. */
      async function prepare(row: RouteRow, owner: 'user' | 'notes'): Promise<string> {
        const key = freshKey('gw-sec');
        if (row.needs !== 'existing') return key;
        const url = `/wiki/rest/api/user/${MIA}/property/${key}`;
        const headers = owner === 'user' ? basic('mia') : connectJwt(APPS.notes, 'POST', url);
        const response = await fx.app.inject({
          method: 'POST',
          url,
          headers: { ...json, ...headers },
          payload: '{"value":{}}',
        });
        assert.equal(response.statusCode, 201, response.body);
        return key;
      }

      for (const row of CONFLUENCE_GATEWAY_ROUTES) {
        describe(`${row.method} ${row.pattern}`, () => {
          test('is served', () => {
            assert.ok(
              fx.app.hasRoute({ method: row.method, url: row.pattern }),
              `${row.method} ${row.pattern} is not served`,
            );
          });

          test('a wrong cloudId is a 404, before credentials', async () => {
            const key = await prepare(row, 'user');
            for (const headers of [{}, basic('mia'), { authorization: 'Digest x' }]) {
              assertConfluenceError(
                await call(row, gatewayUrl(row, key, MIA, '00000000-0000-0000-0000-000000000000'), headers),
                404,
                /is not this site's cloudId/,
              );
            }
          });

          test("401 without or with bad credentials; the user's own data; 403 for another user's", async () => {
            const key = await prepare(row, 'user');
            const url = gatewayUrl(row, key);
            assertConfluenceError(await call(row, url, {}), 401, /does not allow anonymous access/);
            assertConfluenceError(
              await call(row, url, basicAuth('mia@example.com', 'wrong-token-000')),
              401,
              /email or API token is not valid/,
            );
            assertConfluenceError(await call(row, url, basic('noah')), 403, /only your own/);
            assertConfluenceError(await call(row, url, basic('outsider')), 403, /may not use this site/);
            const own = await call(row, url, basic('mia'));
            assert.equal(own.statusCode, row.ok, own.body);
          });

          test("Connect JWTs: the qsh covers the path without the gateway prefix; the app's namespace holds", async () => {
            const key = await prepare(row, 'notes');
            const url = gatewayUrl(row, key);
            assertConfluenceError(
              await call(row, url, connectJwt(APPS.notes, row.method, url)),
              401,
              /the qsh claim does not match this request/,
            );
            const response = await call(row, url, connectJwt(APPS.notes, row.method, qshTarget(url)));
            assert.equal(response.statusCode, row.ok, response.body);
            // Another app's namespace does not hold the notes app's key.
            if (row.needs === 'existing') {
              const other = await prepare(row, 'notes');
              const otherUrl = gatewayUrl(row, other);
              assertConfluenceError(
                await call(row, otherUrl, connectJwt(APPS.tasks, row.method, qshTarget(otherUrl))),
                404,
                /does not exist/,
              );
            }
          });

          test('scopes: the reader app (READ) is refused anything more', async () => {
            const key = freshKey('gw-scope');
            const url = gatewayUrl(row, key);
            const response = await call(row, url, connectJwt(APPS.reader, row.method, qshTarget(url)));
            if (OPERATION_SCOPES[row.operation].connect === 'READ')
              assert.notEqual(response.statusCode, 403, response.body);
            else assertConfluenceError(response, 403, /App com\.example\.reader lacks the scope for this operation/);
          });
        });
      }
    });
  });
}

/**
 * Bearer tokens (docs/behaviour.md §3) on EVERY protected route the app serves, read from
 * the routes' own declarations (`app.routeAccess`), so a new route is walked
 * without a new row: a token of either grant lacking the route's scope is a
 * 403 naming the scopes that would have sufficed, a token holding any one of
 * them passes the scope check, and expired or revoked tokens are 401s. The
 * administration API refuses every bearer token with 403.
 */
for (const kind of STORE_KINDS) {
  describe(`bearer tokens on every protected route on ${kind}`, () => {
    let fx: Fixture;
    let cloudId: string;
    /** Expired, or revoked (the app deleted, the user deactivated or deleted) before their first use. */
    const dead: Array<{ label: string; headers: Record<string, string>; pattern: RegExp }> = [];
    before(async () => {
      fx = await startFixture(kind);
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

    test('the walk covers every protected route', () => {
      const protectedRoutes = fx.app.routeAccess.filter((route) => route.access.kind !== 'public');
      assert.ok(
        protectedRoutes.some((r) => r.access.kind === 'product') &&
          protectedRoutes.some((r) => r.access.kind === 'admin'),
      );
      const served = new Set(
        servedRoutes(fx.app)
          .filter((r) => !isPublicRoute(r))
          .map((r) => `${r.method} ${r.pattern}`),
      );
      assert.deepEqual(new Set(protectedRoutes.map((r) => `${r.method} ${r.url}`)), served);
    });

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

/**
 * Watches (WATCH_ROUTES), on both stores: credentials, can-use, scopes, the
 * XSRF header, naming another user, Connect JWTs with and without the
 * gateway prefix in the qsh, and the gateway's cloudId.
 */
for (const kind of STORE_KINDS) {
  describe(`security of watches on ${kind}`, () => {
    let fx: Fixture;
    let open: Fixture;
    let cloudId: string;
    let openCloudId: string;
    before(async () => {
      [fx, open] = await Promise.all([startFixture(kind), startFixture(kind, { anonymousAccess: true })]);
      await Promise.all([fx, open].map(loadWatchFixture));
      [cloudId, openCloudId] = await Promise.all([cloudIdOf(fx), cloudIdOf(open)]);
    });
    after(() => Promise.all([fx, open].map((f) => f.close())));

    const XSRF = { 'x-atlassian-token': 'no-check' };
    /** What a Connect qsh covers: the path without the gateway prefix (docs/behaviour.md §3). */
    const qshTarget = (url: string) => url.replace(/^\/ex\/[^/]+\/[^/]+(?=\/)/, '');
    const urlOf = (row: WatchRouteRow, query = '', on: Fixture = fx) =>
      `${row.pattern.replace(':cloudId', on === fx ? cloudId : openCloudId).replace(/:[A-Za-z]+$/, row.target)}${query}`;
    /** POST and DELETE carry the XSRF header unless `xsrf` is false. */
    const send = (
      row: WatchRouteRow,
      headers: Record<string, string>,
      options: { query?: string; on?: Fixture; xsrf?: boolean } = {},
    ) =>
      (options.on ?? fx).app.inject({
        method: row.method,
        url: urlOf(row, options.query, options.on),
        headers: row.method !== 'GET' && options.xsrf !== false ? { ...XSRF, ...headers } : headers,
      });
    const jwtAs = (app: AppName, row: WatchRouteRow, query = '', claims: Record<string, unknown> = {}) =>
      connectJwt(APPS[app], row.method, qshTarget(urlOf(row, query)), claims);
    const assertOk = (row: WatchRouteRow, response: Reply, who: string) => {
      assert.equal(response.statusCode, row.ok, `${who}: ${response.body}`);
      if (row.ok === 200) assert.equal(typeof response.json().watching, 'boolean', who);
      else assert.equal(response.body, '', who);
    };

    for (const row of WATCH_ROUTES) {
      describe(`${row.method} ${row.pattern}`, () => {
        const scopes = OPERATION_SCOPES[row.operation];

        test('is served', () => {
          assert.ok(
            fx.app.hasRoute({ method: row.method, url: row.pattern }),
            `${row.method} ${row.pattern} is not served`,
          );
        });

        test('401: no credentials (even on a site open to anonymous callers), bad or deactivated credentials, two credentials, unknown schemes', async () => {
          assertConfluenceError(
            await send(row, {}),
            401,
            /Authentication required: this site does not allow anonymous access/,
          );
          assertConfluenceError(
            await send(row, {}, { on: open }),
            401,
            /anonymous callers may only read users and groups/,
          );
          // Before the XSRF check, too.
          assertConfluenceError(await send(row, {}, { xsrf: false }), 401, /does not allow anonymous access/);
          assertCredentialRejected(
            await send(row, basicAuth(USERS.mia.email, 'wrong-token-000')),
            /the email or API token is not valid/,
          );
          assertCredentialRejected(await send(row, basic('gone')), /the account is deactivated/);
          assertCredentialRejected(
            await send(row, { authorization: 'Digest x' }),
            /Unsupported Authorization scheme "digest"/,
          );
          assertCredentialRejected(await send(row, { authorization: 'Bearer anything' }), /Bearer token rejected/);
          const token = connectJwtToken(APPS.notes, row.method, qshTarget(urlOf(row)));
          assertCredentialRejected(await send(row, basic('mia'), { query: `?jwt=${token}` }), /Send one credential/);
        });

        test('401: Connect JWTs that are expired, for another request, forged or malformed', async () => {
          const rejected = async (headers: Record<string, string>, pattern: RegExp) =>
            assertCredentialRejected(await send(row, headers), pattern);
          await rejected(jwtAs('notes', row, '', { iat: now() - 300, exp: now() - 60 }), /the token has expired/);
          // A token for mia's watch does not fit the caller's own (the query is in the qsh).
          await rejected(
            connectJwt(APPS.notes, row.method, qshTarget(urlOf(row, `?accountId=${MIA}`))),
            /the qsh claim does not match this request/,
          );
          await rejected(
            jwtAs('notes', row, '', {
              qsh: queryStringHash(row.method === 'GET' ? 'DELETE' : 'GET', qshTarget(urlOf(row))),
            }),
            /the qsh claim does not match/,
          );
          await rejected(
            connectJwt(APPS.notes, row.method, qshTarget(urlOf(row)), {}, APPS.tasks.sharedSecret),
            /the signature does not verify/,
          );
          await rejected(jwtAs('notes', row, '', { iss: 'com.example.unknown' }), /no app is installed/);
          await rejected({ authorization: 'JWT garbage' }, /the token is malformed/);
          if (row.pattern.startsWith('/ex/')) {
            await rejected(connectJwt(APPS.notes, row.method, urlOf(row)), /the qsh claim does not match this request/);
          }
        });

        test('Connect JWTs: in the header, with or without /wiki in the qsh, and as the jwt parameter', async () => {
          const url = qshTarget(urlOf(row));
          const other = url.startsWith('/wiki/') ? url.slice('/wiki'.length) : `/wiki${url}`;
          assertOk(row, await send(row, jwtAs('notes', row)), 'the header');
          assertOk(row, await send(row, connectJwt(APPS.notes, row.method, other)), 'the other context path');
          assertOk(
            row,
            await send(row, {}, { query: `?jwt=${connectJwtToken(APPS.notes, row.method, url)}` }),
            'the jwt parameter',
          );
        });

        test('403: users outside "Can use"', async () => {
          assertConfluenceError(await send(row, basic('outsider')), 403, /User 712020:outsider may not use this site/);
          assertConfluenceError(
            await send(row, basic('outsider'), { query: `?accountId=${USERS.outsider.accountId}` }),
            403,
            /may not use this site/,
          );
        });

        test(`scopes: ${scopes.connect}, or ${scopes.oauth.join(' or ')}`, async () => {
          // reader holds READ, tasks WRITE (which covers READ), notes DELETE.
          const reader = await send(row, jwtAs('reader', row));
          if (scopes.connect === 'READ') {
            assertOk(row, reader, 'reader');
          } else {
            const body = assertConfluenceError(
              reader,
              403,
              /App com\.example\.reader lacks the scope for this operation: it needs WRITE/,
            );
            for (const scope of scopes.oauth) assert.ok(body.message.includes(scope), `the message names ${scope}`);
            // The scope is checked before the XSRF header.
            assertConfluenceError(await send(row, jwtAs('reader', row), { xsrf: false }), 403, /lacks the scope/);
          }
          assertOk(row, await send(row, jwtAs('tasks', row)), 'tasks');
        });

        if (row.method !== 'GET') {
          test('403: the XSRF header is required, for users and apps alike', async () => {
            assertConfluenceError(await send(row, basic('mia'), { xsrf: false }), 403, /XSRF check failed/);
            assertConfluenceError(await send(row, jwtAs('notes', row), { xsrf: false }), 403, /XSRF check failed/);
            assertOk(
              row,
              await send(row, { ...basic('mia'), 'x-atlassian-token': 'nocheck' }, { xsrf: false }),
              'nocheck',
            );
          });
        }

        test('403: naming another user without admin; an admin and an app may', async () => {
          assertConfluenceError(
            await send(row, basic('noah'), { query: `?accountId=${MIA}` }),
            403,
            /you may not name user 712020:mia/,
          );
          // Not 404: non-admins learn nothing about which accounts exist.
          assertConfluenceError(
            await send(row, basic('noah'), { query: '?accountId=712020:nobody' }),
            403,
            /you may not name user 712020:nobody/,
          );
          assertOk(row, await send(row, basic('admin'), { query: `?accountId=${MIA}` }), 'an admin');
          assertOk(
            row,
            await send(row, jwtAs('notes', row, `?accountId=${MIA}`), { query: `?accountId=${MIA}` }),
            'an app',
          );
          assertOk(row, await send(row, basic('mia'), { query: `?accountId=${MIA}` }), 'mia naming herself');
        });

        if (row.pattern.startsWith('/ex/')) {
          test('a wrong cloudId is a 404, before credentials', async () => {
            const url = urlOf(row).replace(cloudId, '00000000-0000-0000-0000-000000000000');
            for (const headers of [{}, basic('mia'), { authorization: 'Digest x' }]) {
              const response = await fx.app.inject({ method: row.method, url, headers: { ...XSRF, ...headers } });
              assertConfluenceError(response, 404, /is not this site's cloudId/);
            }
          });
        }
      });
    }
  });
}
