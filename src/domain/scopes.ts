/**
 * The one table of what each operation needs (docs/behaviour.md §3 "Scopes"), taken from
 * `x-atlassian-connect-scope` and `x-atlassian-oauth2-scopes` in the public
 * OpenAPI documents. Routes name their operation; the auth hook checks it.
 */
export type ConnectScope = 'READ' | 'WRITE' | 'DELETE' | 'ADMIN' | 'ACCESS_EMAIL_ADDRESSES';

export interface OperationScopes {
  connect: ConnectScope;
  /** Any one of these suffices: current and granular. */
  oauth: readonly string[];
}

export const OPERATION_SCOPES = {
  'confluence.getUserProperties': { connect: 'READ', oauth: ['read:user.property:confluence'] },
  'confluence.getUserProperty': { connect: 'READ', oauth: ['read:user.property:confluence'] },
  'confluence.createUserProperty': { connect: 'WRITE', oauth: ['write:user.property:confluence'] },
  'confluence.updateUserProperty': { connect: 'WRITE', oauth: ['write:user.property:confluence'] },
  'confluence.deleteUserProperty': { connect: 'WRITE', oauth: ['write:user.property:confluence'] },
  // Confluence user directory: current and granular (Beta) scopes; any one suffices (docs/behaviour.md §3).
  'confluence.getUser': { connect: 'READ', oauth: ['read:confluence-user', 'read:content-details:confluence'] },
  'confluence.getAnonymousUser': { connect: 'READ', oauth: ['read:confluence-user', 'read:user:confluence'] },
  'confluence.getCurrentUser': { connect: 'READ', oauth: ['read:confluence-user', 'read:content-details:confluence'] },
  'confluence.getGroupMembershipsForUser': {
    connect: 'READ',
    oauth: ['read:confluence-user', 'read:user:confluence', 'read:group:confluence'],
  },
  'confluence.getBulkUserLookup': {
    connect: 'READ',
    oauth: ['read:confluence-user', 'read:content-details:confluence'],
  },
  'confluence.getBulkUserMigration': { connect: 'READ', oauth: ['read:confluence-user', 'read:user:confluence'] },
  // The reference declares no OAuth scope for email; docs/behaviour.md §3 names this one.
  'confluence.getPrivacyUnsafeUserEmail': {
    connect: 'ACCESS_EMAIL_ADDRESSES',
    oauth: ['read:email-address:confluence'],
  },
  'confluence.getPrivacyUnsafeUserEmailBulk': {
    connect: 'ACCESS_EMAIL_ADDRESSES',
    oauth: ['read:email-address:confluence'],
  },
  // Jira user properties: v3's scopes, for v2 too (v2 declares no Connect scope).
  'jira.getUserPropertyKeys': { connect: 'READ', oauth: ['read:jira-user', 'read:user.property:jira'] },
  'jira.getUserProperty': { connect: 'READ', oauth: ['read:jira-user', 'read:user.property:jira'] },
  'jira.setUserProperty': { connect: 'WRITE', oauth: ['write:jira-work', 'write:user.property:jira'] },
  'jira.deleteUserProperty': { connect: 'DELETE', oauth: ['write:jira-work', 'delete:user.property:jira'] },
  // Confluence watches: current and granular (Beta) scopes of the reference; any one suffices.
  'confluence.getContentWatchStatus': {
    connect: 'READ',
    oauth: ['read:confluence-content.summary', 'read:watcher:confluence'],
  },
  'confluence.addContentWatcher': { connect: 'WRITE', oauth: ['write:confluence-content', 'write:watcher:confluence'] },
  'confluence.removeContentWatcher': {
    connect: 'WRITE',
    oauth: ['write:confluence-content', 'write:watcher:confluence'],
  },
  'confluence.isWatchingLabel': {
    connect: 'READ',
    oauth: ['read:confluence-content.summary', 'read:watcher:confluence'],
  },
  'confluence.addLabelWatcher': { connect: 'WRITE', oauth: ['write:confluence-content', 'write:watcher:confluence'] },
  'confluence.removeLabelWatcher': {
    connect: 'WRITE',
    oauth: ['write:confluence-content', 'write:watcher:confluence'],
  },
  'confluence.isWatchingSpace': {
    connect: 'READ',
    oauth: ['read:confluence-content.summary', 'read:watcher:confluence'],
  },
  'confluence.addSpaceWatcher': { connect: 'WRITE', oauth: ['write:confluence-content', 'write:watcher:confluence'] },
  'confluence.removeSpaceWatch': { connect: 'WRITE', oauth: ['write:confluence-content', 'write:watcher:confluence'] },
} as const satisfies Record<string, OperationScopes>;

export type OperationId = keyof typeof OPERATION_SCOPES;

// Connect's nesting: ADMIN ⊃ DELETE ⊃ WRITE ⊃ READ.
const CONNECT_RANK: Partial<Record<string, number>> = { READ: 1, WRITE: 2, DELETE: 3, ADMIN: 4 };

/** Whether held scopes (Connect names or OAuth strings) cover an operation. */
export function scopesAllow(held: readonly string[], needed: OperationScopes): boolean {
  const neededRank = CONNECT_RANK[needed.connect];
  for (const scope of held) {
    const upper = scope.toUpperCase();
    if (upper === needed.connect) return true;
    const rank = CONNECT_RANK[upper];
    if (neededRank !== undefined && rank !== undefined && rank >= neededRank) return true;
    if (needed.oauth.includes(scope)) return true;
  }
  return false;
}

export function describeScopes(needed: OperationScopes): string {
  return [needed.connect, ...needed.oauth].join(' or ');
}

/**
 * Connect scope names an app may hold (docs/behaviour.md §2): the nested four, email
 * access, and ACT_AS_USER, which the JWT-bearer grant requires (docs/behaviour.md §3).
 */
export const CONNECT_SCOPE_NAMES = [
  'READ',
  'WRITE',
  'DELETE',
  'ADMIN',
  'ACCESS_EMAIL_ADDRESSES',
  'ACT_AS_USER',
] as const;
export const ACT_AS_USER = 'ACT_AS_USER';

/** Every OAuth scope some operation names. */
export function knownOAuthScopes(): string[] {
  return [...new Set(Object.values(OPERATION_SCOPES as Record<string, OperationScopes>).flatMap((s) => s.oauth))];
}

/**
 * Whether `held` covers `scope`, and in which spelling a token carries it:
 * the app's own for an exact match, compared case-insensitively (atlassian-oauth2,
 * which atlassian-connect-express uses, upper-cases every requested scope), or
 * the Connect name when a higher one is held (ADMIN ⊃ DELETE ⊃ WRITE ⊃ READ).
 */
export function heldSpelling(held: readonly string[], scope: string): string | undefined {
  const upper = scope.toUpperCase();
  const exact = held.find((h) => h.toUpperCase() === upper);
  if (exact !== undefined) return exact;
  const rank = CONNECT_RANK[upper];
  if (rank !== undefined && held.some((h) => (CONNECT_RANK[h.toUpperCase()] ?? 0) >= rank)) return upper;
  return undefined;
}

export type ScopeGrant = { ok: true; scopes: string[] } | { ok: false; message: string };

/**
 * docs/behaviour.md §3: a token carries the requested scopes that the app holds, all of
 * them when none are requested. A scope nobody knows (neither a Connect name,
 * nor an OAuth scope of some operation, nor one the app holds) or nothing
 * left is refused; a known scope the app lacks is simply not granted.
 */
export function grantScopes(held: readonly string[], requested: readonly string[] | undefined): ScopeGrant {
  if (requested === undefined) return { ok: true, scopes: [...new Set(held)] };
  const known = new Set([...CONNECT_SCOPE_NAMES, ...knownOAuthScopes(), ...held].map((s) => s.toUpperCase()));
  const unknown = requested.filter((s) => !known.has(s.toUpperCase()));
  if (unknown.length > 0)
    return { ok: false, message: `Unknown scope${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}` };
  const granted = [...new Set(requested.map((s) => heldSpelling(held, s)).filter((s): s is string => s !== undefined))];
  if (granted.length === 0) {
    return {
      ok: false,
      message: `The app holds none of the requested scopes (${requested.join(' ')}); it holds ${held.join(' ') || 'none'}`,
    };
  }
  return { ok: true, scopes: granted };
}

const CONNECT_BY_RANK = ['', 'READ', 'WRITE', 'DELETE', 'ADMIN'];

/**
 * The scopes of a token that its app still holds: an app that loses a scope
 * loses it in its tokens too. A Connect scope shrinks to the highest one the
 * app still holds (a WRITE token of an app cut down to READ keeps READ).
 */
export function stillHeld(held: readonly string[], granted: readonly string[]): string[] {
  const highest = Math.max(0, ...held.map((h) => CONNECT_RANK[h.toUpperCase()] ?? 0));
  const kept = granted.flatMap((scope) => {
    if (heldSpelling(held, scope) !== undefined) return [scope];
    const rank = CONNECT_RANK[scope.toUpperCase()];
    return rank !== undefined && highest > 0 ? [CONNECT_BY_RANK[Math.min(rank, highest)]!] : [];
  });
  return [...new Set(kept)];
}
