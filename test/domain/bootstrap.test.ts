/** First start (docs/behaviour.md §7): the site, the default groups and one admin, once; on both stores. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { bootstrap } from '../../src/domain/bootstrap.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { checkSeed, loadSeed } from '../../src/domain/seed.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { groupNamesOf } from '../../src/store/groups.ts';
import type { Database } from '../../src/store/schema.ts';
import { findDefaultSite } from '../../src/store/site.ts';
import { findUser } from '../../src/store/users.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { DEFAULT_SITE, freshLocation, freshStore, STORE_KINDS } from '../helpers/stores.ts';

const secrets = new Secrets('bootstrap-test-secret-key-of-32-characters');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TABLES = ['sites', 'users', 'groups', 'group_members', 'api_tokens', 'apps', 'properties'] as const;

async function counts(db: Kysely<Database>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

async function get(db: Kysely<Database>, url: string, headers: Record<string, string>) {
  const app = await buildApp({ db, secrets, logLevel: 'silent' });
  try {
    return await app.inject({ method: 'GET', url, headers });
  } finally {
    await app.close();
  }
}

for (const kind of STORE_KINDS) {
  describe(`first start on ${kind}`, () => {
    const stores: Store[] = [];
    after(async () => {
      for (const store of stores) await store.close();
    });
    const fresh = async () => {
      const store = await freshStore(kind);
      stores.push(store);
      return store.db;
    };

    test('an empty database gets the site, the default groups and one admin whose token works', async () => {
      const db = await fresh();
      const first = await bootstrap(db, secrets);
      assert.ok(first, 'first start reports the admin');
      assert.equal(first.email, 'admin@userplane.local');
      assert.match(first.accountId, /^712020:/);
      assert.match(first.cloudId, UUID);
      assert.ok(first.apiToken.length >= 43, 'at least 256 bits of token');

      const site = await findDefaultSite(db);
      assert.equal(site?.cloudId, first.cloudId);
      const groups = await db.selectFrom('groups').select('name').orderBy('name').execute();
      assert.deepEqual(
        groups.map((g) => g.name),
        ['confluence-admins', 'confluence-users'],
      );

      const admin = await findUser(db, DEFAULT_SITE, first.accountId);
      assert.equal(admin?.accountType, 'atlassian');
      assert.equal(admin?.email, first.email);
      assert.equal(admin?.active, true);
      assert.ok((await groupNamesOf(db, DEFAULT_SITE, first.accountId)).includes('confluence-admins'));

      const tokens = await db.selectFrom('api_tokens').selectAll().execute();
      assert.equal(tokens.length, 1);
      assert.equal(tokens[0]!.account_id, first.accountId);
      assert.equal(tokens[0]!.digest, secrets.digest(first.apiToken));
      assert.ok(!JSON.stringify(tokens).includes(first.apiToken), 'the token is stored only as its digest');

      const url = `/wiki/rest/api/user/${encodeURIComponent(first.accountId)}/property`;
      const ok = await get(db, url, basicAuth(first.email, first.apiToken));
      assert.equal(ok.statusCode, 200, ok.body);
      assert.deepEqual(ok.json().results, []);
      assert.equal((await get(db, url, basicAuth(first.email, `${first.apiToken}x`))).statusCode, 401);
    });

    test('a second first start creates nothing', async () => {
      const db = await fresh();
      const first = await bootstrap(db, secrets);
      assert.ok(first);
      const once = await counts(db);
      assert.deepEqual(once, {
        sites: 1,
        users: 1,
        groups: 2,
        group_members: 2,
        api_tokens: 1,
        apps: 0,
        properties: 0,
      });

      assert.equal(await bootstrap(db, secrets), undefined);
      assert.deepEqual(await counts(db), once);
      assert.equal((await findDefaultSite(db))?.cloudId, first.cloudId, 'the cloudId is stable');
    });

    test('a seed that provides an active admin: no admin is created', async () => {
      const db = await fresh();
      await loadSeed(
        db,
        secrets,
        checkSeed({
          site: { cloudId: '8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b' },
          users: [
            {
              accountId: '712020:boss',
              email: 'boss@example.com',
              displayName: 'Boss',
              groups: ['confluence-admins'],
              apiTokens: ['boss-token-1'],
            },
          ],
        }),
      );
      const seeded = await counts(db);
      assert.equal(await bootstrap(db, secrets), undefined);
      assert.deepEqual(await counts(db), seeded);
      assert.equal(
        (await findDefaultSite(db))?.cloudId,
        '8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b',
        'the seeded cloudId is kept',
      );
    });

    test("an admin per the site's own adminGroups counts too", async () => {
      const db = await fresh();
      await loadSeed(
        db,
        secrets,
        checkSeed({
          site: { adminGroups: ['site-admins'], canUseGroups: ['everyone'] },
          users: [
            { accountId: '712020:root', email: 'root@example.com', displayName: 'Root', groups: ['site-admins'] },
          ],
        }),
      );
      assert.equal(await bootstrap(db, secrets), undefined);
      assert.equal((await counts(db)).users, 1);
    });

    test('a seeded admin who is deactivated does not count: one is created, and the email stays unique', async () => {
      const db = await fresh();
      await loadSeed(
        db,
        secrets,
        checkSeed({
          users: [
            {
              accountId: '712020:former',
              email: 'admin@userplane.local',
              displayName: 'Former',
              groups: ['confluence-admins'],
              active: false,
            },
          ],
        }),
      );
      const first = await bootstrap(db, secrets);
      assert.ok(first);
      assert.notEqual(first.accountId, '712020:former');
      assert.notEqual(first.email.toLowerCase(), 'admin@userplane.local', 'the seeded user keeps the default email');
      assert.ok((await groupNamesOf(db, DEFAULT_SITE, first.accountId)).includes('confluence-admins'));
      assert.equal(
        (await get(db, `/wiki/rest/api/user/${first.accountId}/property`, basicAuth(first.email, first.apiToken)))
          .statusCode,
        200,
      );
      assert.equal(await bootstrap(db, secrets), undefined);
    });

    test('a later start creates no admin, even when the admin was deactivated or adminGroups moved', async () => {
      const db = await fresh();
      const first = await bootstrap(db, secrets);
      assert.ok(first);
      await db.updateTable('users').set({ active: 0 }).where('account_id', '=', first.accountId).execute();
      const deactivated = await counts(db);
      assert.equal(await bootstrap(db, secrets), undefined, 'no first start after the admin was deactivated');
      assert.deepEqual(await counts(db), deactivated);

      await loadSeed(db, secrets, checkSeed({ site: { adminGroups: ['site-admins'] } }));
      const moved = await counts(db);
      assert.equal(await bootstrap(db, secrets), undefined, 'no first start after adminGroups moved');
      assert.deepEqual(await counts(db), moved);
    });

    test('a seed loaded before the first start does not count as one', async () => {
      const db = await fresh();
      await loadSeed(
        db,
        secrets,
        checkSeed({ users: [{ accountId: '712020:pat', email: 'pat@example.com', displayName: 'Pat' }] }),
      );
      const first = await bootstrap(db, secrets);
      assert.ok(first, 'the seed made no admin, so first start makes one');
      assert.equal(await bootstrap(db, secrets), undefined);
    });

    if (kind === 'postgres') {
      test('four instances starting together on one database: one site, one admin', async () => {
        const location = await freshLocation(kind);
        // Each instance opens (and migrates) with its own connection pool, as separate processes would.
        const instances = await Promise.all(Array.from({ length: 4 }, () => openStore(location)));
        stores.push(...instances);

        const results = await Promise.all(instances.map((store) => bootstrap(store.db, secrets)));
        const created = results.filter((r) => r !== undefined);
        assert.equal(created.length, 1, 'exactly one instance reports a first start');

        const db = instances[0]!.db;
        const all = await counts(db);
        assert.equal(all.sites, 1);
        assert.equal(all.users, 1);
        assert.equal(all.api_tokens, 1);
        assert.equal(all.groups, 2);
        assert.equal((await findDefaultSite(db))?.cloudId, created[0]!.cloudId);
        const admins = await db
          .selectFrom('group_members')
          .innerJoin('groups', 'groups.id', 'group_members.group_id')
          .select('group_members.account_id')
          .where('groups.name', '=', 'confluence-admins')
          .execute();
        assert.deepEqual(admins, [{ account_id: created[0]!.accountId }]);
      });
    }
  });
}
