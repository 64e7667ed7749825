/**
 * The security suite (docs/behaviour.md §3) for content, label and space watches, on
 * both stores: every route of theirs the app serves (test/helpers/security-routes.ts)
 * against credentials, can-use, scopes, the XSRF header, naming another user,
 * Connect JWTs with and without the gateway prefix in the qsh, and the
 * gateway's cloudId.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OPERATION_SCOPES } from '../../src/domain/scopes.ts';
import { basicAuth, connectJwt, connectJwtToken, nowSeconds as now, queryStringHash } from '../helpers/credentials.ts';
import {
  APPS,
  type AppName,
  basic,
  cloudIdOf,
  type Fixture,
  loadWatchFixture,
  startFixture,
  USERS,
} from '../helpers/fixture.ts';
import {
  assertConfluenceError,
  assertCredentialRejected,
  otherContext,
  qshTarget,
  type Reply,
} from '../helpers/security.ts';
import {
  isGateway,
  type Row,
  routeTable,
  rowsOf,
  WATCH_OPERATIONS,
  type WatchRow,
} from '../helpers/security-routes.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

type WatchRouteRow = Row<WatchRow>;

/** Under every Confluence prefix, the gateway forms included. */
const WATCH_ROUTES = rowsOf(await routeTable(), WATCH_OPERATIONS);

const MIA = USERS.mia.accountId;

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
