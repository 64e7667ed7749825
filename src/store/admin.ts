/**
 * Queries only the administration API needs: listings, deletes and partial
 * updates. Point reads and upserts shared with the seed and first start stay
 * in users.ts, groups.ts, tokens.ts and apps.ts.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { User } from '../domain/users.ts';
import type { Db } from './database.ts';
import type { AppRow } from './schema.ts';
import { toUser, toUserRow } from './users.ts';

export interface Page {
  start: number;
  limit: number;
}

/** One page, fetched with one extra row to tell whether more exist. */
function paged<T>(rows: T[], page: Page): { items: T[]; more: boolean } {
  return { items: rows.slice(0, page.limit), more: rows.length > page.limit };
}

/** `%`, `_` and the escape character itself match literally in a LIKE pattern. */
function likeContaining(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// ---------------------------------------------------------------- users

export async function insertUser(db: Db, user: User): Promise<void> {
  await db
    .insertInto('users')
    .values({ ...toUserRow(user), created_at: new Date().toISOString() })
    .execute();
}

/**
 * Users by display name (code-point order), then accountId. `query` matches
 * a case-insensitive substring of the display name, public name or email;
 * SQLite's lower() folds ASCII letters only.
 */
export async function listUsers(db: Db, page: Page, query?: string): Promise<{ items: User[]; more: boolean }> {
  let select = db.selectFrom('users').selectAll();
  if (query !== undefined && query !== '') {
    const pattern = likeContaining(query);
    select = select.where((eb) =>
      eb.or(
        (['display_name', 'public_name', 'email'] as const).map(
          (column) => sql<boolean>`lower(${eb.ref(column)}) like ${pattern} escape '\\'`,
        ),
      ),
    );
  }
  const rows = await select
    .orderBy('display_name')
    .orderBy('account_id')
    .limit(page.limit + 1)
    .offset(page.start)
    .execute();
  const { items, more } = paged(rows, page);
  return { items: items.map(toUser), more };
}

// ---------------------------------------------------------------- API tokens

export interface TokenRecord {
  id: string;
  name: string;
  accountId: string;
  createdAt: string;
  expiresAt: string | null;
}

export async function insertToken(
  db: Db,
  token: { accountId: string; name: string; digest: string; expiresAt: string | null },
): Promise<TokenRecord> {
  const record: TokenRecord = {
    id: randomUUID(),
    name: token.name,
    accountId: token.accountId,
    createdAt: new Date().toISOString(),
    expiresAt: token.expiresAt,
  };
  await db
    .insertInto('api_tokens')
    .values({
      id: record.id,
      account_id: record.accountId,
      name: record.name,
      digest: token.digest,
      created_at: record.createdAt,
      expires_at: record.expiresAt,
    })
    .execute();
  return record;
}

/** A user's tokens, oldest first. Never the digest. */
export async function listTokens(
  db: Db,
  accountId: string,
  page: Page,
): Promise<{ items: TokenRecord[]; more: boolean }> {
  const rows = await db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'account_id', 'created_at', 'expires_at'])
    .where('account_id', '=', accountId)
    .orderBy('created_at')
    .orderBy('id')
    .limit(page.limit + 1)
    .offset(page.start)
    .execute();
  const { items, more } = paged(rows, page);
  return {
    items: items.map((r) => ({
      id: r.id,
      name: r.name,
      accountId: r.account_id,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    })),
    more,
  };
}

export async function deleteToken(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

// ---------------------------------------------------------------- groups

export interface GroupRecord {
  id: string;
  name: string;
}

export async function findGroup(db: Db, name: string): Promise<GroupRecord | undefined> {
  return db.selectFrom('groups').select(['id', 'name']).where('name', '=', name).executeTakeFirst();
}

export async function insertGroup(db: Db, name: string): Promise<GroupRecord> {
  const group = { id: randomUUID(), name };
  await db.insertInto('groups').values(group).execute();
  return group;
}

/** Groups in code-point order of their names. */
export async function listGroups(db: Db, page: Page): Promise<{ items: GroupRecord[]; more: boolean }> {
  const rows = await db
    .selectFrom('groups')
    .select(['id', 'name'])
    .orderBy('name')
    .limit(page.limit + 1)
    .offset(page.start)
    .execute();
  return paged(rows, page);
}

/** Deletes the group; its memberships go with it (foreign-key cascade). */
export async function deleteGroup(db: Db, id: string): Promise<void> {
  await db.deleteFrom('groups').where('id', '=', id).execute();
}

export async function listGroupMembers(db: Db, groupId: string, page: Page): Promise<{ items: User[]; more: boolean }> {
  const rows = await db
    .selectFrom('group_members')
    .innerJoin('users', 'users.account_id', 'group_members.account_id')
    .selectAll('users')
    .where('group_members.group_id', '=', groupId)
    .orderBy('users.display_name')
    .orderBy('users.account_id')
    .limit(page.limit + 1)
    .offset(page.start)
    .execute();
  const { items, more } = paged(rows, page);
  return { items: items.map(toUser), more };
}

export async function removeGroupMember(db: Db, groupId: string, accountId: string): Promise<void> {
  await db.deleteFrom('group_members').where('group_id', '=', groupId).where('account_id', '=', accountId).execute();
}

// ---------------------------------------------------------------- apps

export interface AppRecord {
  key: string;
  name: string;
  clientKey: string;
  oauthClientId: string | null;
  hasClientSecret: boolean;
  scopes: string[];
  emailAccess: boolean;
  accountId: string;
}

/** The app as the admin API shows it: no secret, not even encrypted. */
function toAppRecord(row: Omit<AppRow, 'shared_secret' | 'created_at'>): AppRecord {
  return {
    key: row.key,
    name: row.name,
    clientKey: row.client_key,
    oauthClientId: row.oauth_client_id,
    hasClientSecret: row.client_secret_digest !== null,
    scopes: JSON.parse(row.scopes) as string[],
    emailAccess: row.email_access === 1,
    accountId: row.account_id,
  };
}

const APP_COLUMNS = [
  'key',
  'name',
  'client_key',
  'oauth_client_id',
  'client_secret_digest',
  'scopes',
  'email_access',
  'account_id',
] as const;

export async function findAppRecord(db: Db, key: string): Promise<AppRecord | undefined> {
  const row = await db.selectFrom('apps').select(APP_COLUMNS).where('key', '=', key).executeTakeFirst();
  return row && toAppRecord(row);
}

/** The app whose bot user this is, if any. */
export async function findAppByAccountId(db: Db, accountId: string): Promise<AppRecord | undefined> {
  const row = await db.selectFrom('apps').select(APP_COLUMNS).where('account_id', '=', accountId).executeTakeFirst();
  return row && toAppRecord(row);
}

export async function listApps(db: Db, page: Page): Promise<{ items: AppRecord[]; more: boolean }> {
  const rows = await db
    .selectFrom('apps')
    .select(APP_COLUMNS)
    .orderBy('key')
    .limit(page.limit + 1)
    .offset(page.start)
    .execute();
  const { items, more } = paged(rows, page);
  return { items: items.map(toAppRecord), more };
}

/** Only the columns given change. Secrets arrive already encrypted or digested. */
export async function updateAppColumns(
  db: Db,
  key: string,
  change: Partial<{
    name: string;
    clientKey: string;
    sharedSecretSealed: string;
    oauthClientId: string | null;
    clientSecretDigest: string | null;
    scopes: string[];
    emailAccess: boolean;
  }>,
): Promise<void> {
  const values = {
    ...(change.name !== undefined && { name: change.name }),
    ...(change.clientKey !== undefined && { client_key: change.clientKey }),
    ...(change.sharedSecretSealed !== undefined && { shared_secret: change.sharedSecretSealed }),
    ...(change.oauthClientId !== undefined && { oauth_client_id: change.oauthClientId }),
    ...(change.clientSecretDigest !== undefined && { client_secret_digest: change.clientSecretDigest }),
    ...(change.scopes !== undefined && { scopes: JSON.stringify(change.scopes) }),
    ...(change.emailAccess !== undefined && { email_access: change.emailAccess ? 1 : 0 }),
  };
  if (Object.keys(values).length === 0) return;
  await db.updateTable('apps').set(values).where('key', '=', key).execute();
}

/** Renames an app's bot user along with the app (docs/behaviour.md §2: displayName = the app's name). */
export async function renameUser(db: Db, accountId: string, name: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ display_name: name, public_name: name })
    .where('account_id', '=', accountId)
    .execute();
}

/**
 * Deletes an app (docs/behaviour.md §2): its Confluence namespace's properties, the app,
 * then its bot user, whose memberships, tokens and properties cascade.
 */
export async function deleteAppAndBot(db: Db, app: { key: string; accountId: string }): Promise<void> {
  await db.deleteFrom('properties').where('product', '=', 'confluence').where('namespace', '=', app.key).execute();
  await db.deleteFrom('apps').where('key', '=', app.key).execute();
  await db.deleteFrom('users').where('account_id', '=', app.accountId).execute();
}
