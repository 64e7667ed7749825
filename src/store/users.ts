import { sql } from 'kysely';
import type { User } from '../domain/users.ts';
import type { Db } from './database.ts';
import { fetchPage, type Page } from './paging.ts';
import { preparedQuery } from './prepared.ts';
import type { NewUserRow, UserRow } from './schema.ts';

export function toUser(row: UserRow): User {
  return {
    accountId: row.account_id,
    accountType: row.account_type,
    email: row.email,
    displayName: row.display_name,
    publicName: row.public_name,
    timeZone: row.time_zone,
    emailVisibility: row.email_visibility,
    username: row.username,
    userKey: row.user_key,
    externalCollaborator: row.external_collaborator === 1,
    active: row.active === 1,
  };
}

export function toUserRow(siteId: number, user: User): Omit<NewUserRow, 'created_at'> {
  return {
    site_id: siteId,
    account_id: user.accountId,
    account_type: user.accountType,
    email: user.email,
    email_lower: user.email === '' ? null : user.email.toLowerCase(),
    display_name: user.displayName,
    public_name: user.publicName,
    time_zone: user.timeZone,
    email_visibility: user.emailVisibility,
    username: user.username,
    user_key: user.userKey,
    external_collaborator: user.externalCollaborator ? 1 : 0,
    active: user.active ? 1 : 0,
  };
}

export async function findUser(db: Db, siteId: number, accountId: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('site_id', '=', siteId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return row && toUser(row);
}

export async function findUserByEmail(db: Db, siteId: number, email: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('site_id', '=', siteId)
    .where('email_lower', '=', email.toLowerCase())
    .executeTakeFirst();
  return row && toUser(row);
}

const selectAccountId = preparedQuery<{ siteId: number; accountId: string }, { account_id: string }>((db, param) =>
  db
    .selectFrom('users')
    .select('account_id')
    .where('site_id', '=', param('siteId'))
    .where('account_id', '=', param('accountId')),
);

export async function userExists(db: Db, siteId: number, accountId: string): Promise<boolean> {
  return (await selectAccountId(db, { siteId, accountId })).rows.length > 0;
}

/** Inserts or replaces a user by accountId. */
export async function upsertUser(db: Db, siteId: number, user: User): Promise<void> {
  const row = toUserRow(siteId, user);
  const { account_id: _id, site_id: _site, ...changes } = row;
  await db
    .insertInto('users')
    .values({ ...row, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(['site_id', 'account_id']).doUpdateSet(changes))
    .execute();
}

/** The fields of a person an admin may change. */
export type UserChange = Partial<Omit<User, 'accountId' | 'accountType'>>;

/**
 * Changes only the given columns of an existing user; answers whether the
 * user exists. Never inserts: a user deleted meanwhile stays deleted.
 */
export async function updateUserColumns(
  db: Db,
  siteId: number,
  accountId: string,
  change: UserChange,
): Promise<boolean> {
  const values = {
    ...(change.email !== undefined && {
      email: change.email,
      email_lower: change.email === '' ? null : change.email.toLowerCase(),
    }),
    ...(change.displayName !== undefined && { display_name: change.displayName }),
    ...(change.publicName !== undefined && { public_name: change.publicName }),
    ...(change.timeZone !== undefined && { time_zone: change.timeZone }),
    ...(change.emailVisibility !== undefined && { email_visibility: change.emailVisibility }),
    ...(change.username !== undefined && { username: change.username }),
    ...(change.userKey !== undefined && { user_key: change.userKey }),
    ...(change.externalCollaborator !== undefined && { external_collaborator: change.externalCollaborator ? 1 : 0 }),
    ...(change.active !== undefined && { active: change.active ? 1 : 0 }),
  };
  if (Object.keys(values).length === 0) return userExists(db, siteId, accountId);
  const result = await db
    .updateTable('users')
    .set(values)
    .where('site_id', '=', siteId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Deletes a user; what is theirs goes by cascade. A personal space they own
 * stays, with no owner (docs/behaviour.md §2): cleared here, since a foreign
 * key that names the site cannot set only the owner to null.
 */
export async function deleteUser(db: Db, siteId: number, accountId: string): Promise<void> {
  await db
    .updateTable('spaces')
    .set({ owner_account_id: null })
    .where('site_id', '=', siteId)
    .where('owner_account_id', '=', accountId)
    .execute();
  await db.deleteFrom('users').where('site_id', '=', siteId).where('account_id', '=', accountId).execute();
}

/** Active members of any of the given groups, for "is there an admin yet?". */
export async function countActiveMembers(db: Db, siteId: number, groupNames: readonly string[]): Promise<number> {
  if (groupNames.length === 0) return 0;
  const row = await db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .innerJoin('users', (join) =>
      join
        .onRef('users.site_id', '=', 'group_members.site_id')
        .onRef('users.account_id', '=', 'group_members.account_id'),
    )
    .select((eb) => eb.fn.count<number | string>('users.account_id').distinct().as('n'))
    .where('group_members.site_id', '=', siteId)
    .where('groups.name', 'in', groupNames)
    .where('users.active', '=', 1)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The unique field (email, username or userKey) another account already holds, if any. */
export async function takenUserField(
  db: Db,
  siteId: number,
  user: User,
): Promise<'email' | 'username' | 'userKey' | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['email_lower', 'username', 'user_key'])
    .where('site_id', '=', siteId)
    .where('account_id', '!=', user.accountId)
    .where((eb) =>
      eb.or([
        eb('email_lower', '=', user.email.toLowerCase()),
        ...(user.username ? [eb('username', '=', user.username)] : []),
        ...(user.userKey ? [eb('user_key', '=', user.userKey)] : []),
      ]),
    )
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.email_lower === user.email.toLowerCase()) return 'email';
  return row.username !== null && row.username === user.username ? 'username' : 'userKey';
}

export async function insertUser(db: Db, siteId: number, user: User): Promise<void> {
  await db
    .insertInto('users')
    .values({ ...toUserRow(siteId, user), created_at: new Date().toISOString() })
    .execute();
}

/** `%`, `_` and the escape character itself match literally in a LIKE pattern. */
function likeContaining(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Users by display name (code-point order), then accountId. `query` matches
 * a case-insensitive substring of the display name, public name or email;
 * SQLite's lower() folds ASCII letters only.
 */
export async function listUsers(
  db: Db,
  siteId: number,
  page: Page,
  query?: string,
): Promise<{ items: User[]; more: boolean }> {
  let select = db.selectFrom('users').selectAll().where('site_id', '=', siteId);
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
  const { items, more } = await fetchPage(select.orderBy('display_name').orderBy('account_id'), page);
  return { items: items.map(toUser), more };
}

/** Renames an app's bot user along with the app (docs/behaviour.md §2: displayName = the app's name). */
export async function renameUser(db: Db, siteId: number, accountId: string, name: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ display_name: name, public_name: name })
    .where('site_id', '=', siteId)
    .where('account_id', '=', accountId)
    .execute();
}
