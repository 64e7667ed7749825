import { randomUUID } from 'node:crypto';
import type { Db } from './database.ts';

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
