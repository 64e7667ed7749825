/**
 * Watches (docs/behaviour.md §2): one table per kind of target, so every target is a
 * foreign key and removing a user, a space, content or a label removes its
 * watches. Adding is insert-if-absent and removing deletes whatever is
 * there, so both are idempotent, also when two requests race.
 */
import type { InsertResult } from 'kysely';
import type { Db } from './database.ts';

export type WatchTarget =
  | { kind: 'content'; contentId: string }
  | { kind: 'space'; spaceId: number }
  | { kind: 'label'; label: string };

export async function isWatching(db: Db, siteId: number, accountId: string, target: WatchTarget): Promise<boolean> {
  switch (target.kind) {
    case 'content':
      return (
        (await db
          .selectFrom('content_watches')
          .select('account_id')
          .where('site_id', '=', siteId)
          .where('site_id', '=', siteId)
          .where('account_id', '=', accountId)
          .where('content_id', '=', target.contentId)
          .executeTakeFirst()) !== undefined
      );
    case 'space':
      return (
        (await db
          .selectFrom('space_watches')
          .select('account_id')
          .where('site_id', '=', siteId)
          .where('site_id', '=', siteId)
          .where('account_id', '=', accountId)
          .where('space_id', '=', target.spaceId)
          .executeTakeFirst()) !== undefined
      );
    case 'label':
      return (
        (await db
          .selectFrom('label_watches')
          .select('account_id')
          .where('site_id', '=', siteId)
          .where('site_id', '=', siteId)
          .where('account_id', '=', accountId)
          .where('label', '=', target.label)
          .executeTakeFirst()) !== undefined
      );
  }
}

/** Adds the watch unless it exists; answers whether it was added. */
export async function addWatch(db: Db, siteId: number, accountId: string, target: WatchTarget): Promise<boolean> {
  const created_at = new Date().toISOString();
  let result: InsertResult;
  switch (target.kind) {
    case 'content':
      result = await db
        .insertInto('content_watches')
        .values({ site_id: siteId, account_id: accountId, content_id: target.contentId, created_at })
        .onConflict((oc) => oc.columns(['site_id', 'account_id', 'content_id']).doNothing())
        .executeTakeFirst();
      break;
    case 'space':
      result = await db
        .insertInto('space_watches')
        .values({ site_id: siteId, account_id: accountId, space_id: target.spaceId, created_at })
        .onConflict((oc) => oc.columns(['site_id', 'account_id', 'space_id']).doNothing())
        .executeTakeFirst();
      break;
    case 'label':
      result = await db
        .insertInto('label_watches')
        .values({ site_id: siteId, account_id: accountId, label: target.label, created_at })
        .onConflict((oc) => oc.columns(['site_id', 'account_id', 'label']).doNothing())
        .executeTakeFirst();
      break;
  }
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function removeWatch(db: Db, siteId: number, accountId: string, target: WatchTarget): Promise<void> {
  switch (target.kind) {
    case 'content':
      await db
        .deleteFrom('content_watches')
        .where('site_id', '=', siteId)
        .where('account_id', '=', accountId)
        .where('content_id', '=', target.contentId)
        .execute();
      return;
    case 'space':
      await db
        .deleteFrom('space_watches')
        .where('site_id', '=', siteId)
        .where('account_id', '=', accountId)
        .where('space_id', '=', target.spaceId)
        .execute();
      return;
    case 'label':
      await db
        .deleteFrom('label_watches')
        .where('site_id', '=', siteId)
        .where('account_id', '=', accountId)
        .where('label', '=', target.label)
        .execute();
      return;
  }
}
