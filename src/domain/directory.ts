/**
 * The Confluence user directory (docs/behaviour.md §1 `/user…`, §3, §4): looking users
 * up, who may see which email, what `expand` adds, memberships and the legacy
 * migration lookup (the email API is domain/email.ts). No HTTP and no SQL:
 * routes shape what this returns, the store answers the queries.
 */
import type { Kysely } from 'kysely';
import type { SiteSettings } from '../schemas/site.ts';
import { findPersonalSpaces, findUsersByAccountId, findUsersByLegacyId, type LegacyField } from '../store/directory.ts';
import { groupNamesOfUsers, listGroupsOfUser } from '../store/groups.ts';
import type { Database } from '../store/schema.ts';
import { badRequest } from './errors.ts';
import type { Page, PageSize } from './paging.ts';
import { canUse, isAdmin, type Principal } from './principal.ts';
import type { Site } from './site.ts';
import type { PersonalSpace } from './spaces.ts';
import { checkAccountId, type Group, given, type LegacyUserParameters, noSuchUser, type User } from './users.ts';

/** docs/behaviour.md §4 paging: each list's default and maximum `limit`. */
export const MEMBEROF_PAGE: PageSize = { defaultLimit: 200, maxLimit: 200 };
export const BULK_PAGE: PageSize = { defaultLimit: 200, maxLimit: 200 };
export const MIGRATION_PAGE: PageSize = { defaultLimit: 200, maxLimit: 200 };

// ── expand ─────────────────────────────────────────────────────────────────

export const EXPANSIONS = [
  'operations',
  'personalSpace',
  'isExternalCollaborator',
  'details.personal',
  'details.business',
] as const;
export type Expansion = (typeof EXPANSIONS)[number];

/** `expand` values, each a comma list; unknown values are ignored (docs/behaviour.md §4). */
export function parseExpand(values: readonly string[] | undefined): Set<Expansion> {
  const known = new Set<string>(EXPANSIONS);
  const expand = new Set<Expansion>();
  for (const item of splitList(values)) if (known.has(item)) expand.add(item as Expansion);
  return expand;
}

/** A list parameter, comma-joined and/or repeated, trimmed, without empty items. */
export function splitList(values: readonly string[] | string | undefined): string[] {
  if (values === undefined) return [];
  return [values]
    .flat()
    .flatMap((value) => value.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Distinct values in first-seen order. */
export function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

// ── What a caller sees of a user ───────────────────────────────────────────

export interface Operation {
  operation: 'use' | 'administer';
  targetType: 'application';
}

/** A user as one caller sees them: the email they may see, and what `expand` added. */
export interface DirectoryEntry {
  user: User;
  /** `""` unless the caller may see it. */
  email: string;
  expand: ReadonlySet<Expansion>;
  operations?: Operation[];
  details?: { personal?: { email?: string }; business?: Record<string, never> };
  /** Present only when expanded and the user owns one. */
  personalSpace?: PersonalSpace;
}

/** A site admin calling with their own credentials: the one caller `admins` visibility opens to. */
function isBasicAdmin(principal: Principal, settings: SiteSettings): boolean {
  return principal.kind === 'user' && isAdmin(principal.user, settings);
}

/** The caller's own record: a user, an impersonated user, or an app's bot. */
function isSelf(principal: Principal, accountId: string): boolean {
  switch (principal.kind) {
    case 'user':
    case 'asUser':
      return principal.user.accountId === accountId;
    case 'app':
      return principal.app.accountId === accountId;
    case 'anonymous':
    // The operator never reaches a product route (http/auth.ts).
    case 'operator':
      return false;
  }
}

/**
 * docs/behaviour.md §4: `email` is `""` unless the caller may see it — their own record,
 * a user whose visibility is `anyone`, or `admins` when the caller is a
 * Basic-auth admin. Anonymous callers never see one (docs/behaviour.md §3). The email
 * API (`/user/email…`) ignores visibility; this governs every User object.
 */
export function visibleEmail(principal: Principal, settings: SiteSettings, user: User): string {
  if (principal.kind === 'anonymous' || user.email === '') return '';
  if (isSelf(principal, user.accountId)) return user.email;
  switch (user.emailVisibility) {
    case 'anyone':
      return user.email;
    case 'admins':
      return isBasicAdmin(principal, settings) ? user.email : '';
    case 'private':
      return '';
  }
}

/**
 * docs/behaviour.md §4 `operations` describes the target user: `use` when they may use
 * the site (active, and in a "Can use" group — an app's bot always may, as
 * apps skip "Can use"), plus `administer` for admins.
 */
function operationsOf(user: User, groups: string[], settings: SiteSettings): Operation[] {
  const member = { ...user, groups };
  const operations: Operation[] = [];
  if (user.active && (user.accountType === 'app' || canUse(member, settings)))
    operations.push({ operation: 'use', targetType: 'application' });
  if (isAdmin(member, settings)) operations.push({ operation: 'administer', targetType: 'application' });
  return operations;
}

/** Builds what the caller sees of each user, with one query per expansion for the whole list. */
async function entriesFor(
  db: Kysely<Database>,
  principal: Principal,
  site: Site,
  users: User[],
  expand: ReadonlySet<Expansion>,
): Promise<DirectoryEntry[]> {
  const ids = users.map((u) => u.accountId);
  const groups = expand.has('operations') ? await groupNamesOfUsers(db, site.id, ids) : undefined;
  const spaces = expand.has('personalSpace') ? await findPersonalSpaces(db, site.id, ids) : undefined;
  return users.map((user) => {
    const entry: DirectoryEntry = { user, email: visibleEmail(principal, site.settings, user), expand };
    if (groups) entry.operations = operationsOf(user, groups.get(user.accountId) ?? [], site.settings);
    if (expand.has('details.personal') || expand.has('details.business')) {
      entry.details = {};
      if (expand.has('details.personal')) {
        // Deprecated in Atlassian's Users reference: the email for the user themselves or an admin, else nothing.
        const mayRead = isSelf(principal, user.accountId) || isBasicAdmin(principal, site.settings);
        entry.details.personal = mayRead ? { email: user.email } : {};
      }
      if (expand.has('details.business')) entry.details.business = {};
    }
    const space = spaces?.get(user.accountId);
    if (space) entry.personalSpace = space;
    return entry;
  });
}

// ── Single-user lookups ────────────────────────────────────────────────────

/** How `/user` and `/user/memberof` name the user: `accountId`, or a legacy parameter that earns a 400. */
export interface UserQuery extends LegacyUserParameters {
  accountId?: string;
}

/**
 * docs/behaviour.md §4 "Legacy parameters": on `/user` and `/user/memberof` a legacy
 * `key`/`userKey`/`username` without an `accountId` is a 400 naming
 * accountId; beside one, accountId wins. Either way the answer carries the
 * deprecation `Warning` (the route adds it). Empty values count as absent.
 */
function requireAccountId(query: UserQuery): string {
  const legacy = (['key', 'userKey', 'username'] as const).filter((name) => given(query[name]));
  const accountId = query.accountId ?? '';
  if (accountId === '') {
    if (legacy.length > 0) {
      throw badRequest(
        `accountId is required: the legacy ${legacy.join(' and ')} parameter${legacy.length > 1 ? 's are' : ' is'} no longer supported, name the user by accountId`,
      );
    }
    throw badRequest('accountId is required: name the user by accountId');
  }
  checkAccountId(accountId);
  return accountId;
}

/** The user with this accountId, deactivated or not; else the 404 (the email API's too). */
export async function findOne(db: Kysely<Database>, siteId: number, accountId: string): Promise<User> {
  const user = (await findUsersByAccountId(db, siteId, [accountId])).get(accountId);
  if (!user) throw noSuchUser(accountId);
  return user;
}

/** `GET /user/anonymous?expand=operations`: anonymous callers may use the site only where it allows them. */
export function anonymousOperations(settings: SiteSettings): Operation[] {
  return settings.anonymousAccess ? [{ operation: 'use', targetType: 'application' }] : [];
}

// ── Bulk lookups ───────────────────────────────────────────────────────────

/**
 * docs/behaviour.md §4 bulk ordering: duplicates removed, request order kept, cut to the
 * page, then unknown ids dropped — so a page never fills up from beyond it.
 */
function pageOfIds(ids: string[], page: Page): { ids: string[]; more: boolean } {
  const unique = distinct(ids);
  return { ids: unique.slice(page.start, page.start + page.limit), more: unique.length > page.start + page.limit };
}

export interface MigratedUser {
  username: string | null;
  key: string | null;
  accountId: string;
}

/**
 * The directory, for one caller at a time: methods that show users take the
 * principal and the site of the request, since both decide what is shown.
 */
export class DirectoryService {
  constructor(private readonly db: Kysely<Database>) {}

  /** `GET /user`. Deactivated users are still returned (docs/behaviour.md §2). */
  async lookUpUser(
    principal: Principal,
    site: Site,
    query: UserQuery,
    expand: ReadonlySet<Expansion>,
  ): Promise<DirectoryEntry> {
    const user = await findOne(this.db, site.id, requireAccountId(query));
    const [entry] = await entriesFor(this.db, principal, site, [user], expand);
    return entry!;
  }

  /**
   * `GET /user/current`: the caller's own record — the user, the impersonated
   * user, or an app's bot user (`accountType: app`) — or `anonymous` for an
   * anonymous caller on a site that allows them.
   */
  async currentUser(
    principal: Principal,
    site: Site,
    expand: ReadonlySet<Expansion>,
  ): Promise<DirectoryEntry | 'anonymous'> {
    // The operator never reaches a product route (http/auth.ts).
    if (principal.kind === 'anonymous' || principal.kind === 'operator') return 'anonymous';
    // A user was just read to authenticate them (at most a second ago); a bot is read now.
    const user = principal.kind === 'app' ? await findOne(this.db, site.id, principal.app.accountId) : principal.user;
    const [entry] = await entriesFor(this.db, principal, site, [user], expand);
    return entry!;
  }

  /** `GET /user/memberof`: a page of the user's groups, ordered by name. */
  async groupsOfUser(site: Site, query: UserQuery, page: Page): Promise<{ groups: Group[]; more: boolean }> {
    const accountId = requireAccountId(query);
    await findOne(this.db, site.id, accountId);
    return listGroupsOfUser(this.db, site.id, accountId, page);
  }

  /** `GET /user/bulk`: the first `limit` distinct ids, unknown ones omitted. Apps are refused by the route. */
  async lookUpUsers(
    principal: Principal,
    site: Site,
    accountIdParams: readonly string[] | undefined,
    limit: number,
    expand: ReadonlySet<Expansion>,
  ): Promise<DirectoryEntry[]> {
    const requested = splitList(accountIdParams);
    if (requested.length === 0)
      throw badRequest('accountId is required: give one or more accountIds, comma-joined or repeated');
    const { ids } = pageOfIds(requested, { start: 0, limit });
    const found = await findUsersByAccountId(this.db, site.id, ids);
    const users = ids.map((id) => found.get(id)).filter((u): u is User => u !== undefined);
    return entriesFor(this.db, principal, site, users, expand);
  }

  /**
   * `GET /user/bulk/migration`: accountIds for legacy user keys or usernames
   * — one kind per request, never both, never neither. Unknown ones are
   * omitted after paging.
   */
  async lookUpLegacyUsers(
    site: Site,
    params: { key?: readonly string[]; username?: readonly string[] },
    page: Page,
  ): Promise<{ users: MigratedUser[]; more: boolean }> {
    const keys = splitList(params.key);
    const usernames = splitList(params.username);
    if (keys.length > 0 && usernames.length > 0) {
      throw badRequest('Give key or username, not both: one kind of legacy identifier per request');
    }
    if (keys.length === 0 && usernames.length === 0) {
      throw badRequest('key or username is required: give one or more legacy user keys or usernames');
    }
    const field: LegacyField = keys.length > 0 ? 'userKey' : 'username';
    const { ids, more } = pageOfIds(keys.length > 0 ? keys : usernames, page);
    const found = await findUsersByLegacyId(this.db, site.id, field, ids);
    const users = ids
      .map((value) => found.get(value))
      .filter((u): u is User => u !== undefined)
      .map((u) => ({ username: u.username, key: u.userKey, accountId: u.accountId }));
    return { users, more };
  }
}
