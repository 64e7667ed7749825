/**
 * Queries for the Confluence user directory (docs/behaviour.md §1 `/user…`): users by
 * accountId and by legacy identifier, memberships and personal spaces.
 * Dialect-agnostic; group names sort by code point on both stores (the
 * column is `COLLATE "C"` on PostgreSQL).
 */
import type { PersonalSpace } from '../domain/spaces.ts';
import type { Group, User } from '../domain/users.ts';
import type { Db } from './database.ts';
import { personalSpacesOf } from './spaces.ts';
import { toUser } from './users.ts';

/** Ids per `IN (…)` list: far below SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** The users among `accountIds`, keyed by accountId; unknown ids are simply absent. */
export async function findUsersByAccountId(db: Db, accountIds: readonly string[]): Promise<Map<string, User>> {
  const found = new Map<string, User>();
  for (const part of chunks(accountIds)) {
    const rows = await db.selectFrom('users').selectAll().where('account_id', 'in', part).execute();
    for (const row of rows) found.set(row.account_id, toUser(row));
  }
  return found;
}

export type LegacyField = 'userKey' | 'username';

/** The users holding the given legacy keys or usernames, keyed by that value. */
export async function findUsersByLegacyId(
  db: Db,
  field: LegacyField,
  values: readonly string[],
): Promise<Map<string, User>> {
  const column = field === 'userKey' ? 'user_key' : 'username';
  const found = new Map<string, User>();
  for (const part of chunks(values)) {
    const rows = await db.selectFrom('users').selectAll().where(column, 'in', part).execute();
    for (const row of rows) {
      const value = row[column];
      if (value !== null) found.set(value, toUser(row));
    }
  }
  return found;
}

/** One page of a user's groups, ordered by name; `more` when groups follow it. */
export async function listGroupsOfUser(
  db: Db,
  accountId: string,
  page: { start: number; limit: number },
): Promise<{ groups: Group[]; more: boolean }> {
  if (page.limit === 0) return { groups: [], more: false };
  const rows = await db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select(['groups.id', 'groups.name'])
    .where('group_members.account_id', '=', accountId)
    .orderBy('groups.name')
    .limit(page.limit + 1)
    .offset(page.start)
    .execute();
  return { groups: rows.slice(0, page.limit).map((r) => ({ id: r.id, name: r.name })), more: rows.length > page.limit };
}

/** Group names of each of the users, ordered; users without groups map to []. */
export async function groupNamesOfUsers(db: Db, accountIds: readonly string[]): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>(accountIds.map((id) => [id, []]));
  for (const part of chunks(accountIds)) {
    const rows = await db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select(['group_members.account_id', 'groups.name'])
      .where('group_members.account_id', 'in', part)
      .orderBy('groups.name')
      .execute();
    for (const row of rows) names.get(row.account_id)?.push(row.name);
  }
  return names;
}

/**
 * The personal spaces the given users own, keyed by owner (docs/behaviour.md §2: at most
 * one each). A personal space whose owner was deleted belongs to nobody.
 */
export async function findPersonalSpaces(db: Db, owners: readonly string[]): Promise<Map<string, PersonalSpace>> {
  const found = new Map<string, PersonalSpace>();
  for (const part of chunks(owners)) {
    for (const [owner, space] of await personalSpacesOf(db, part)) found.set(owner, space);
  }
  return found;
}
