/**
 * The security suite (docs/behaviour.md §3, §9) for the administration API, on both
 * stores: every route the app serves under it (`{kind: 'admin'}` in its
 * route table) is for site admins only. Anonymous callers get 401 even where
 * the site allows them; everyone else, apps included, 403.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { keepSeedState } from '../../src/domain/admin/snapshots.ts';
import { basicAuth, connectJwt, connectJwtToken } from '../helpers/credentials.ts';
import { APPS, type AppName, basic, type Fixture, startFixture, UNTHROTTLED, USERS } from '../helpers/fixture.ts';
import { assertConfluenceError, assertCredentialRejected, assertNoStackTrace } from '../helpers/security.ts';
import { adminRows, routeTable } from '../helpers/security-routes.ts';
import { DEFAULT_SITE, STORE_KINDS } from '../helpers/stores.ts';

/** POST and PATCH send an empty JSON object: enough to reach the route, and it changes nothing. */
const ADMIN_ROUTES = adminRows(await routeTable()).map((row) => ({
  ...row,
  body: row.method === 'POST' || row.method === 'PATCH' ? {} : undefined,
}));
type AdminRouteRow = (typeof ADMIN_ROUTES)[number];

const json = { 'content-type': 'application/json' };

for (const kind of STORE_KINDS) {
  describe(`security of the administration API on ${kind}`, () => {
    let fx: Fixture;
    let open: Fixture;
    /** An admin who was deactivated: their valid token must not authenticate. */
    let formerAdmin: Record<string, string>;
    before(async () => {
      [fx, open] = await Promise.all([
        startFixture(kind, UNTHROTTLED),
        startFixture(kind, { ...UNTHROTTLED, anonymousAccess: true }),
      ]);
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
      // What the site holds now is what reset brings back (docs/behaviour.md §11), so the admin's walk of
      // POST /admin/api/reset changes nothing either, as a server started with this seed would have it.
      await fx.store.db.transaction().execute((trx) => keepSeedState(trx, DEFAULT_SITE, null));
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
