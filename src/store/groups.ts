/** Groups and memberships (docs/behaviour.md §2). Names sort by code point on both stores. */
import { randomUUID } from 'node:crypto';
import type { User } from '../domain/users.ts';
import type { Db } from './database.ts';
import { type Page, paged } from './paging.ts';
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
