/**
 * The security suite (docs/behaviour.md §3) for Confluence, on both stores: every
 * route of its user properties, user directory and watches that the app
 * serves (test/helpers/security-routes.ts), directly and under the gateway,
 * against no credentials, bad and expired credentials, the wrong app, the
 * wrong user, too few scopes, and (for watches) the XSRF header.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeSymmetric } from 'atlassian-jwt';
import { OPERATION_SCOPES } from '../../src/domain/scopes.ts';
import {
  base64,
  basicAuth,
  connectJwt,
  connectJwtToken,
  nowSeconds as now,
  queryStringHash,
} from '../helpers/credentials.ts';
import {
  APPS,
  type AppName,
  basic,
  cloudIdOf,
  DIRECTORY_APPS,
  DIRECTORY_USERS,
  type Fixture,
  loadDirectoryFixture,
  loadWatchFixture,
  startFixture,
  UNTHROTTLED,
  USERS,
} from '../helpers/fixture.ts';
import {
  assertConfluenceError,
  assertCredentialRejected,
  assertNoStackTrace,
  otherContext,
  qshTarget,
  type Reply,
  unsignedJwt,
} from '../helpers/security.ts';
import {
  CONFLUENCE_PROPERTY_OPERATIONS,
  DIRECTORY_OPERATIONS,
  type DirectoryRow,
  isGateway,
  type PropertyRow,
  type Row,
  routeTable,
  rowsOf,
  WATCH_OPERATIONS,
  type WatchRow,
} from '../helpers/security-routes.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

type PropertyRouteRow = Row<PropertyRow>;
type DirectoryRouteRow = Row<DirectoryRow>;
type WatchRouteRow = Row<WatchRow>;

const served = await routeTable();
/** User properties directly and under the `/rest/api` alias; their gateway forms apart. */
const PROPERTY_ROUTES = rowsOf(served, CONFLUENCE_PROPERTY_OPERATIONS);
const ROUTES = PROPERTY_ROUTES.filter((row) => !isGateway(row.pattern));
const GATEWAY_ROUTES = PROPERTY_ROUTES.filter((row) => isGateway(row.pattern));
/** The directory and watches under every Confluence prefix, the gateway forms included. */
const DIRECTORY_ROUTES = rowsOf(served, DIRECTORY_OPERATIONS);
const WATCH_ROUTES = rowsOf(served, WATCH_OPERATIONS);

const MIA = USERS.mia.accountId;
const json = { 'content-type': 'application/json' };

let counter = 0;
const freshKey = (tag: string) => `${tag}-${++counter}`;

function propertyUrl(row: PropertyRouteRow, key: string, accountId: string = MIA): string {
  return row.pattern.replace(':userId', accountId).replace(':key', key);
}

for (const kind of STORE_KINDS) {
  describe(`security of Confluence user properties on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind, UNTHROTTLED);
    });
    after(() => fx.close());

    function call(
      row: PropertyRouteRow,
      key: string,
      headers: Record<string, string>,
      options: { accountId?: string; query?: string } = {},
    ) {
      const url = propertyUrl(row, key, options.accountId) + (options.query ?? '');
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
    async function prepare(row: PropertyRouteRow, owner: AppName | 'user', accountId: string = MIA): Promise<string> {
      const key = freshKey('sec');
      if (row.needs === 'existing') await createProperty(owner, key, {}, accountId);
      return key;
    }

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

          const token = connectJwtToken(APPS.notes, row.method, propertyUrl(row, key));
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
          const url = propertyUrl(row, key);
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
              qsh: queryStringHash(row.method, propertyUrl(row, 'other-key', USERS.noah.accountId)),
            }),
            /the qsh claim does not match this request/,
          );
          await rejected(
            jwt({ qsh: queryStringHash(row.method === 'GET' ? 'DELETE' : 'GET', url) }),
            /the qsh claim does not match this request/,
          );
          await rejected(jwt({ qsh: 'deadbeef' }), /the qsh claim does not match this request/);
          await rejected(jwt({ qsh: undefined }), /JWT rejected: the qsh claim is missing or invalid/);

          // Signed with another app's secret while naming notes, or naming an app nobody installed:
          // one and the same answer, so a 401 never tells which apps exist (docs/behaviour.md §3).
          const notVerified =
            /^JWT rejected: the signature does not verify: no app is installed with this iss \(key or clientKey\), or its shared secret did not sign the token$/;
          await rejected(jwt({}, APPS.tasks.sharedSecret), notVerified);
          await rejected(jwt({ iss: APPS.notes.clientKey }, APPS.tasks.sharedSecret), notVerified);
          await rejected(jwt({ iss: 'com.example.unknown' }), notVerified);
          await rejected(jwt({ iss: 'com.example.unknown' }, 'a-secret-nobody-installed-of-32-chars!'), notVerified);
          await rejected(jwt({ iss: 'com.example.unknown', exp: now() - 3600 }), notVerified);
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
            const { headers = {}, query } = make(propertyUrl(row, key));
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
            ['tasks', connectJwt(APPS.tasks, row.method, propertyUrl(row, key))],
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
          const response = await call(row, key, connectJwt(APPS.reader, row.method, propertyUrl(row, key)));
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
          const tasks = await call(row, key, connectJwt(APPS.tasks, row.method, propertyUrl(row, key)));
          assert.notEqual(tasks.statusCode, 403, tasks.body);
          assert.notEqual(tasks.statusCode, 401, tasks.body);
        });
      });
    }
  });

  describe(`security of Confluence user properties on ${kind}, on a site that allows anonymous access`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind, { ...UNTHROTTLED, anonymousAccess: true });
    });
    after(() => fx.close());

    test('bad and expired credentials are 401 about the credential, never an anonymous call', async () => {
      for (const row of ROUTES) {
        const url = propertyUrl(row, 'anon');
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

  describe(`security of Confluence user properties under the gateway on ${kind}`, () => {
    let fx: Fixture;
    let cloudId: string;
    before(async () => {
      // Every test writes fresh keys for mia; the property limit is not what is tested here.
      fx = await startFixture(kind, { ...UNTHROTTLED, maxPropertiesPerUser: 100000 });
      cloudId = await cloudIdOf(fx);
    });
    after(() => fx.close());

    const gatewayUrl = (row: PropertyRouteRow, key: string, accountId: string = MIA, id: string = cloudId) =>
      row.pattern.replace(':cloudId', id).replace(':userId', accountId).replace(':key', key);
    const call = (row: PropertyRouteRow, url: string, headers: Record<string, string>) =>
      fx.app.inject({
        method: row.method,
        url,
        headers: row.body === undefined ? headers : { ...json, ...headers },
        payload: row.body === undefined ? undefined : JSON.stringify(row.body),
      });

    /** A key in the state the row needs, in namespace "" (user) or the notes app's. */
    async function prepare(row: PropertyRouteRow, owner: 'user' | 'notes'): Promise<string> {
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

    for (const row of GATEWAY_ROUTES) {
      describe(`${row.method} ${row.pattern}`, () => {
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
}

for (const kind of STORE_KINDS) {
  describe(`security of the user directory on ${kind}`, () => {
    let fx: Fixture;
    let open: Fixture;
    const cloudIds = new Map<Fixture, string>();
    before(async () => {
      [fx, open] = await Promise.all([
        startFixture(kind, UNTHROTTLED),
        startFixture(kind, { ...UNTHROTTLED, anonymousAccess: true }),
      ]);
      await Promise.all([fx, open].map(loadDirectoryFixture));
      for (const f of [fx, open])
        cloudIds.set(f, (await f.app.inject({ method: 'GET', url: '/_edge/tenant_info' })).json().cloudId);
    });
    after(() => Promise.all([fx, open].map((f) => f.close())));

    const { mailer, emailOnly } = DIRECTORY_APPS;
    /** The request target on a fixture: its cloudId in gateway paths. */
    const urlOf = (row: DirectoryRouteRow, on: Fixture = fx, query = row.query) =>
      `${row.pattern.replace(':cloudId', cloudIds.get(on)!)}${query}`;
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
          const other = otherContext(url);
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

for (const kind of STORE_KINDS) {
  describe(`security of watches on ${kind}`, () => {
    let fx: Fixture;
    let open: Fixture;
    let cloudId: string;
    let openCloudId: string;
    before(async () => {
      [fx, open] = await Promise.all([
        startFixture(kind, UNTHROTTLED),
        startFixture(kind, { ...UNTHROTTLED, anonymousAccess: true }),
      ]);
      await Promise.all([fx, open].map(loadWatchFixture));
      [cloudId, openCloudId] = await Promise.all([cloudIdOf(fx), cloudIdOf(open)]);
    });
    after(() => Promise.all([fx, open].map((f) => f.close())));

    const XSRF = { 'x-atlassian-token': 'no-check' };
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
          if (isGateway(row.pattern)) {
            await rejected(connectJwt(APPS.notes, row.method, urlOf(row)), /the qsh claim does not match this request/);
          }
        });

        test('Connect JWTs: in the header, with or without /wiki in the qsh, and as the jwt parameter', async () => {
          const url = qshTarget(urlOf(row));
          const other = otherContext(url);
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

        if (isGateway(row.pattern)) {
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
