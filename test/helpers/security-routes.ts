/**
 * What the security suite (test/security/) walks, derived from the app's own
 * route table: `app.routeAccess`, where every route lands with the access it
 * declared (src/http/auth.ts). A part of the suite takes the routes whose
 * operation its table below names, so a new prefix for an operation is walked
 * without a new row; a protected route whose operation is in no table fails
 * test/security/every-route.test.ts until a row says how to call it.
 */
import { buildApp } from '../../src/app.ts';
import type { OperationId } from '../../src/domain/scopes.ts';
import { newSecretKey, Secrets } from '../../src/domain/secrets.ts';
import type { RouteAccessEntry } from '../../src/http/auth.ts';
import { openStore } from '../../src/store/database.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

let routes: Promise<readonly RouteAccessEntry[]> | undefined;

/**
 * Every route the app serves, with its declared access, read once per test
 * process from an app built on a throw-away store (the rows must be known
 * before a test's own fixture exists, to name its tests).
 */
export function routeTable(): Promise<readonly RouteAccessEntry[]> {
  routes ??= (async () => {
    const store = await openStore({ dialect: 'sqlite', path: ':memory:' });
    const app = await buildApp({ db: store.db, secrets: new Secrets(newSecretKey()), logLevel: 'silent' });
    try {
      return [...app.routeAccess];
    } finally {
      await app.close();
      await store.close();
    }
  })();
  return routes;
}

/** Confluence's four prefixes (docs/behaviour.md §1): directly, the `/rest/api` alias, and both under the gateway. */
export const CONFLUENCE_PREFIXES = [
  '/wiki/rest/api',
  '/rest/api',
  '/ex/confluence/:cloudId/wiki/rest/api',
  '/ex/confluence/:cloudId/rest/api',
];

/** Jira's two versions, directly and under the gateway (docs/behaviour.md §1). */
export const JIRA_PREFIXES = [
  '/rest/api/2',
  '/rest/api/3',
  '/ex/jira/:cloudId/rest/api/2',
  '/ex/jira/:cloudId/rest/api/3',
];

/** A table's row for one operation: its path under each prefix, and how a test calls it. */
export type OperationTable<T> = Partial<Record<OperationId, T & { path: string }>>;

/** One served method and path of an operation in a table, with the table's row. */
export type Row<T> = T & { method: Method; pattern: string; operation: OperationId };

/**
 * The served routes of the table's operations, in registration order. HEAD
 * is left out: Fastify serves it beside every GET, and every-route.test.ts walks
 * it with the rest.
 */
export function rowsOf<T>(served: readonly RouteAccessEntry[], table: OperationTable<T>): Array<Row<T>> {
  const rows: Array<Row<T>> = [];
  for (const { method, url, access } of served) {
    if (method === 'HEAD' || access.kind !== 'product') continue;
    const row = table[access.operation];
    if (row) rows.push({ ...row, method: method as Method, pattern: url, operation: access.operation });
  }
  return rows;
}

/** The administration API's routes (docs/behaviour.md §9), HEAD aside. */
export function adminRows(served: readonly RouteAccessEntry[]): Array<{ method: Method; pattern: string }> {
  return served
    .filter(({ method, access }) => method !== 'HEAD' && access.kind === 'admin')
    .map(({ method, url }) => ({ method: method as Method, pattern: url }));
}

/** Confluence user properties; `:userId` names whose data it is, `:key` a property key. */
export interface PropertyRow {
  /** What the caller's own namespace must hold before the call succeeds. */
  needs: 'existing' | 'absent' | 'nothing';
  /** The status of a successful call. */
  ok: number;
  body?: unknown;
}

export const CONFLUENCE_PROPERTY_OPERATIONS: OperationTable<PropertyRow> = {
  'confluence.getUserProperties': { path: '/user/:userId/property', needs: 'nothing', ok: 200 },
  'confluence.getUserProperty': { path: '/user/:userId/property/:key', needs: 'existing', ok: 200 },
  'confluence.createUserProperty': {
    path: '/user/:userId/property/:key',
    needs: 'absent',
    ok: 201,
    body: { value: { from: 'security' } },
  },
  'confluence.updateUserProperty': {
    path: '/user/:userId/property/:key',
    needs: 'existing',
    ok: 204,
    body: { value: { from: 'security' } },
  },
  'confluence.deleteUserProperty': { path: '/user/:userId/property/:key', needs: 'existing', ok: 204 },
};

/**
 * The user directory (docs/behaviour.md §1 `/user…`): reads with no path
 * parameters. `anonymous`: readable by anonymous callers where the site
 * allows them; `apps`: how an app acting as itself fares — allowed, refused
 * (`/user/bulk`), or the email API, which needs ACCESS_EMAIL_ADDRESSES and
 * approval.
 */
export interface DirectoryRow {
  /** A query that succeeds for an allowed caller. */
  query: string;
  anonymous: boolean;
  apps: 'allowed' | 'closed' | 'email';
}

export const DIRECTORY_OPERATIONS: OperationTable<DirectoryRow> = {
  'confluence.getUser': { path: '/user', query: '?accountId=712020:mia', anonymous: true, apps: 'allowed' },
  'confluence.getAnonymousUser': { path: '/user/anonymous', query: '', anonymous: true, apps: 'allowed' },
  'confluence.getCurrentUser': { path: '/user/current', query: '', anonymous: true, apps: 'allowed' },
  'confluence.getGroupMembershipsForUser': {
    path: '/user/memberof',
    query: '?accountId=712020:mia',
    anonymous: true,
    apps: 'allowed',
  },
  'confluence.getBulkUserLookup': {
    path: '/user/bulk',
    query: '?accountId=712020:mia',
    anonymous: true,
    apps: 'closed',
  },
  'confluence.getBulkUserMigration': {
    path: '/user/bulk/migration',
    query: '?username=ada',
    anonymous: true,
    apps: 'allowed',
  },
  'confluence.getPrivacyUnsafeUserEmail': {
    path: '/user/email',
    query: '?accountId=712020:mia',
    anonymous: false,
    apps: 'email',
  },
  'confluence.getPrivacyUnsafeUserEmailBulk': {
    path: '/user/email/bulk',
    query: '?accountId=712020:mia',
    anonymous: false,
    apps: 'email',
  },
};

/**
 * Content, label and space watches (docs/behaviour.md §1, §3 "Watches").
 * `target` is a fixture content id, label or space mia may view
 * (test/helpers/fixture.ts, WATCH_SPACES).
 */
export interface WatchRow {
  target: string;
  ok: number;
}

export const WATCH_OPERATIONS: OperationTable<WatchRow> = {
  'confluence.getContentWatchStatus': { path: '/user/watch/content/:contentId', target: '1001', ok: 200 },
  'confluence.addContentWatcher': { path: '/user/watch/content/:contentId', target: '1001', ok: 204 },
  'confluence.removeContentWatcher': { path: '/user/watch/content/:contentId', target: '1001', ok: 204 },
  'confluence.isWatchingLabel': { path: '/user/watch/label/:labelName', target: 'release', ok: 200 },
  'confluence.addLabelWatcher': { path: '/user/watch/label/:labelName', target: 'release', ok: 204 },
  'confluence.removeLabelWatcher': { path: '/user/watch/label/:labelName', target: 'release', ok: 204 },
  'confluence.isWatchingSpace': { path: '/user/watch/space/:spaceKey', target: 'ENG', ok: 200 },
  'confluence.addSpaceWatcher': { path: '/user/watch/space/:spaceKey', target: 'ENG', ok: 204 },
  'confluence.removeSpaceWatch': { path: '/user/watch/space/:spaceKey', target: 'ENG', ok: 204 },
};

/** Jira user properties (docs/behaviour.md §6); the user is named in the query (`?accountId=`). */
export interface JiraRow {
  /** What the user's one Jira namespace must hold before the call succeeds. */
  needs: 'existing' | 'absent' | 'nothing';
  ok: number;
  body?: string;
}

export const JIRA_OPERATIONS: OperationTable<JiraRow> = {
  'jira.getUserPropertyKeys': { path: '/user/properties', needs: 'nothing', ok: 200 },
  'jira.getUserProperty': { path: '/user/properties/:propertyKey', needs: 'existing', ok: 200 },
  'jira.setUserProperty': {
    path: '/user/properties/:propertyKey',
    needs: 'absent',
    ok: 201,
    body: '{"from":"security"}',
  },
  'jira.deleteUserProperty': { path: '/user/properties/:propertyKey', needs: 'existing', ok: 204 },
};

/** Every table, with the prefixes each of its operations is served under. */
export const OPERATION_TABLES: Array<{ name: string; table: OperationTable<object>; prefixes: string[] }> = [
  { name: 'Confluence user properties', table: CONFLUENCE_PROPERTY_OPERATIONS, prefixes: CONFLUENCE_PREFIXES },
  { name: 'the Confluence user directory', table: DIRECTORY_OPERATIONS, prefixes: CONFLUENCE_PREFIXES },
  { name: 'Confluence watches', table: WATCH_OPERATIONS, prefixes: CONFLUENCE_PREFIXES },
  { name: 'Jira user properties', table: JIRA_OPERATIONS, prefixes: JIRA_PREFIXES },
];

/** Under the `/ex/{product}/{cloudId}` gateway (docs/behaviour.md §1). */
export function isGateway(pattern: string): boolean {
  return pattern.startsWith('/ex/');
}
