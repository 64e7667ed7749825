/**
 * First start (docs/behaviour.md §7): the site, its default groups, and — when no active
 * admin exists — an admin user with a fresh API token, shown once.
 * It runs once per database: the site row records that it ran, in the same
 * transaction, so a later start never creates an admin, even when no active
 * admin is left (docs/decisions.md, "First start"). Seeds loaded before it
 * do not count as a start. Safe when several instances start together on
 * one PostgreSQL.
 */
import type { Kysely } from 'kysely';
import { addGroupMember, ensureGroup } from '../store/groups.ts';
import type { Database } from '../store/schema.ts';
import { ensureSite, hasFirstStarted, lockSite, markFirstStarted } from '../store/site.ts';
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

const ADMIN_EMAIL = 'admin@userplane.local';

export async function bootstrap(db: Kysely<Database>, secrets: Secrets): Promise<FirstStart | undefined> {
  await ensureSite(db);
  return db.transaction().execute(async (trx) => {
    await lockSite(trx);
    const site = await ensureSite(trx);
    for (const name of new Set([...site.settings.canUseGroups, ...site.settings.adminGroups]))
      await ensureGroup(trx, name);
    if (await hasFirstStarted(trx)) return undefined;
    await markFirstStarted(trx);
    if ((await countActiveMembers(trx, site.settings.adminGroups)) > 0) return undefined;

    const email = (await findUserByEmail(trx, ADMIN_EMAIL)) ? `admin-${Date.now()}@userplane.local` : ADMIN_EMAIL;
    const accountId = newAccountId();
    await upsertUser(trx, {
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
    for (const group of new Set([...site.settings.adminGroups, ...site.settings.canUseGroups])) {
      await addGroupMember(trx, group, accountId);
    }
    const apiToken = newApiToken();
    await insertToken(trx, { accountId, name: 'first start', digest: secrets.digest(apiToken), expiresAt: null });
    return { email, accountId, apiToken, cloudId: site.cloudId };
  });
}
