/**
 * The security suite (docs/behaviour.md §3) for the Confluence user directory, on both
 * stores: every route of it the app serves (test/helpers/security-routes.ts), on a
 * closed site and on one open to anonymous callers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OPERATION_SCOPES } from '../../src/domain/scopes.ts';
import { basicAuth, connectJwt, connectJwtToken, nowSeconds as now, queryStringHash } from '../helpers/credentials.ts';
import {
  APPS,
  basic,
  DIRECTORY_APPS,
  DIRECTORY_USERS,
  type Fixture,
  loadDirectoryFixture,
  startFixture,
  USERS,
} from '../helpers/fixture.ts';
import { assertConfluenceError, assertCredentialRejected, otherContext, qshTarget } from '../helpers/security.ts';
import { DIRECTORY_OPERATIONS, type DirectoryRow, type Row, routeTable, rowsOf } from '../helpers/security-routes.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

type DirectoryRouteRow = Row<DirectoryRow>;

/** Directly, under the alias, and under the gateway (`:cloudId` is the fixture site's). */
const DIRECTORY_ROUTES = rowsOf(await routeTable(), DIRECTORY_OPERATIONS);

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
