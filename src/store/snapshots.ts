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
const table = <T extends SiteTableName>(name: T, columns: Columns<T>) => ({ name, columns: [...columns] as string[] });

/**
 * Every table of a site's rows with its columns after `site_id`, parents
 * first: the order rows go back in; they are deleted in the reverse order.
 * A table or column added later belongs here and in a `snapshot_` table of
 * its migration (test/store/snapshots.test.ts compares both with the database).
 */
export const SNAPSHOT_TABLES: ReadonlyArray<{ name: SiteTableName; columns: string[] }> = [
  table('users', [
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
  ]),
  table('groups', ['id', 'name']),
  table('group_members', ['group_id', 'account_id']),
  table('api_tokens', ['id', 'account_id', 'name', 'digest', 'created_at', 'expires_at']),
  table('apps', [
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
  ]),
  table('properties', [
    'id',
    'product',
    'namespace',
    'account_id',
    'key',
    'value',
    'version',
    'created_at',
    'updated_at',
  ]),
  table('oauth_tokens', ['id', 'digest', 'app_key', 'account_id', 'scopes', 'created_at', 'expires_at']),
  table('spaces', ['id', 'key', 'name', 'type', 'owner_account_id', 'view_anonymous', 'created_at']),
  table('space_view_groups', ['space_id', 'group_id']),
  table('space_view_users', ['space_id', 'account_id']),
  table('content', ['id', 'space_id', 'type', 'title', 'restricted', 'created_at']),
  table('content_view_users', ['content_id', 'account_id']),
  table('content_view_groups', ['content_id', 'group_id']),
  table('labels', ['name', 'created_at']),
  table('content_labels', ['content_id', 'label']),
  table('content_watches', ['account_id', 'content_id', 'created_at']),
  table('space_watches', ['account_id', 'space_id', 'created_at']),
  table('label_watches', ['account_id', 'label', 'created_at']),
];

export const snapshotTableOf = (name: string) => `snapshot_${name}`;

/** Prepared once: the statements are the same for every site and snapshot but for two integers. */
const statements = SNAPSHOT_TABLES.map(({ name, columns }) => {
  const list = sql.join(columns.map((c) => sql.ref(c)));
  const copy = sql.table(snapshotTableOf(name));
  const live = sql.table(name);
  return {
    empty: (siteId: number) => sql`delete from ${live} where site_id = ${siteId}`,
    take: (siteId: number, snapshotId: number) =>
      sql`insert into ${copy} (snapshot_id, ${list}) select ${snapshotId}, ${list} from ${live} where site_id = ${siteId}`,
    restore: (siteId: number, snapshotId: number) =>
      sql`insert into ${live} (site_id, ${list}) select ${siteId}, ${list} from ${copy} where snapshot_id = ${snapshotId}`,
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

/** Replaces the site's rows and settings with the snapshot's; the snapshot stays. */
export async function restoreSnapshot(db: Db, siteId: number, snapshot: SnapshotRecord): Promise<void> {
  await emptySite(db, siteId);
  await runAll(
    db,
    statements.map((s) => s.restore(siteId, snapshot.id)),
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
