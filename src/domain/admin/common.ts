/**
 * What every part of the administration API shares (docs/behaviour.md §9): paging, the
 * checks on names and ids, and the one invariant admin changes keep — a
 * site that had an active admin still has one afterwards, so the API cannot
 * lock its own users out.
 */
import type { Kysely, Transaction } from 'kysely';
import { ADMIN_PAGE } from '../../schemas/admin.ts';
import type { Database } from '../../store/schema.ts';
import { findSiteById, lockSite } from '../../store/site.ts';
import { countActiveMembers } from '../../store/users.ts';
import { badRequest, conflict } from '../errors.ts';
import { type Page, type PageRequest, requestedPage } from '../paging.ts';
import { sortedDistinct } from '../spaces.ts';
import { checkAccountId } from '../users.ts';

export interface AdminList<T> {
  results: T[];
  start: number;
  limit: number;
  size: number;
}

export type { PageRequest } from '../paging.ts';

/** Defaults and clamping of docs/behaviour.md §4: limits above the maximum are clamped, not rejected. */
export function pageOf(request: PageRequest): Page {
  return requestedPage(request, ADMIN_PAGE);
}

export function listOf<T>(items: T[], page: Page): AdminList<T> {
  return { results: items, start: page.start, limit: page.limit, size: items.length };
}

export const MAX_GROUP_NAME_LENGTH = 255;
// Control characters (C0, DEL, C1) would break logs, terminals and CLI output.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function checkGroupName(name: string, field = 'group name'): void {
  if (name.length === 0 || name.length > MAX_GROUP_NAME_LENGTH) {
    throw badRequest(`${field} must be 1 to ${MAX_GROUP_NAME_LENGTH} characters long`);
  }
  if (CONTROL.test(name))
    throw badRequest(`${field} "${name.replace(new RegExp(CONTROL, 'g'), '?')}" contains a control character`);
  if (name.trim() !== name) throw badRequest(`${field} "${name}" starts or ends with white space`);
}

/** Users and groups a view permission or a restriction names. */
export interface MemberNames {
  users?: string[];
  groups?: string[];
}

/** Syntax of the names (400), with distinct, ordered lists; `field` prefixes the messages. */
export function checkMemberNames(names: MemberNames, field: string): MemberNames {
  const out: MemberNames = {};
  if (names.users !== undefined) {
    for (const [i, id] of names.users.entries()) checkAccountId(id, `${field}.users[${i}]`);
    out.users = sortedDistinct(names.users);
  }
  if (names.groups !== undefined) {
    for (const [i, name] of names.groups.entries()) checkGroupName(name, `${field}.groups[${i}]`);
    out.groups = sortedDistinct(names.groups);
  }
  return out;
}

/**
 * Runs an admin change in one transaction that refuses to leave the site
 * without an active admin when it had one: deactivating or deleting the last
 * admin, removing them from the admin group, deleting it, or pointing
 * `adminGroups` elsewhere. The site row's lock serialises such changes, so
 * two concurrent ones cannot each remove "the other" admin (PostgreSQL;
 * SQLite has one writer anyway).
 */
export async function keepingAnAdmin<T>(
  db: Kysely<Database>,
  siteId: number,
  change: string,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await lockSite(trx, siteId);
    const before = await activeAdmins(trx, siteId);
    const result = await work(trx);
    if (before > 0 && (await activeAdmins(trx, siteId)) === 0) {
      const { settings } = (await findSiteById(trx, siteId))!;
      throw conflict(
        `${change} would leave the site without an active admin (an active member of ${settings.adminGroups.join(' or ') || 'an admin group'}): make another user an admin first`,
      );
    }
    return result;
  });
}

async function activeAdmins(trx: Transaction<Database>, siteId: number): Promise<number> {
  const site = await findSiteById(trx, siteId);
  return site ? countActiveMembers(trx, siteId, site.settings.adminGroups) : 0;
}
