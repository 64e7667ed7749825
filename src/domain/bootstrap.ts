/**
 * First start (docs/behaviour.md §7): the site, its default groups, and — when no active
 * admin exists — an admin user with a fresh API token, shown once.
 * It runs once per site: the site row records that it ran, in the same
 * transaction, so a later start never creates an admin, even when no active
 * admin is left (docs/decisions.md, "First start"). Seeds loaded before it
 * do not count as a start. Safe when several instances start together on
 * one PostgreSQL.
 */
import type { Kysely } from 'kysely';
import type { SiteSettings } from '../schemas/site.ts';
import type { Db } from '../store/database.ts';
import { addGroupMember, ensureGroup } from '../store/groups.ts';
import type { Database } from '../store/schema.ts';
import { ensureDefaultSite, findSiteById, hasFirstStarted, lockSite, markFirstStarted } from '../store/site.ts';
import { writeFirstAdmin } from '../store/snapshots.ts';
import { insertToken } from '../store/tokens.ts';
import { countActiveMembers, findUserByEmail, upsertUser } from '../store/users.ts';
import { newApiToken, type Secrets } from './secrets.ts';
import { newAccountId } from './users.ts';

export interface FirstStart {
  email: string;
  accountId: string;
  apiToken: string;
  cloudId: string;
}

export const ADMIN_EMAIL = 'admin@userplane.local';

/**
 * The admin user first start makes, in the site's admin and can-use groups:
 * at first start, and again when reset brings them back (domain/admin/snapshots.ts).
 */
export async function addFirstAdminUser(
  trx: Db,
  siteId: number,
  settings: Pick<SiteSettings, 'adminGroups' | 'canUseGroups'>,
  accountId: string,
  email: string,
): Promise<void> {
  await upsertUser(trx, siteId, {
    accountId,
    accountType: 'atlassian',
    email,
    displayName: 'Site Admin',
    publicName: 'Site Admin',
    timeZone: 'UTC',
    emailVisibility: 'admins',
    username: null,
    userKey: null,
    externalCollaborator: false,
    active: true,
  });
  for (const group of new Set([...settings.adminGroups, ...settings.canUseGroups])) {
    await addGroupMember(trx, siteId, group, accountId);
  }
}

/** First start on the default site, created here on a new database. */
export async function bootstrap(db: Kysely<Database>, secrets: Secrets): Promise<FirstStart | undefined> {
  const site = await ensureDefaultSite(db);
  return db.transaction().execute((trx) => startSite(trx, site.id, secrets));
}

/**
 * First start on one site, in the caller's transaction: its default groups,
 * and an admin with a fresh API token unless an active admin exists. It runs
 * once per site; a new site (docs/behaviour.md §10) runs it when it is made.
 */
export async function startSite(trx: Db, siteId: number, secrets: Secrets): Promise<FirstStart | undefined> {
  await lockSite(trx, siteId);
  const site = await findSiteById(trx, siteId);
  if (!site) throw new Error(`site ${siteId} does not exist`);
  for (const name of new Set([...site.settings.canUseGroups, ...site.settings.adminGroups]))
    await ensureGroup(trx, siteId, name);
  if (await hasFirstStarted(trx, siteId)) return undefined;
  await markFirstStarted(trx, siteId);
  if ((await countActiveMembers(trx, siteId, site.settings.adminGroups)) > 0) return undefined;

  const email = (await findUserByEmail(trx, siteId, ADMIN_EMAIL)) ? `admin-${Date.now()}@userplane.local` : ADMIN_EMAIL;
  const accountId = newAccountId();
  await addFirstAdminUser(trx, siteId, site.settings, accountId, email);
  const apiToken = newApiToken();
  const digest = secrets.digest(apiToken);
  const token = await insertToken(trx, siteId, { accountId, name: 'first start', digest, expiresAt: null });
  // Reset brings this admin back with the same accountId and token (docs/behaviour.md §11).
  await writeFirstAdmin(trx, siteId, { accountId, email, tokenId: token.id, digest, createdAt: token.createdAt });
  return { email, accountId, apiToken, cloudId: site.cloudId };
}
