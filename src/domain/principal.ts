/**
 * Who is calling (docs/behaviour.md §3). Every request resolves to exactly one principal;
 * routes and rules only ever look at this type, so a new credential kind
 * (such as OAuth bearer tokens) only adds a way to produce one.
 */
import type { SiteSettings } from '../schemas/site.ts';
import type { App } from './apps.ts';
import type { User } from './users.ts';

export interface Member extends User {
  /** Group names, ordered. */
  groups: string[];
}

export type Principal =
  | { kind: 'anonymous' }
  /** A user with their own credentials (Basic email:apiToken). */
  | { kind: 'user'; user: Member }
  /** An app acting as itself: a Connect JWT, or a client-credentials bearer token. */
  | { kind: 'app'; app: App; scopes: readonly string[]; via: 'jwt' | 'bearer' }
  /** An app acting for a user: a JWT-bearer grant token. */
  | { kind: 'asUser'; app: App; user: Member; scopes: readonly string[] }
  /** The server's operator (docs/behaviour.md §10): sites, and every site's administration API. */
  | { kind: 'operator' };

export const ANONYMOUS: Principal = { kind: 'anonymous' };
export const OPERATOR: Principal = { kind: 'operator' };

export function isAdmin(user: Member, settings: SiteSettings): boolean {
  return user.active && user.groups.some((g) => settings.adminGroups.includes(g));
}

export function canUse(user: Member, settings: SiteSettings): boolean {
  return user.groups.some((g) => settings.canUseGroups.includes(g));
}

/** The human behind a request, if any. */
export function actingUser(principal: Principal): Member | undefined {
  return principal.kind === 'user' || principal.kind === 'asUser' ? principal.user : undefined;
}

/** The app behind a request, if any. */
export function callingApp(principal: Principal): App | undefined {
  return principal.kind === 'app' || principal.kind === 'asUser' ? principal.app : undefined;
}

/** The accountId to report as the caller (Jira's X-AAccountId). */
export function callerAccountId(principal: Principal): string | undefined {
  return actingUser(principal)?.accountId ?? callingApp(principal)?.accountId;
}
