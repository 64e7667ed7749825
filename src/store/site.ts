/**
 * Sites (docs/behaviour.md §10) and the server row: which site is the
 * default, and the operator token's digest.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { DEFAULT_SITE_SETTINGS, type SiteSettings } from '../schemas/site.ts';
import type { Db } from './database.ts';
import { fetchPage, type Page } from './paging.ts';
import type { SiteTable } from './schema.ts';

export interface StoredSite {
  id: number;
  name: string;
  cloudId: string;
  baseUrl: string | null;
  settings: SiteSettings;
  createdAt: string;
}

/** The host and port a base URL names, when it names no path (docs/behaviour.md §10, rule 3). */
export function hostOfBaseUrl(baseUrl: string | null): string | null {
  if (baseUrl === null) return null;
  try {
    const url = new URL(baseUrl);
    if (url.pathname !== '/' && url.pathname !== '') return null;
    return url.host.toLowerCase();
  } catch {
    return null;
  }
}

const SERVER_ROW = 1;

type SiteRow = Omit<SiteTable, 'id' | 'seed' | 'first_admin'> & { id: number };

/** What a site read takes: not the seed or the first admin (store/snapshots.ts reads those), which may be large. */
const SITE_COLUMNS = [
  'id',
  'name',
  'cloud_id',
  'base_url',
  'host',
  'settings',
  'created_at',
  'first_started_at',
] as const satisfies ReadonlyArray<keyof SiteRow>;

function toStoredSite(row: SiteRow): StoredSite {
  // Settings added by later versions get their defaults when read.
  const settings = { ...DEFAULT_SITE_SETTINGS, ...(JSON.parse(row.settings) as Partial<SiteSettings>) };
  return {
    id: row.id,
    name: row.name,
    cloudId: row.cloud_id,
    baseUrl: row.base_url,
    settings,
    createdAt: row.created_at,
  };
}

export interface NewSite {
  name: string;
  cloudId?: string;
  baseUrl?: string | null;
  settings?: Partial<SiteSettings>;
}

/** Inserts a site; a taken name, cloudId or host fails with the store's unique violation. */
export async function insertSite(db: Db, site: NewSite): Promise<StoredSite> {
  const row = await db.insertInto('sites').values(siteValues(site)).returning(SITE_COLUMNS).executeTakeFirstOrThrow();
  return toStoredSite(row);
}

function siteValues(site: NewSite) {
  const baseUrl = site.baseUrl ?? null;
  return {
    name: site.name,
    cloud_id: site.cloudId ?? randomUUID(),
    base_url: baseUrl,
    host: hostOfBaseUrl(baseUrl),
    settings: JSON.stringify({ ...DEFAULT_SITE_SETTINGS, ...site.settings }),
    created_at: new Date().toISOString(),
  };
}

/**
 * The default site, created on first use. Concurrent first starts agree on
 * one: a second insert of the same site does nothing, and the server row
 * names the site that got there first.
 */
export async function ensureDefaultSite(db: Db, name = 'default', cloudId?: string): Promise<StoredSite> {
  const existing = await findDefaultSite(db);
  if (existing) return existing;
  await db
    .insertInto('sites')
    .values(siteValues({ name, cloudId }))
    .onConflict((oc) => oc.doNothing())
    .execute();
  const site = await findSiteByName(db, name);
  if (!site) throw new Error(`the site "${name}" vanished right after it was created`);
  await db
    .insertInto('server')
    .values({ id: SERVER_ROW, default_site_id: site.id, operator_token_digest: null, created_at: site.createdAt })
    // The row may exist without a default site yet (an operator token made first); the first site set wins.
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ default_site_id: sql`coalesce(server.default_site_id, excluded.default_site_id)` }),
    )
    .execute();
  return (await findDefaultSite(db))!;
}

export async function findDefaultSite(db: Db): Promise<StoredSite | undefined> {
  const row = await db
    .selectFrom('server')
    .innerJoin('sites', 'sites.id', 'server.default_site_id')
    .select(SITE_COLUMNS.map((c) => `sites.${c}` as const))
    .where('server.id', '=', SERVER_ROW)
    .executeTakeFirst();
  return row && toStoredSite(row);
}

export async function findSiteById(db: Db, id: number): Promise<StoredSite | undefined> {
  const row = await db.selectFrom('sites').select(SITE_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && toStoredSite(row);
}

export async function findSiteByName(db: Db, name: string): Promise<StoredSite | undefined> {
  const row = await db.selectFrom('sites').select(SITE_COLUMNS).where('name', '=', name).executeTakeFirst();
  return row && toStoredSite(row);
}

export async function findSiteByCloudId(db: Db, cloudId: string): Promise<StoredSite | undefined> {
  const row = await db.selectFrom('sites').select(SITE_COLUMNS).where('cloud_id', '=', cloudId).executeTakeFirst();
  return row && toStoredSite(row);
}

/** The site whose base URL names this host and port and no path (rule 3 of §10). */
export async function findSiteByHost(db: Db, host: string): Promise<StoredSite | undefined> {
  const row = await db
    .selectFrom('sites')
    .select(SITE_COLUMNS)
    .where('host', '=', host.toLowerCase())
    .executeTakeFirst();
  return row && toStoredSite(row);
}

export async function listSites(db: Db, page: Page): Promise<{ items: StoredSite[]; more: boolean }> {
  const { items, more } = await fetchPage(db.selectFrom('sites').select(SITE_COLUMNS).orderBy('name'), page);
  return { items: items.map(toStoredSite), more };
}

/** Removes a site and, by cascade, everything of it. Answers whether it existed. */
export async function deleteSite(db: Db, id: number): Promise<boolean> {
  const result = await db.deleteFrom('sites').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function updateSite(
  db: Db,
  siteId: number,
  change: { name?: string; cloudId?: string; baseUrl?: string; settings?: Partial<SiteSettings> },
): Promise<void> {
  const current = await findSiteById(db, siteId);
  if (!current) throw new Error(`site ${siteId} does not exist`);
  const baseUrl = change.baseUrl ?? current.baseUrl;
  await db
    .updateTable('sites')
    .set({
      name: change.name ?? current.name,
      cloud_id: change.cloudId ?? current.cloudId,
      base_url: baseUrl,
      host: hostOfBaseUrl(baseUrl),
      settings: JSON.stringify({ ...current.settings, ...change.settings }),
    })
    .where('id', '=', siteId)
    .execute();
}

/**
 * Holds the site row's lock until the transaction ends (PostgreSQL; SQLite
 * has one writer anyway), so first-start checks run one instance at a time.
 */
export async function lockSite(db: Db, siteId: number): Promise<void> {
  await db
    .updateTable('sites')
    .set((eb) => ({ id: eb.ref('id') }))
    .where('id', '=', siteId)
    .execute();
}

/** Whether first start has run on this site (docs/behaviour.md §7). */
export async function hasFirstStarted(db: Db, siteId: number): Promise<boolean> {
  const row = await db.selectFrom('sites').select('first_started_at').where('id', '=', siteId).executeTakeFirst();
  return row?.first_started_at != null;
}

/** Records that first start has run; it never runs again on this site. */
export async function markFirstStarted(db: Db, siteId: number): Promise<void> {
  await db
    .updateTable('sites')
    .set({ first_started_at: new Date().toISOString() })
    .where('id', '=', siteId)
    .where('first_started_at', 'is', null)
    .execute();
}

/** The server row, made once; what it names is filled in by first start. */
export async function ensureServerRow(db: Db): Promise<void> {
  await db
    .insertInto('server')
    .values({
      id: SERVER_ROW,
      default_site_id: null,
      operator_token_digest: null,
      created_at: new Date().toISOString(),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function readOperatorTokenDigest(db: Db): Promise<string | null> {
  const row = await db
    .selectFrom('server')
    .select('operator_token_digest')
    .where('id', '=', SERVER_ROW)
    .executeTakeFirst();
  return row?.operator_token_digest ?? null;
}

/** Sets the operator token's digest only if none is stored yet, or replaces it when `replace`; answers whether it was written. */
export async function writeOperatorTokenDigest(db: Db, digest: string, replace: boolean): Promise<boolean> {
  let update = db.updateTable('server').set({ operator_token_digest: digest }).where('id', '=', SERVER_ROW);
  if (!replace) update = update.where('operator_token_digest', 'is', null);
  const result = await update.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
