/**
 * The security suite (docs/behaviour.md §3) for Confluence user properties, on both
 * stores: every route of theirs the app serves (test/helpers/security-routes.ts)
 * against no credentials, bad and expired credentials, the wrong app, the
 * wrong user and too few scopes; then the same routes under the gateway.
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
import { APPS, type AppName, basic, cloudIdOf, type Fixture, startFixture, USERS } from '../helpers/fixture.ts';
import {
  assertConfluenceError,
  assertCredentialRejected,
  assertNoStackTrace,
  otherContext,
  qshTarget,
  unsignedJwt,
} from '../helpers/security.ts';
import {
  CONFLUENCE_PROPERTY_OPERATIONS,
  isGateway,
  type PropertyRow,
  type Row,
  routeTable,
  rowsOf,
} from '../helpers/security-routes.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

type RouteRow = Row<PropertyRow>;

const PROPERTY_ROUTES = rowsOf(await routeTable(), CONFLUENCE_PROPERTY_OPERATIONS);
/** Directly and under the `/rest/api` alias. */
const ROUTES = PROPERTY_ROUTES.filter((row) => !isGateway(row.pattern));
const GATEWAY_ROUTES = PROPERTY_ROUTES.filter((row) => isGateway(row.pattern));

const MIA = USERS.mia.accountId;
const json = { 'content-type': 'application/json' };

let counter = 0;
const freshKey = (tag: string) => `${tag}-${++counter}`;

function urlOf(row: RouteRow, key: string, accountId: string = MIA): string {
  return row.pattern.replace(':userId', accountId).replace(':key', key);
}

for (const kind of STORE_KINDS) {
  describe(`security of Confluence user properties on ${kind}`, () => {
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

  describe(`security of Confluence user properties on ${kind}, on a site that allows anonymous access`, () => {
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

  describe(`security of Confluence user properties under the gateway on ${kind}`, () => {
    let fx: Fixture;
    let cloudId: string;
    before(async () => {
      // Every test writes fresh keys for mia; the property limit is not what is tested here.
      fx = await startFixture(kind, { maxPropertiesPerUser: 100000 });
      cloudId = await cloudIdOf(fx);
    });
    after(() => fx.close());

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
