/**
 * Content, labels and view restrictions (docs/behaviour.md §2). Dialect-agnostic. Content
 * ids are numeric strings stored as text, so they are ordered by length,
 * then text: numerically. Labels are stored lower-cased and stay when their
 * last content goes.
 */
import { sql } from 'kysely';
import type { Content, Restrictions } from '../domain/spaces.ts';
import type { Db } from './database.ts';
import { groupIdsNamed } from './groups.ts';
import { fetchPage, type Page } from './paging.ts';

interface ContentRow {
  id: string;
  type: Content['type'];
  title: string;
  restricted: number;
  space_key: string;
}

function selectContent(db: Db, siteId: number) {
  return db
    .selectFrom('content')
    .innerJoin('spaces', 'spaces.id', 'content.space_id')
    .select(['content.id', 'content.type', 'content.title', 'content.restricted', 'spaces.key as space_key'])
    .where('content.site_id', '=', siteId);
}

/** Labels and restrictions of some content, by id: one query each per list. */
async function toContent(db: Db, siteId: number, rows: readonly ContentRow[]): Promise<Content[]> {
  const ids = rows.map((r) => r.id);
  const labels = new Map<string, string[]>(ids.map((id) => [id, []]));
  const restrictions = new Map<string, Restrictions>(ids.map((id) => [id, { users: [], groups: [] }]));
  if (ids.length > 0) {
    for (const row of await db
      .selectFrom('content_labels')
      .select(['content_id', 'label'])
      .where('site_id', '=', siteId)
      .where('content_id', 'in', ids)
      .orderBy('label')
      .execute()) {
      labels.get(row.content_id)?.push(row.label);
    }
    const users = await db
      .selectFrom('content_view_users')
      .select(['content_id', 'account_id'])
      .where('site_id', '=', siteId)
      .where('content_id', 'in', ids)
      .orderBy('account_id')
      .execute();
    for (const row of users) restrictions.get(row.content_id)?.users.push(row.account_id);
    const groups = await db
      .selectFrom('content_view_groups')
      .innerJoin('groups', 'groups.id', 'content_view_groups.group_id')
      .select(['content_view_groups.content_id', 'groups.name'])
      .where('content_view_groups.site_id', '=', siteId)
      .where('content_view_groups.content_id', 'in', ids)
      .orderBy('groups.name')
      .execute();
    for (const row of groups) restrictions.get(row.content_id)?.groups.push(row.name);
  }
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    title: row.title,
    space: row.space_key,
    labels: labels.get(row.id)!,
    restricted: row.restricted === 1,
    restrictions: restrictions.get(row.id)!,
  }));
}

export async function findContent(db: Db, siteId: number, id: string): Promise<Content | undefined> {
  const row = await selectContent(db, siteId).where('content.id', '=', id).executeTakeFirst();
  return row ? (await toContent(db, siteId, [row]))[0] : undefined;
}

/** The id of the space the content is in, if the content exists. */
export async function spaceIdOfContent(db: Db, siteId: number, id: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('content')
    .select('space_id')
    .where('site_id', '=', siteId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.space_id);
}

/** Content in numeric id order, optionally of one space. */
export async function listContent(
  db: Db,
  siteId: number,
  page: Page,
  spaceId?: number,
): Promise<{ items: Content[]; more: boolean }> {
  if (page.limit === 0) return { items: [], more: false };
  let query = selectContent(db, siteId);
  if (spaceId !== undefined) query = query.where('content.space_id', '=', spaceId);
  const { items, more } = await fetchPage(
    query.orderBy(sql`length(${sql.ref('content.id')})`).orderBy('content.id'),
    page,
  );
  return { items: await toContent(db, siteId, items), more };
}

export interface ContentColumns {
  spaceId: number;
  type: Content['type'];
  title: string;
  restricted: boolean;
}

export async function insertContent(db: Db, siteId: number, id: string, columns: ContentColumns): Promise<void> {
  await db
    .insertInto('content')
    .values({
      site_id: siteId,
      id,
      space_id: columns.spaceId,
      type: columns.type,
      title: columns.title,
      restricted: columns.restricted ? 1 : 0,
      created_at: new Date().toISOString(),
    })
    .execute();
}

/** Only the columns given change. */
export async function updateContentColumns(
  db: Db,
  siteId: number,
  id: string,
  change: Partial<ContentColumns>,
): Promise<void> {
  const values = {
    ...(change.spaceId !== undefined && { space_id: change.spaceId }),
    ...(change.type !== undefined && { type: change.type }),
    ...(change.title !== undefined && { title: change.title }),
    ...(change.restricted !== undefined && { restricted: change.restricted ? 1 : 0 }),
  };
  if (Object.keys(values).length === 0) return;
  await db.updateTable('content').set(values).where('site_id', '=', siteId).where('id', '=', id).execute();
}

/** Deletes the content; its labels' links, restrictions and watches cascade. The labels themselves stay (docs/behaviour.md §2). */
export async function deleteContent(db: Db, siteId: number, id: string): Promise<void> {
  await db.deleteFrom('content').where('site_id', '=', siteId).where('id', '=', id).execute();
}

/**
 * The next free content id: one past the largest. The caller inserts it in
 * the same transaction, and retries on a unique violation should a
 * concurrent create have taken it.
 */
export async function nextContentId(db: Db, siteId: number): Promise<string> {
  const row = await db
    .selectFrom('content')
    .select('id')
    .where('site_id', '=', siteId)
    .orderBy(sql`length(${sql.ref('id')})`, 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? '1' : (BigInt(row.id) + 1n).toString();
}

/** Replaces the users a content restriction names. */
export async function setRestrictionUsers(
  db: Db,
  siteId: number,
  contentId: string,
  accountIds: readonly string[],
): Promise<void> {
  await db.deleteFrom('content_view_users').where('site_id', '=', siteId).where('content_id', '=', contentId).execute();
  if (accountIds.length === 0) return;
  await db
    .insertInto('content_view_users')
    .values(accountIds.map((accountId) => ({ site_id: siteId, content_id: contentId, account_id: accountId })))
    .execute();
}

/** Replaces the groups a content restriction names. Every name must be an existing group. */
export async function setRestrictionGroups(
  db: Db,
  siteId: number,
  contentId: string,
  groupNames: readonly string[],
): Promise<void> {
  await db
    .deleteFrom('content_view_groups')
    .where('site_id', '=', siteId)
    .where('content_id', '=', contentId)
    .execute();
  const groups = await groupIdsNamed(db, siteId, groupNames);
  if (groups.length === 0) return;
  await db
    .insertInto('content_view_groups')
    .values(groups.map((id) => ({ site_id: siteId, content_id: contentId, group_id: id })))
    .execute();
}

// ── Labels ─────────────────────────────────────────────────────────────────

/** Creates the (lower-cased) label if absent. */
export async function ensureLabel(db: Db, siteId: number, name: string): Promise<void> {
  await db
    .insertInto('labels')
    .values({ site_id: siteId, name, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(['site_id', 'name']).doNothing())
    .execute();
}

export async function labelExists(db: Db, siteId: number, name: string): Promise<boolean> {
  const row = await db
    .selectFrom('labels')
    .select('name')
    .where('site_id', '=', siteId)
    .where('name', '=', name)
    .executeTakeFirst();
  return row !== undefined;
}

/** Attaches labels (created if absent); labels already attached stay. */
export async function addContentLabels(
  db: Db,
  siteId: number,
  contentId: string,
  labels: readonly string[],
): Promise<void> {
  for (const label of labels) await ensureLabel(db, siteId, label);
  if (labels.length === 0) return;
  await db
    .insertInto('content_labels')
    .values(labels.map((label) => ({ site_id: siteId, content_id: contentId, label })))
    .onConflict((oc) => oc.columns(['site_id', 'content_id', 'label']).doNothing())
    .execute();
}

/** Replaces the content's labels. Labels it no longer carries stay, with their watches (docs/behaviour.md §2). */
export async function setContentLabels(
  db: Db,
  siteId: number,
  contentId: string,
  labels: readonly string[],
): Promise<void> {
  await db.deleteFrom('content_labels').where('site_id', '=', siteId).where('content_id', '=', contentId).execute();
  await addContentLabels(db, siteId, contentId, labels);
}
