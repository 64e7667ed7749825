import { randomUUID } from 'node:crypto';
import { DEFAULT_SITE_SETTINGS, type SiteSettings } from '../schemas/site.ts';
import type { Db } from './database.ts';

export interface StoredSite {
  cloudId: string;
  baseUrl: string | null;
  settings: SiteSettings;
}

const SITE_ID = 1;

/** Creates the site row once; concurrent first starts agree on one (ON CONFLICT). */
export async function ensureSite(db: Db, cloudId: string = randomUUID()): Promise<StoredSite> {
  await db
    .insertInto('site')
    .values({
      id: SITE_ID,
      cloud_id: cloudId,
      base_url: null,
      settings: JSON.stringify(DEFAULT_SITE_SETTINGS),
      created_at: new Date().toISOString(),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const site = await readSite(db);
  if (!site) throw new Error('the site row vanished right after it was created');
  return site;
}

export async function readSite(db: Db): Promise<StoredSite | undefined> {
  const row = await db.selectFrom('site').selectAll().where('id', '=', SITE_ID).executeTakeFirst();
  if (!row) return undefined;
  // Settings added by later versions get their defaults when read.
  const settings = { ...DEFAULT_SITE_SETTINGS, ...(JSON.parse(row.settings) as Partial<SiteSettings>) };
  return { cloudId: row.cloud_id, baseUrl: row.base_url, settings };
}

export async function updateSite(
  db: Db,
  change: { cloudId?: string; baseUrl?: string; settings?: Partial<SiteSettings> },
): Promise<void> {
  const current = await ensureSite(db, change.cloudId);
  await db
    .updateTable('site')
    .set({
      cloud_id: change.cloudId ?? current.cloudId,
      base_url: change.baseUrl ?? current.baseUrl,
      settings: JSON.stringify({ ...current.settings, ...change.settings }),
    })
    .where('id', '=', SITE_ID)
    .execute();
}

/**
 * Holds the site row's lock until the transaction ends (PostgreSQL; SQLite
 * has one writer anyway), so first-start checks run one instance at a time.
 */
export async function lockSite(db: Db): Promise<void> {
  await db
    .updateTable('site')
    .set((eb) => ({ id: eb.ref('id') }))
    .where('id', '=', SITE_ID)
    .execute();
}

/** Whether first start has run on this database (docs/behaviour.md §7). */
export async function hasFirstStarted(db: Db): Promise<boolean> {
  const row = await db.selectFrom('site').select('first_started_at').where('id', '=', SITE_ID).executeTakeFirst();
  return row?.first_started_at != null;
}

/** Records that first start has run; it never runs again on this database. */
export async function markFirstStarted(db: Db): Promise<void> {
  await db
    .updateTable('site')
    .set({ first_started_at: new Date().toISOString() })
    .where('id', '=', SITE_ID)
    .where('first_started_at', 'is', null)
    .execute();
}
