/**
 * The reset migration (2026-12-01-0003-site-seeds) on a database the
 * release before it left, on both stores: the site's first-start admin is
 * found by the token first start named, and a reset, with no seed state
 * kept yet, builds one: an empty site (no seed was kept) with that admin
 * and their very token.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { SECRET_KEY } from '../helpers/fixture.ts';
import { databaseAsOf } from '../helpers/old-database.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const secrets = new Secrets(SECRET_KEY);
const NOW = '2026-11-30T12:00:00.000Z';
const ADMIN = { accountId: '712020:first-admin', email: 'admin@userplane.local', token: 'upt_the-first-start-token' };
const MIA = '712020:mia';

/** A database as the release before reset left it: one site, first started, with its admin and a user. */
async function databaseBeforeReset(kind: 'sqlite' | 'postgres') {
  return databaseAsOf(kind, '2026-12-01-0002-sites', async (db) => {
    const settings = JSON.stringify({ canUseGroups: ['confluence-users'], adminGroups: ['confluence-admins'] });
    const { id } = await db
      .insertInto('sites')
      .values({
        name: 'default',
        cloud_id: '8a3c7f0e-1b2d-4c5e-9f60-718293a4b5c6',
        base_url: null,
        host: null,
        settings,
        created_at: NOW,
        first_started_at: NOW,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.insertInto('server').values({ id: 1, default_site_id: id, created_at: NOW }).execute();
    const user = (accountId: string, email: string) => ({
      site_id: id,
      account_id: accountId,
      account_type: 'atlassian',
      email,
      email_lower: email,
      display_name: email,
      public_name: email,
      time_zone: 'UTC',
      email_visibility: 'admins',
      external_collaborator: 0,
      active: 1,
      created_at: NOW,
    });
    await db
      .insertInto('users')
      .values([user(ADMIN.accountId, ADMIN.email), user(MIA, 'mia@example.com')])
      .execute();
    await db
      .insertInto('groups')
      .values([
        { site_id: id, id: 'g-admins', name: 'confluence-admins' },
        { site_id: id, id: 'g-users', name: 'confluence-users' },
      ])
      .execute();
    await db
      .insertInto('group_members')
      .values([
        { site_id: id, group_id: 'g-admins', account_id: ADMIN.accountId },
        { site_id: id, group_id: 'g-users', account_id: ADMIN.accountId },
      ])
      .execute();
    await db
      .insertInto('api_tokens')
      .values({
        site_id: id,
        id: 'first-token',
        account_id: ADMIN.accountId,
        name: 'first start',
        digest: secrets.digest(ADMIN.token),
        created_at: NOW,
        expires_at: null,
      })
      .execute();
  });
}

for (const kind of STORE_KINDS) {
  describe(`the reset migration on ${kind}`, () => {
    let store: Store | undefined;
    after(() => store?.close());

    test('a site started before it keeps its first-start admin, and a reset brings them back with their token', async () => {
      store = await openStore(await databaseBeforeReset(kind));
      const site = await store.db.selectFrom('sites').select(['seed', 'first_admin']).executeTakeFirstOrThrow();
      assert.equal(site.seed, null);
      assert.deepEqual(JSON.parse(site.first_admin!), {
        accountId: ADMIN.accountId,
        email: ADMIN.email,
        tokenId: 'first-token',
        digest: secrets.digest(ADMIN.token),
        createdAt: NOW,
      });

      const app = await buildApp({ db: store.db, secrets, logLevel: 'silent' });
      try {
        const admin = basicAuth(ADMIN.email, ADMIN.token);
        assert.equal((await app.inject({ method: 'POST', url: '/admin/api/reset', headers: admin })).statusCode, 204);
        const current = await app.inject({ method: 'GET', url: '/wiki/rest/api/user/current', headers: admin });
        assert.equal(current.statusCode, 200, current.body);
        assert.equal(current.json().accountId, ADMIN.accountId);
        const users = await app.inject({ method: 'GET', url: '/admin/api/users', headers: admin });
        assert.deepEqual(
          users.json().results.map((u: { accountId: string }) => u.accountId),
          [ADMIN.accountId],
          'no seed was kept: the site is empty but for its first-start admin',
        );
        // The reset kept its result as the seed state: the next reset restores it.
        const kept = await store.db.selectFrom('snapshots').select('name').execute();
        assert.deepEqual(kept, [{ name: null }]);
        assert.equal((await app.inject({ method: 'POST', url: '/admin/api/reset', headers: admin })).statusCode, 204);
        assert.equal(
          (await app.inject({ method: 'GET', url: '/wiki/rest/api/user/current', headers: admin })).statusCode,
          200,
        );
      } finally {
        await app.close();
      }
    });
  });
}
