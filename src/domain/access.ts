/**
 * The access rule for per-user data (docs/behaviour.md §3, "Properties"), asked by every
 * route that reads or writes another user's data:
 * - an app acting as itself may reach any user;
 * - a user, or an app acting as a user, reaches only that user — never
 *   another, even an admin's (docs/behaviour.md §3: the asUser restriction);
 * - a site admin calling without an app reaches any user.
 */
import type { SiteSettings } from '../schemas/site.ts';
import { forbidden } from './errors.ts';
import { isAdmin, type Principal } from './principal.ts';

export function mayReachUserData(principal: Principal, settings: SiteSettings, accountId: string): boolean {
  switch (principal.kind) {
    case 'app':
      return true;
    case 'asUser':
      return principal.user.accountId === accountId;
    case 'user':
      return principal.user.accountId === accountId || isAdmin(principal.user, settings);
    case 'anonymous':
    // The operator never reaches a product route (http/auth.ts).
    case 'operator':
      return false;
  }
}

export function assertMayReachUserData(principal: Principal, settings: SiteSettings, accountId: string): void {
  if (!mayReachUserData(principal, settings, accountId)) {
    throw forbidden(
      `You may not access the properties of user ${accountId}: only your own, unless you are a site admin or an app`,
    );
  }
}

/**
 * docs/behaviour.md §2: Confluence properties are app-isolated. An app's calls (as itself
 * or as a user) use its key as namespace; a user without an app uses "".
 */
export function confluenceNamespace(principal: Principal): string {
  return principal.kind === 'app' || principal.kind === 'asUser' ? principal.app.key : '';
}
