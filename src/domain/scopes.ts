/**
 * The one table of what each operation needs (SPEC §3 "Scopes"), taken from
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
  // Confluence user directory: current and granular (Beta) scopes; any one suffices (SPEC §3).
  'confluence.getUser': { connect: 'READ', oauth: ['read:confluence-user', 'read:content-details:confluence'] },
  'confluence.getAnonymousUser': { connect: 'READ', oauth: ['read:confluence-user', 'read:user:confluence'] },
  'confluence.getCurrentUser': { connect: 'READ', oauth: ['read:confluence-user', 'read:content-details:confluence'] },
  'confluence.getGroupMembershipsForUser': { connect: 'READ', oauth: ['read:confluence-user', 'read:user:confluence', 'read:group:confluence'] },
  'confluence.getBulkUserLookup': { connect: 'READ', oauth: ['read:confluence-user', 'read:content-details:confluence'] },
  'confluence.getBulkUserMigration': { connect: 'READ', oauth: ['read:confluence-user', 'read:user:confluence'] },
  // The reference declares no OAuth scope for email; SPEC §3 names this one.
  'confluence.getPrivacyUnsafeUserEmail': { connect: 'ACCESS_EMAIL_ADDRESSES', oauth: ['read:email-address:confluence'] },
  'confluence.getPrivacyUnsafeUserEmailBulk': { connect: 'ACCESS_EMAIL_ADDRESSES', oauth: ['read:email-address:confluence'] },
  // Jira user properties: v3's scopes, for v2 too (v2 declares no Connect scope).
  'jira.getUserPropertyKeys': { connect: 'READ', oauth: ['read:jira-user', 'read:user.property:jira'] },
  'jira.getUserProperty': { connect: 'READ', oauth: ['read:jira-user', 'read:user.property:jira'] },
  'jira.setUserProperty': { connect: 'WRITE', oauth: ['write:jira-work', 'write:user.property:jira'] },
  'jira.deleteUserProperty': { connect: 'DELETE', oauth: ['write:jira-work', 'delete:user.property:jira'] },
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
