/**
 * The sites migration (docs/behaviour.md §10) on a database made by the
 * release before it: the schema of the four earlier migrations, filled with
 * one row of every kind, then opened by this release. Everything lands in
 * the default site, nothing is lost, and the server serves it as before.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { databaseAsOf } from '../helpers/old-database.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const secrets = new Secrets('migration-test-secret-key-of-32-chars');
const CLOUD_ID = '8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b';
const MIA = '712020:mia';
const BOT = '557058:notes-bot';
const NOW = '2026-11-30T12:00:00.000Z';

/** Rows as the release before sites wrote them: one of every kind, in the old tables. */
const OLD_ROWS: Record<string, Array<Record<string, unknown>>> = {
  site: [
    {
      id: 1,
      cloud_id: CLOUD_ID,
      base_url: 'http://old.example.com',
      settings: JSON.stringify({ maxPropertiesPerUser: 7 }),
      created_at: NOW,
      first_started_at: NOW,
    },
  ],
  users: [
    {
      account_id: MIA,
      account_type: 'atlassian',
      email: 'mia@example.com',
      email_lower: 'mia@example.com',
      display_name: 'Mia',
      public_name: 'Mia',
      time_zone: 'UTC',
      email_visibility: 'anyone',
      username: 'mia',
      user_key: 'mia-key',
      external_collaborator: 0,
      active: 1,
      created_at: NOW,
    },
    {
      account_id: BOT,
      account_type: 'app',
      email: '',
      email_lower: null,
      display_name: 'Notes',
      public_name: 'Notes',
      time_zone: 'UTC',
      email_visibility: 'private',
      username: null,
      user_key: null,
      external_collaborator: 0,
      active: 1,
      created_at: NOW,
    },
  ],
  groups: [{ id: 'g-users', name: 'confluence-users' }],
  group_members: [{ group_id: 'g-users', account_id: MIA }],
  api_tokens: [
    {
      id: 't-1',
      account_id: MIA,
      name: 'seed',
      digest: secrets.digest('mia-token-00001'),
      created_at: NOW,
      expires_at: null,
    },
  ],
  apps: [
    {
      key: 'com.example.notes',
      name: 'Notes',
      client_key: 'notes-client',
      shared_secret: secrets.encrypt('notes-shared-secret-of-at-least-32-chars'),
      oauth_client_id: 'notes-oauth',
      client_secret_digest: secrets.digest('notes-client-secret'),
      scopes: JSON.stringify(['READ', 'WRITE']),
      email_access: 0,
      account_id: BOT,
      created_at: NOW,
    },
  ],
  properties: [
    {
      id: 41,
      product: 'confluence',
      namespace: '',
      account_id: MIA,
      key: 'theme',
      value: '{"dark":true}',
      version: 3,
      created_at: NOW,
      updated_at: NOW,
    },
  ],
  oauth_tokens: [
    {
      id: 'o-1',
      digest: secrets.digest('upb_old'),
      app_key: 'com.example.notes',
      account_id: null,
      scopes: '["READ"]',
      created_at: NOW,
      expires_at: '2999-01-01T00:00:00.000Z',
    },
  ],
  spaces: [
    {
      id: 5,
      key: 'ENG',
      name: 'Engineering',
      type: 'global',
      owner_account_id: null,
      view_anonymous: 0,
      created_at: NOW,
    },
  ],
  space_view_groups: [{ space_id: 5, group_id: 'g-users' }],
  space_view_users: [{ space_id: 5, account_id: MIA }],
  content: [{ id: '1001', space_id: 5, type: 'page', title: 'Plan', restricted: 1, created_at: NOW }],
  content_view_users: [{ content_id: '1001', account_id: MIA }],
  content_view_groups: [{ content_id: '1001', group_id: 'g-users' }],
  labels: [{ name: 'release', created_at: NOW }],
  content_labels: [{ content_id: '1001', label: 'release' }],
  content_watches: [{ account_id: MIA, content_id: '1001', created_at: NOW }],
  space_watches: [{ account_id: MIA, space_id: 5, created_at: NOW }],
  label_watches: [{ account_id: MIA, label: 'release', created_at: NOW }],
};

/** A database as the release before sites left it. */
async function oldDatabase(kind: 'sqlite' | 'postgres') {
  return databaseAsOf(kind, '2026-12-01-0001-first-start-mark', async (db) => {
    for (const [table, rows] of Object.entries(OLD_ROWS)) await db.insertInto(table).values(rows).execute();
  });
}

for (const kind of STORE_KINDS) {
  describe(`the sites migration on ${kind}`, () => {
    const stores: Store[] = [];
    after(async () => {
      for (const store of stores) await store.close();
    });

    /** Columns that migrations after the sites migration add, with the value an old row gets. */
    const LATER_COLUMNS: Record<string, Record<string, unknown>> = { apps: { kind: 'connect' } };

    test('every row of the release before lands in the default site, with its ids, versions and dates', async () => {
      const store = await openStore(await oldDatabase(kind));
      stores.push(store);
      const { db } = store;
      const site = await db.selectFrom('sites').selectAll().executeTakeFirstOrThrow();
      assert.equal(site.name, 'default');
      assert.equal(site.cloud_id, CLOUD_ID);
      assert.equal(site.base_url, 'http://old.example.com');
      assert.equal(site.host, 'old.example.com');
      assert.equal(site.first_started_at, NOW);
      assert.equal(JSON.parse(site.settings).maxPropertiesPerUser, 7);
      const server = await db.selectFrom('server').selectAll().executeTakeFirstOrThrow();
      assert.equal(server.default_site_id, site.id);

      for (const [table, rows] of Object.entries(OLD_ROWS)) {
        if (table === 'site') continue;
        const stored = (await sql`select * from ${sql.table(table)}`.execute(db)).rows as Array<
          Record<string, unknown>
        >;
        assert.equal(stored.length, rows.length, `${table}: every row`);
        for (const [i, row] of rows.entries()) {
          const { site_id, ...rest } = stored[i]!;
          assert.equal(Number(site_id), site.id, `${table}: in the default site`);
          const normalized = Object.fromEntries(
            Object.entries(rest).map(([k, v]) => [
              k,
              typeof v === 'string' && /^\d+$/.test(v) && typeof row[k] === 'number' ? Number(v) : v,
            ]),
          );
          assert.deepEqual(normalized, { ...row, ...LATER_COLUMNS[table] }, `${table}: unchanged`);
        }
      }
      // Generated ids go on after the moved rows.
      const next = await db
        .insertInto('spaces')
        .values({
          site_id: site.id,
          key: 'NEW',
          name: 'New',
          type: 'global',
          owner_account_id: null,
          view_anonymous: 0,
          created_at: NOW,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      assert.ok(Number(next.id) > 5);
    });

    test('the migrated database serves its users, properties and apps as before', async () => {
      const store = await openStore(await oldDatabase(kind));
      stores.push(store);
      const app = await buildApp({ db: store.db, secrets, logLevel: 'silent' });
      try {
        const mia = basicAuth('mia@example.com', 'mia-token-00001');
        const property = await app.inject({
          method: 'GET',
          url: `/wiki/rest/api/user/${MIA}/property/theme`,
          headers: mia,
        });
        assert.equal(property.statusCode, 200, property.body);
        assert.deepEqual(property.json().value, { dark: true });
        assert.match(String(property.headers.etag), /\b3\b/, 'the version (ETag) is kept');
        assert.equal(property.json()._links.base, 'http://old.example.com/wiki');
        const tenant = await app.inject({ method: 'GET', url: '/_edge/tenant_info' });
        assert.equal(tenant.json().cloudId, CLOUD_ID);
        const token = await app.inject({
          method: 'POST',
          url: '/oauth2/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'grant_type=client_credentials&client_id=notes-oauth&client_secret=notes-client-secret',
        });
        assert.equal(token.statusCode, 200, token.body);
      } finally {
        await app.close();
      }
    });
  });
}
