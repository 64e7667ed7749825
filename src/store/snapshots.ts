/**
 * A site's rows as a whole (docs/behaviour.md §11): emptying a site, copying
 * its rows into a snapshot and back, and what reset needs to remember of a
 * site (its seed and its first-start admin).
 *
 * A snapshot's rows live in `snapshot_<table>` (migration
 * 2026-12-01-0003-site-seeds), one per table below, and move with one
 * `INSERT … SELECT` per table: nothing passes through the application, so
 * a restore costs about what the database takes to write the rows
 * (docs/decisions.md, "Reset and snapshots"). On SQLite these statements go
 * through Kysely's driver, which empties the read memo before each one that
 * may write (store/sqlite.ts), so no read answers from before a restore.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Db } from './database.ts';
import { fetchPage, type Page } from './paging.ts';
import type { Database } from './schema.ts';

type SiteTableName = Exclude<keyof Database, 'sites' | 'server' | 'snapshots'>;
type Columns<T extends SiteTableName> = ReadonlyArray<Exclude<keyof Database[T] & string, 'site_id'>>;
const table = <T extends SiteTableName>(name: T, key: Columns<T>, columns: Columns<T>) => ({
  name,
  key: [...key] as string[],
  columns: [...columns] as string[],
});

/**
 * Every table of a site's rows with what identifies a row in its site (its
 * key) and its columns after `site_id`, parents first: the order rows go
 * back in; they are deleted in the reverse order.
 * A table or column added later belongs here and in a `snapshot_` table of
 * its migration (test/store/snapshots.test.ts compares both with the database).
 */
export const SNAPSHOT_TABLES: ReadonlyArray<{ name: SiteTableName; key: string[]; columns: string[] }> = [
  table(
    'users',
    ['account_id'],
    [
      'account_id',
      'account_type',
      'email',
      'email_lower',
      'display_name',
      'public_name',
      'time_zone',
      'email_visibility',
      'username',
      'user_key',
      'external_collaborator',
      'active',
      'created_at',
    ],
  ),
  table('groups', ['id'], ['id', 'name']),
  table('group_members', ['group_id', 'account_id'], ['group_id', 'account_id']),
  table('api_tokens', ['id'], ['id', 'account_id', 'name', 'digest', 'created_at', 'expires_at']),
  table(
    'apps',
    ['key'],
    [
      'key',
      'name',
      'client_key',
      'shared_secret',
      'oauth_client_id',
      'client_secret_digest',
      'scopes',
      'email_access',
      'account_id',
      'created_at',
      'kind',
    ],
  ),
  table(
    'properties',
    ['id'],
    ['id', 'product', 'namespace', 'account_id', 'key', 'value', 'version', 'created_at', 'updated_at'],
  ),
  table('oauth_tokens', ['id'], ['id', 'digest', 'app_key', 'account_id', 'scopes', 'created_at', 'expires_at']),
  table('spaces', ['id'], ['id', 'key', 'name', 'type', 'owner_account_id', 'view_anonymous', 'created_at']),
  table('space_view_groups', ['space_id', 'group_id'], ['space_id', 'group_id']),
  table('space_view_users', ['space_id', 'account_id'], ['space_id', 'account_id']),
  table('content', ['id'], ['id', 'space_id', 'type', 'title', 'restricted', 'created_at']),
  table('content_view_users', ['content_id', 'account_id'], ['content_id', 'account_id']),
  table('content_view_groups', ['content_id', 'group_id'], ['content_id', 'group_id']),
  table('labels', ['name'], ['name', 'created_at']),
  table('content_labels', ['content_id', 'label'], ['content_id', 'label']),
  table('content_watches', ['account_id', 'content_id'], ['account_id', 'content_id', 'created_at']),
  table('space_watches', ['account_id', 'space_id'], ['account_id', 'space_id', 'created_at']),
  table('label_watches', ['account_id', 'label'], ['account_id', 'label', 'created_at']),
];

export const snapshotTableOf = (name: string) => `snapshot_${name}`;

/**
 * `live` (the table, or an alias of it) holds the same row as `copy` (an
 * alias of its snapshot table) in snapshot `snapshotId`: the same key, and
 * every other column the same, nulls included.
 */
function sameRow(
  def: { key: string[]; columns: string[] },
  live: string,
  copy: string,
  snapshotId: number,
): RawBuilder<unknown> {
  const key = def.key.map((c) => sql`${sql.ref(`${copy}.${c}`)} = ${sql.ref(`${live}.${c}`)}`);
  const rest = def.columns
    .filter((c) => !def.key.includes(c))
    .map((c) => sql`${sql.ref(`${copy}.${c}`)} is not distinct from ${sql.ref(`${live}.${c}`)}`);
  return sql.join([sql`${sql.ref(`${copy}.snapshot_id`)} = ${snapshotId}`, ...key, ...rest], sql` and `);
}

const USERS = SNAPSHOT_TABLES.find((t) => t.name === 'users')!;

/** The user `accountId` (a column reference) names stays as it is: the snapshot holds the same row. */
function userStays(siteId: number, snapshotId: number, accountId: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`exists (select 1 from users u join snapshot_users s on ${sameRow(USERS, 'u', 's', snapshotId)} where u.site_id = ${siteId} and u.account_id = ${accountId})`;
}

/**
 * Beyond its own row, what makes a row go in a restore: the two references
 * to a user that are not cascades (docs/decisions.md, "Sites"): an app
 * goes when its bot user does, a personal space when its owner does, so the
 * user can go and come back.
 */
const GOES_WITH_ITS_USER: Partial<Record<SiteTableName, string>> = { apps: 'account_id', spaces: 'owner_account_id' };

/** The statements are the same for every site and snapshot but for two integers. */
const statements = SNAPSHOT_TABLES.map((def) => {
  const { name, columns } = def;
  const list = sql.join(columns.map((c) => sql.ref(c)));
  const copy = sql.table(snapshotTableOf(name));
  const live = sql.table(name);
  const userColumn = GOES_WITH_ITS_USER[name];
  return {
    empty: (siteId: number) => sql`delete from ${live} where site_id = ${siteId}`,
    take: (siteId: number, snapshotId: number) =>
      sql`insert into ${copy} (snapshot_id, ${list}) select ${snapshotId}, ${list} from ${live} where site_id = ${siteId}`,
    /** Deletes the rows the snapshot does not hold as they are (cascading to what hangs on them). */
    prune: (siteId: number, snapshotId: number) => {
      const kept = sql`exists (select 1 from ${copy} c where ${sameRow(def, name, 'c', snapshotId)})`;
      if (userColumn === undefined) return sql`delete from ${live} where site_id = ${siteId} and not ${kept}`;
      const user = sql.ref(`${name}.${userColumn}`);
      return sql`delete from ${live} where site_id = ${siteId} and not (${kept} and (${user} is null or ${userStays(siteId, snapshotId, user)}))`;
    },
    /** Inserts the snapshot's rows the site lacks; after `prune`, a row with the key is the same row. */
    fill: (siteId: number, snapshotId: number) => {
      const present = sql.join(
        def.key.map((c) => sql`t.${sql.ref(c)} = c.${sql.ref(c)}`),
        sql` and `,
      );
      return sql`insert into ${live} (site_id, ${list}) select ${siteId}, ${sql.join(columns.map((c) => sql.ref(`c.${c}`)))} from ${copy} c where c.snapshot_id = ${snapshotId} and not exists (select 1 from ${live} t where t.site_id = ${siteId} and ${present})`;
    },
  };
});

async function runAll(db: Db, queries: RawBuilder<unknown>[]): Promise<void> {
  for (const query of queries) await query.execute(db);
}

/** Deletes every row of the site but the site row itself (and its snapshots), children first. */
export async function emptySite(db: Db, siteId: number): Promise<void> {
  await runAll(
    db,
    [...statements].reverse().map((s) => s.empty(siteId)),
  );
}

export interface SnapshotRecord {
  id: number;
  name: string | null;
  settings: string;
  createdAt: string;
}

/**
 * Copies the site's rows and settings into a new snapshot. A second
 * snapshot of the same name fails with the store's unique violation (a
 * seed state, named null, is replaced by the caller first).
 */
export async function takeSnapshot(db: Db, siteId: number, name: string | null): Promise<SnapshotRecord> {
  const site = await db.selectFrom('sites').select('settings').where('id', '=', siteId).executeTakeFirstOrThrow();
  const createdAt = new Date().toISOString();
  const { id } = await db
    .insertInto('snapshots')
    .values({ site_id: siteId, name, settings: site.settings, created_at: createdAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  await runAll(
    db,
    statements.map((s) => s.take(siteId, id)),
  );
  return { id, name, settings: site.settings, createdAt };
}

/**
 * Makes the site's rows and settings the snapshot's; the snapshot stays.
 * Rows the snapshot holds as they are stay untouched: the others are
 * deleted, children first, and the snapshot's missing rows inserted,
 * parents first. A restore then costs about the changes since, not the
 * site's size (docs/decisions.md, "Reset and snapshots").
 */
export async function restoreSnapshot(db: Db, siteId: number, snapshot: SnapshotRecord): Promise<void> {
  await runAll(
    db,
    [...statements].reverse().map((s) => s.prune(siteId, snapshot.id)),
  );
  await runAll(
    db,
    statements.map((s) => s.fill(siteId, snapshot.id)),
  );
  await db.updateTable('sites').set({ settings: snapshot.settings }).where('id', '=', siteId).execute();
}

type SnapshotRow = { id: number; name: string | null; settings: string; created_at: string };
const toRecord = (row: SnapshotRow): SnapshotRecord => ({
  id: row.id,
  name: row.name,
  settings: row.settings,
  createdAt: row.created_at,
});

/** A snapshot of the site by name; null names the seed state. */
export async function findSnapshot(db: Db, siteId: number, name: string | null): Promise<SnapshotRecord | undefined> {
  const row = await db
    .selectFrom('snapshots')
    .select(['id', 'name', 'settings', 'created_at'])
    .where('site_id', '=', siteId)
    .where('name', name === null ? 'is' : '=', name)
    .executeTakeFirst();
  return row && toRecord(row);
}

/** The site's named snapshots, by name. */
export async function listSnapshots(
  db: Db,
  siteId: number,
  page: Page,
): Promise<{ items: SnapshotRecord[]; more: boolean }> {
  const { items, more } = await fetchPage(
    db
      .selectFrom('snapshots')
      .select(['id', 'name', 'settings', 'created_at'])
      .where('site_id', '=', siteId)
      .where('name', 'is not', null)
      .orderBy('name'),
    page,
  );
  return { items: items.map(toRecord), more };
}

/** Deletes a snapshot and its rows; answers whether it existed. Null names the seed state. */
export async function deleteSnapshot(db: Db, siteId: number, name: string | null): Promise<boolean> {
  const result = await db
    .deleteFrom('snapshots')
    .where('site_id', '=', siteId)
    .where('name', name === null ? 'is' : '=', name)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

// ---------------------------------------------------------------- what reset remembers of a site

/**
 * The admin first start made (domain/bootstrap.ts), as reset brings them
 * back: the API token is its digest, as `api_tokens` holds it.
 */
export interface FirstAdmin {
  accountId: string;
  email: string;
  tokenId: string;
  digest: string;
  createdAt: string;
}

export async function writeFirstAdmin(db: Db, siteId: number, admin: FirstAdmin): Promise<void> {
  await db
    .updateTable('sites')
    .set({ first_admin: JSON.stringify(admin) })
    .where('id', '=', siteId)
    .execute();
}

/** The seed document (JSON text, null: none) and the first-start admin of a site. */
export async function readResetSource(
  db: Db,
  siteId: number,
): Promise<{ seed: string | null; firstAdmin: FirstAdmin | undefined } | undefined> {
  const row = await db.selectFrom('sites').select(['seed', 'first_admin']).where('id', '=', siteId).executeTakeFirst();
  if (!row) return undefined;
  return {
    seed: row.seed,
    firstAdmin: row.first_admin === null ? undefined : (JSON.parse(row.first_admin) as FirstAdmin),
  };
}

/** Records the seed a site was made from (JSON text; null: none). */
export async function writeSeed(db: Db, siteId: number, seed: string | null): Promise<void> {
  await db.updateTable('sites').set({ seed }).where('id', '=', siteId).execute();
}

/** The first-start admin's API token row, as first start made it (same id, digest and date). */
export async function insertFirstAdminToken(db: Db, siteId: number, admin: FirstAdmin): Promise<void> {
  await db
    .insertInto('api_tokens')
    .values({
      site_id: siteId,
      id: admin.tokenId,
      account_id: admin.accountId,
      name: 'first start',
      digest: admin.digest,
      created_at: admin.createdAt,
      expires_at: null,
    })
    .execute();
}
