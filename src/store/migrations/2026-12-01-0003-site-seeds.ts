/**
 * Reset and snapshots (docs/behaviour.md §11). Frozen: later changes go in
 * new migration files.
 *
 * - `sites.seed`: JSON text of the §8 document the site was made from (the
 *   default site: the `--seed` of the last start); null when it had none.
 * - `sites.first_admin`: JSON text of the admin first start made, so a reset
 *   brings back the same accountId and API token: `{accountId, email,
 *   tokenId, digest, createdAt}`. The token is kept as the digest
 *   `api_tokens` holds, never in plain or reversible form. A site started
 *   by an earlier version gets it from the token first start named
 *   `first start`, when that token and its user are still there.
 * - `snapshots`: one row per snapshot of a site, with the site's settings
 *   then. `name` null is the site's seed state, which reset restores.
 * - `snapshot_<table>` for every table of a site's rows: the same columns
 *   but `site_id`, plus `snapshot_id`. A snapshot is filled by one
 *   `INSERT … SELECT` per table and restored the same way back, so its rows
 *   never pass through the application (docs/decisions.md, "Reset and
 *   snapshots"). Indexed by snapshot and the row's key in its site, for
 *   restores that compare; no other constraint: the copies are checked when
 *   they go back. Deleting a site deletes its snapshots, and a snapshot its
 *   rows (cascades).
 */
import type { Kysely, Migration } from 'kysely';

type Dialect = 'sqlite' | 'postgres';
type ColumnType = 'text' | 'integer' | 'bigint';

/** The tables of a site's rows and their columns after `site_id`, parents first, as of this migration. */
const SNAPSHOT_TABLES: ReadonlyArray<[table: string, columns: ReadonlyArray<[string, ColumnType]>]> = [
  [
    'users',
    [
      ['account_id', 'text'],
      ['account_type', 'text'],
      ['email', 'text'],
      ['email_lower', 'text'],
      ['display_name', 'text'],
      ['public_name', 'text'],
      ['time_zone', 'text'],
      ['email_visibility', 'text'],
      ['username', 'text'],
      ['user_key', 'text'],
      ['external_collaborator', 'integer'],
      ['active', 'integer'],
      ['created_at', 'text'],
    ],
  ],
  [
    'groups',
    [
      ['id', 'text'],
      ['name', 'text'],
    ],
  ],
  [
    'group_members',
    [
      ['group_id', 'text'],
      ['account_id', 'text'],
    ],
  ],
  [
    'api_tokens',
    [
      ['id', 'text'],
      ['account_id', 'text'],
      ['name', 'text'],
      ['digest', 'text'],
      ['created_at', 'text'],
      ['expires_at', 'text'],
    ],
  ],
  [
    'apps',
    [
      ['key', 'text'],
      ['name', 'text'],
      ['client_key', 'text'],
      ['shared_secret', 'text'],
      ['oauth_client_id', 'text'],
      ['client_secret_digest', 'text'],
      ['scopes', 'text'],
      ['email_access', 'integer'],
      ['account_id', 'text'],
      ['created_at', 'text'],
    ],
  ],
  [
    'properties',
    [
      ['id', 'bigint'],
      ['product', 'text'],
      ['namespace', 'text'],
      ['account_id', 'text'],
      ['key', 'text'],
      ['value', 'text'],
      ['version', 'integer'],
      ['created_at', 'text'],
      ['updated_at', 'text'],
    ],
  ],
  [
    'oauth_tokens',
    [
      ['id', 'text'],
      ['digest', 'text'],
      ['app_key', 'text'],
      ['account_id', 'text'],
      ['scopes', 'text'],
      ['created_at', 'text'],
      ['expires_at', 'text'],
    ],
  ],
  [
    'spaces',
    [
      ['id', 'integer'],
      ['key', 'text'],
      ['name', 'text'],
      ['type', 'text'],
      ['owner_account_id', 'text'],
      ['view_anonymous', 'integer'],
      ['created_at', 'text'],
    ],
  ],
  [
    'space_view_groups',
    [
      ['space_id', 'integer'],
      ['group_id', 'text'],
    ],
  ],
  [
    'space_view_users',
    [
      ['space_id', 'integer'],
      ['account_id', 'text'],
    ],
  ],
  [
    'content',
    [
      ['id', 'text'],
      ['space_id', 'integer'],
      ['type', 'text'],
      ['title', 'text'],
      ['restricted', 'integer'],
      ['created_at', 'text'],
    ],
  ],
  [
    'content_view_users',
    [
      ['content_id', 'text'],
      ['account_id', 'text'],
    ],
  ],
  [
    'content_view_groups',
    [
      ['content_id', 'text'],
      ['group_id', 'text'],
    ],
  ],
  [
    'labels',
    [
      ['name', 'text'],
      ['created_at', 'text'],
    ],
  ],
  [
    'content_labels',
    [
      ['content_id', 'text'],
      ['label', 'text'],
    ],
  ],
  [
    'content_watches',
    [
      ['account_id', 'text'],
      ['content_id', 'text'],
      ['created_at', 'text'],
    ],
  ],
  [
    'space_watches',
    [
      ['account_id', 'text'],
      ['space_id', 'integer'],
      ['created_at', 'text'],
    ],
  ],
  [
    'label_watches',
    [
      ['account_id', 'text'],
      ['label', 'text'],
      ['created_at', 'text'],
    ],
  ],
];

/** What identifies a row within its site, per table: the copies are indexed by snapshot and these, for restores. */
const KEYS: Record<string, string[]> = {
  users: ['account_id'],
  groups: ['id'],
  group_members: ['group_id', 'account_id'],
  api_tokens: ['id'],
  apps: ['key'],
  properties: ['id'],
  oauth_tokens: ['id'],
  spaces: ['id'],
  space_view_groups: ['space_id', 'group_id'],
  space_view_users: ['space_id', 'account_id'],
  content: ['id'],
  content_view_users: ['content_id', 'account_id'],
  content_view_groups: ['content_id', 'group_id'],
  labels: ['name'],
  content_labels: ['content_id', 'label'],
  content_watches: ['account_id', 'content_id'],
  space_watches: ['account_id', 'space_id'],
  label_watches: ['account_id', 'label'],
};

export function siteSeeds(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('sites').addColumn('seed', 'text').execute();
      await db.schema.alterTable('sites').addColumn('first_admin', 'text').execute();

      // Sites started by an earlier version: their first-start admin is the holder of the token first start named.
      const tokens = (await db
        .selectFrom('api_tokens')
        .innerJoin('users', (join) =>
          join
            .onRef('users.site_id', '=', 'api_tokens.site_id')
            .onRef('users.account_id', '=', 'api_tokens.account_id'),
        )
        .select([
          'api_tokens.site_id as site_id',
          'api_tokens.id as id',
          'api_tokens.account_id as account_id',
          'api_tokens.digest as digest',
          'api_tokens.created_at as created_at',
          'users.email as email',
        ])
        .where('api_tokens.name', '=', 'first start')
        .orderBy('api_tokens.created_at')
        .execute()) as Array<{
        site_id: number;
        id: string;
        account_id: string;
        digest: string;
        created_at: string;
        email: string;
      }>;
      const seen = new Set<number>();
      for (const token of tokens) {
        if (seen.has(token.site_id)) continue;
        seen.add(token.site_id);
        const firstAdmin = {
          accountId: token.account_id,
          email: token.email,
          tokenId: token.id,
          digest: token.digest,
          createdAt: token.created_at,
        };
        await db
          .updateTable('sites')
          .set({ first_admin: JSON.stringify(firstAdmin) })
          .where('id', '=', token.site_id)
          .execute();
      }

      await db.schema
        .createTable('snapshots')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('site_id', 'integer', (c) => c.notNull().references('sites.id').onDelete('cascade'))
        // Null: the site's seed state, which reset restores.
        .addColumn('name', 'text')
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('snapshots_site_name', ['site_id', 'name'])
        .execute();

      for (const [table, columns] of SNAPSHOT_TABLES) {
        let create = db.schema
          .createTable(`snapshot_${table}`)
          .addColumn('snapshot_id', 'integer', (c) => c.notNull().references('snapshots.id').onDelete('cascade'));
        for (const [column, type] of columns) {
          create = create.addColumn(column, dialect === 'sqlite' && type === 'bigint' ? 'integer' : type);
        }
        await create.execute();
        await db.schema
          .createIndex(`snapshot_${table}_by_key`)
          .on(`snapshot_${table}`)
          .columns(['snapshot_id', ...KEYS[table]!])
          .execute();
      }
    },
  };
}
