/**
 * Reset and snapshots of a site (docs/behaviour.md §11).
 *
 * A site keeps its seed state as a snapshot of its own (named null, never
 * listed): taken when the site is made, right after its seed and first
 * start, so a reset is a restore of it, and costs what a restore costs
 * rather than what loading the seed costs. When there is none (the default
 * site's `--seed` changed at a start, or a site made by an earlier version)
 * the next reset builds it: it empties the site, loads the seed, brings back
 * the first-start admin, and keeps the result as the seed state.
 *
 * Reset and restore run in one transaction, holding the site row's lock,
 * so a concurrent request sees the site wholly before or wholly after, and
 * two of them on one site run one after the other. What the process keeps
 * of a site outside the database (the journal, fault rules, rate-limit
 * state) is cleared by the listeners given to `onReset`, once the change is
 * committed; the credential caches are cleared by the administration
 * routes after every change (http/admin/index.ts).
 */
import type { Kysely } from 'kysely';
import type { AdminSnapshot } from '../../schemas/admin.ts';
import type { SeedFile } from '../../schemas/seed.ts';
import { DEFAULT_SITE_SETTINGS } from '../../schemas/site.ts';
import { isUniqueViolation } from '../../store/database.ts';
import type { Database } from '../../store/schema.ts';
import { findDefaultSite, findSiteById, lockSite, updateSite } from '../../store/site.ts';
import {
  deleteSnapshot,
  emptySite,
  type FirstAdmin,
  findSnapshot,
  insertFirstAdminToken,
  listSnapshots,
  readResetSource,
  restoreSnapshot,
  type SnapshotRecord,
  takeSnapshot,
  writeSeed,
} from '../../store/snapshots.ts';
import { findUser, findUserByEmail } from '../../store/users.ts';
import { addFirstAdminUser } from '../bootstrap.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import type { Secrets } from '../secrets.ts';
import { loadSeedInto } from '../seed.ts';
import { type AdminList, listOf, type PageRequest, pageOf } from './common.ts';

export const SNAPSHOT_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Told, after a reset or restore of a site is committed, to forget what it
 * keeps of that site in this process. The request journal, fault rules and
 * rate-limit state (docs/behaviour.md §11, §12) register one each in app.ts.
 */
export type ResetListener = (siteId: number) => void;

type Db = Kysely<Database>;

const noSuchSnapshot = (name: string) => notFound(`No snapshot named "${name}"`);

export class SiteControl {
  readonly #listeners: ResetListener[] = [];

  constructor(
    private readonly db: Db,
    private readonly secrets: Secrets,
  ) {}

  /** Adds a listener told of every reset and restore this process makes. */
  onReset(listener: ResetListener): void {
    this.#listeners.push(listener);
  }

  /** Empties the site and brings back its seed state: its seed and its first-start admin. */
  async reset(siteId: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await lockSite(trx, siteId);
      const seedState = await findSnapshot(trx, siteId, null);
      if (seedState) await restoreSnapshot(trx, siteId, seedState);
      else await rebuildSeedState(trx, siteId, this.secrets);
    });
    this.#resetDone(siteId);
  }

  async snapshot(siteId: number, name: string): Promise<AdminSnapshot> {
    checkSnapshotName(name);
    // One consistent view of every table, whatever commits meanwhile (PostgreSQL; SQLite has one writer).
    const taken = await this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        if (await findSnapshot(trx, siteId, name)) throw taken409(name);
        return takeSnapshot(trx, siteId, name);
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw taken409(name);
        throw error;
      });
    return summary(taken);
  }

  async list(siteId: number, request: PageRequest = {}): Promise<AdminList<AdminSnapshot>> {
    const page = pageOf(request);
    const { items } = await listSnapshots(this.db, siteId, page);
    return listOf(items.map(summary), page);
  }

  /** The site exactly as it was when the snapshot was taken, credentials included. */
  async restore(siteId: number, name: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await lockSite(trx, siteId);
      const snapshot = await findSnapshot(trx, siteId, name);
      if (!snapshot) throw noSuchSnapshot(name);
      await restoreSnapshot(trx, siteId, snapshot);
    });
    this.#resetDone(siteId);
  }

  async delete(siteId: number, name: string): Promise<void> {
    if (!(await deleteSnapshot(this.db, siteId, name))) throw noSuchSnapshot(name);
  }

  #resetDone(siteId: number): void {
    for (const listener of this.#listeners) listener(siteId);
  }
}

export function checkSnapshotName(name: string): void {
  if (!SNAPSHOT_NAME_PATTERN.test(name))
    throw badRequest(`"${name}" is not a snapshot name: 1 to 64 letters, digits, dots, underscores or hyphens`);
}

const taken409 = (name: string) => conflict(`A snapshot named "${name}" exists`);

function summary(snapshot: SnapshotRecord): AdminSnapshot {
  return { name: snapshot.name ?? '', createdDate: snapshot.createdAt };
}

/**
 * A new site's seed and first start are in place, in the caller's
 * transaction: remember the seed and keep this state as what reset brings
 * back (domain/admin/sites.ts, and a new default site at start).
 */
export async function keepSeedState(trx: Db, siteId: number, seed: SeedFile | null): Promise<void> {
  await writeSeed(trx, siteId, seed === null ? null : JSON.stringify(seed));
  await deleteSnapshot(trx, siteId, null);
  await takeSnapshot(trx, siteId, null);
}

/** Whether the database has its default site yet (before a start's seed and first start make it). */
export async function hasDefaultSite(db: Db): Promise<boolean> {
  return (await findDefaultSite(db)) !== undefined;
}

/**
 * At every start (server.ts): the default site's seed is the `--seed` of
 * this start, none when it was not given. A default site this start made
 * keeps its state now as its seed state; otherwise a changed seed drops the
 * seed state, and the next reset builds it from the new seed.
 */
export async function rememberStartSeed(db: Db, seed: SeedFile | undefined, madeNow: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const site = await findDefaultSite(trx);
    if (!site) return;
    await lockSite(trx, site.id);
    if (madeNow) return keepSeedState(trx, site.id, seed ?? null);
    const text = seed === undefined ? null : JSON.stringify(seed);
    if ((await readResetSource(trx, site.id))?.seed === text) return;
    await writeSeed(trx, site.id, text);
    await deleteSnapshot(trx, site.id, null);
  });
}

/**
 * Reset without a seed state: the site emptied, its settings as the seed
 * makes them on defaults, the seed loaded, the first-start admin back; the
 * result is kept as the seed state. The site's name, cloudId and base URL
 * stay: they are how it is reached.
 */
async function rebuildSeedState(trx: Db, siteId: number, secrets: Secrets): Promise<void> {
  const source = await readResetSource(trx, siteId);
  if (!source) throw new Error(`site ${siteId} does not exist`);
  const seed = source.seed === null ? {} : (JSON.parse(source.seed) as SeedFile);
  const { name: _name, cloudId: _cloudId, baseUrl: _baseUrl, ...settings } = seed.site ?? {};
  await emptySite(trx, siteId);
  await updateSite(trx, siteId, { settings: { ...DEFAULT_SITE_SETTINGS, ...settings } });
  await loadSeedInto(trx, siteId, secrets, { ...seed, site: settings }, 'the seed of the site');
  if (source.firstAdmin) await bringBackFirstAdmin(trx, siteId, source.firstAdmin);
  await deleteSnapshot(trx, siteId, null);
  await takeSnapshot(trx, siteId, null);
}

/**
 * The first-start admin with the same accountId and API token (its digest,
 * id and date). Should the seed now hold a user of that email, the admin
 * gets another, as first start would have given.
 */
async function bringBackFirstAdmin(trx: Db, siteId: number, admin: FirstAdmin): Promise<void> {
  if (await findUser(trx, siteId, admin.accountId)) return;
  const site = (await findSiteById(trx, siteId))!;
  const email = (await findUserByEmail(trx, siteId, admin.email)) ? `admin-${Date.now()}@userplane.local` : admin.email;
  await addFirstAdminUser(trx, siteId, site.settings, admin.accountId, email);
  await insertFirstAdminToken(trx, siteId, admin);
}
