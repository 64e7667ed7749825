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
export async function ensureGroup(db: Db, siteId: number, name: string): Promise<string> {
  await db
    .insertInto('groups')
    .values({ site_id: siteId, id: randomUUID(), name })
    .onConflict((oc) => oc.columns(['site_id', 'name']).doNothing())
    .execute();
  const row = await db
    .selectFrom('groups')
    .select('id')
    .where('site_id', '=', siteId)
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function addGroupMember(db: Db, siteId: number, groupName: string, accountId: string): Promise<void> {
  await addMemberById(db, siteId, await ensureGroup(db, siteId, groupName), accountId);
}

/** Adds a member to a group known by its id; a member already there stays. */
export async function addMemberById(db: Db, siteId: number, groupId: string, accountId: string): Promise<void> {
  await db
    .insertInto('group_members')
    .values({ site_id: siteId, group_id: groupId, account_id: accountId })
    .onConflict((oc) => oc.columns(['site_id', 'group_id', 'account_id']).doNothing())
    .execute();
}

/** addMemberById for many (group id, accountId) pairs, a few hundred to a statement. */
export async function addMembersById(
  db: Db,
  siteId: number,
  members: ReadonlyArray<{ groupId: string; accountId: string }>,
): Promise<void> {
  for (const part of inListChunks(members)) {
    await db
      .insertInto('group_members')
      .values(part.map(({ groupId, accountId }) => ({ site_id: siteId, group_id: groupId, account_id: accountId })))
      .onConflict((oc) => oc.columns(['site_id', 'group_id', 'account_id']).doNothing())
      .execute();
  }
}

export async function groupExists(db: Db, siteId: number, name: string): Promise<boolean> {
  return (await findGroup(db, siteId, name)) !== undefined;
}

export async function findGroup(db: Db, siteId: number, name: string): Promise<Group | undefined> {
  return db
    .selectFrom('groups')
    .select(['id', 'name'])
    .where('site_id', '=', siteId)
    .where('name', '=', name)
    .executeTakeFirst();
}

/** The ids of the site's groups among `names`; names of no group are left out. */
export async function groupIdsNamed(db: Db, siteId: number, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await db
    .selectFrom('groups')
    .select('id')
    .where('site_id', '=', siteId)
    .where('name', 'in', names)
    .execute();
  return rows.map((row) => row.id);
}

export async function insertGroup(db: Db, siteId: number, name: string): Promise<Group> {
  const group = { id: randomUUID(), name };
  await db
    .insertInto('groups')
    .values({ site_id: siteId, ...group })
    .execute();
  return group;
}

/** Groups in code-point order of their names. */
export async function listGroups(db: Db, siteId: number, page: Page): Promise<{ items: Group[]; more: boolean }> {
  return fetchPage(db.selectFrom('groups').select(['id', 'name']).where('site_id', '=', siteId).orderBy('name'), page);
}

/** Deletes the group; its memberships go with it (foreign-key cascade). Group ids are unique across sites. */
export async function deleteGroup(db: Db, id: string): Promise<void> {
  await db.deleteFrom('groups').where('id', '=', id).execute();
}

/** A group's members; group ids are unique across sites, and a member is of the group's site. */
export async function listGroupMembers(db: Db, groupId: string, page: Page): Promise<{ items: User[]; more: boolean }> {
  const { items, more } = await fetchPage(
    db
      .selectFrom('group_members')
      .innerJoin('users', (join) =>
        join
          .onRef('users.site_id', '=', 'group_members.site_id')
          .onRef('users.account_id', '=', 'group_members.account_id'),
      )
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
export async function groupNamesOfUsers(
  db: Db,
  siteId: number,
  accountIds: readonly string[],
): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>(accountIds.map((id) => [id, []]));
  for (const part of inListChunks(accountIds)) {
    const rows = await db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select(['group_members.account_id', 'groups.name'])
      .where('group_members.site_id', '=', siteId)
      .where('group_members.account_id', 'in', part)
      .orderBy('groups.name')
      .execute();
    for (const row of rows) names.get(row.account_id)?.push(row.name);
  }
  return names;
}

/** Names of the groups a user belongs to, in code-point order. */
export async function groupNamesOf(db: Db, siteId: number, accountId: string): Promise<string[]> {
  return (await groupNamesOfUsers(db, siteId, [accountId])).get(accountId)!;
}

/** One page of a user's groups, ordered by name; `more` when groups follow it. */
export async function listGroupsOfUser(
  db: Db,
  siteId: number,
  accountId: string,
  page: Page,
): Promise<{ groups: Group[]; more: boolean }> {
  if (page.limit === 0) return { groups: [], more: false };
  const { items, more } = await fetchPage(
    db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select(['groups.id', 'groups.name'])
      .where('group_members.site_id', '=', siteId)
      .where('group_members.account_id', '=', accountId)
      .orderBy('groups.name'),
    page,
  );
  return { groups: items.map((r) => ({ id: r.id, name: r.name })), more };
}
