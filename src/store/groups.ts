/**
 * Groups and memberships. Every query for a user's groups is here; group
 * names sort by code point on both stores (the column is `COLLATE "C"` on
 * PostgreSQL).
 */
import { randomUUID } from 'node:crypto';
import type { Group, User } from '../domain/users.ts';
import { type Db, inListChunks } from './database.ts';
import { fetchPage, type Page } from './paging.ts';
import { toUser } from './users.ts';

/** Creates the group if absent; returns its id. */
export async function ensureGroup(db: Db, name: string): Promise<string> {
  await db
    .insertInto('groups')
    .values({ id: randomUUID(), name })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('groups').select('id').where('name', '=', name).executeTakeFirstOrThrow();
  return row.id;
}

export async function addGroupMember(db: Db, groupName: string, accountId: string): Promise<void> {
  const groupId = await ensureGroup(db, groupName);
  await db
    .insertInto('group_members')
    .values({ group_id: groupId, account_id: accountId })
    .onConflict((oc) => oc.columns(['group_id', 'account_id']).doNothing())
    .execute();
}

export async function groupExists(db: Db, name: string): Promise<boolean> {
  return (await db.selectFrom('groups').select('id').where('name', '=', name).executeTakeFirst()) !== undefined;
}

export async function findGroup(db: Db, name: string): Promise<Group | undefined> {
  return db.selectFrom('groups').select(['id', 'name']).where('name', '=', name).executeTakeFirst();
}

export async function insertGroup(db: Db, name: string): Promise<Group> {
  const group = { id: randomUUID(), name };
  await db.insertInto('groups').values(group).execute();
  return group;
}

/** Groups in code-point order of their names. */
export async function listGroups(db: Db, page: Page): Promise<{ items: Group[]; more: boolean }> {
  return fetchPage(db.selectFrom('groups').select(['id', 'name']).orderBy('name'), page);
}

/** Deletes the group; its memberships go with it (foreign-key cascade). */
export async function deleteGroup(db: Db, id: string): Promise<void> {
  await db.deleteFrom('groups').where('id', '=', id).execute();
}

export async function listGroupMembers(db: Db, groupId: string, page: Page): Promise<{ items: User[]; more: boolean }> {
  const { items, more } = await fetchPage(
    db
      .selectFrom('group_members')
      .innerJoin('users', 'users.account_id', 'group_members.account_id')
      .selectAll('users')
      .where('group_members.group_id', '=', groupId)
      .orderBy('users.display_name')
      .orderBy('users.account_id'),
    page,
  );
  return { items: items.map(toUser), more };
}

export async function removeGroupMember(db: Db, groupId: string, accountId: string): Promise<void> {
  await db.deleteFrom('group_members').where('group_id', '=', groupId).where('account_id', '=', accountId).execute();
}

/** Names of each user's groups, in code-point order; users without groups map to []. */
export async function groupNamesOfUsers(db: Db, accountIds: readonly string[]): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>(accountIds.map((id) => [id, []]));
  for (const part of inListChunks(accountIds)) {
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

/** Names of the groups a user belongs to, in code-point order. */
export async function groupNamesOf(db: Db, accountId: string): Promise<string[]> {
  return (await groupNamesOfUsers(db, [accountId])).get(accountId)!;
}

/** One page of a user's groups, ordered by name; `more` when groups follow it. */
export async function listGroupsOfUser(
  db: Db,
  accountId: string,
  page: Page,
): Promise<{ groups: Group[]; more: boolean }> {
  if (page.limit === 0) return { groups: [], more: false };
  const { items, more } = await fetchPage(
    db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select(['groups.id', 'groups.name'])
      .where('group_members.account_id', '=', accountId)
      .orderBy('groups.name'),
    page,
  );
  return { groups: items.map((r) => ({ id: r.id, name: r.name })), more };
}
