/**
 * Spaces and their view permissions (docs/behaviour.md §2). Dialect-agnostic; keys, group
 * names and accountIds are returned in code-point order (`COLLATE "C"` on
 * PostgreSQL). Group and user references are foreign keys: a deleted group
 * or user leaves every permission it was named in.
 */
import type { Space, ViewPermission } from '../domain/spaces.ts';
import type { Db } from './database.ts';
import { groupIdsNamed } from './groups.ts';
import { fetchPage, type Page } from './paging.ts';
import type { SpaceTable } from './schema.ts';

type SpaceRow = Pick<SpaceTable, 'key' | 'name' | 'type' | 'owner_account_id' | 'view_anonymous'> & { id: number };

const SPACE_COLUMNS = ['id', 'key', 'name', 'type', 'owner_account_id', 'view_anonymous'] as const;

/** View permissions of some spaces, by space id: one query per list. */
async function viewPermissions(db: Db, rows: readonly SpaceRow[]): Promise<Map<number, ViewPermission>> {
  const views = new Map<number, ViewPermission>(
    rows.map((r) => [r.id, { groups: [], users: [], anonymous: r.view_anonymous === 1 }]),
  );
  if (rows.length === 0) return views;
  const ids = rows.map((r) => r.id);
  const groups = await db
    .selectFrom('space_view_groups')
    .innerJoin('groups', 'groups.id', 'space_view_groups.group_id')
    .select(['space_view_groups.space_id', 'groups.name'])
    .where('space_view_groups.space_id', 'in', ids)
    .orderBy('groups.name')
    .execute();
  for (const row of groups) views.get(row.space_id)?.groups.push(row.name);
  const users = await db
    .selectFrom('space_view_users')
    .select(['space_id', 'account_id'])
    .where('space_id', 'in', ids)
    .orderBy('account_id')
    .execute();
  for (const row of users) views.get(row.space_id)?.users.push(row.account_id);
  return views;
}

async function toSpaces(db: Db, rows: readonly SpaceRow[]): Promise<Space[]> {
  const views = await viewPermissions(db, rows);
  return rows.map((row) => ({
    id: Number(row.id),
    key: row.key,
    name: row.name,
    type: row.type,
    owner: row.owner_account_id,
    view: views.get(row.id)!,
  }));
}

export async function findSpaceByKey(db: Db, siteId: number, key: string): Promise<Space | undefined> {
  const row = await db
    .selectFrom('spaces')
    .select(SPACE_COLUMNS)
    .where('site_id', '=', siteId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row ? (await toSpaces(db, [row]))[0] : undefined;
}

export async function findSpaceById(db: Db, siteId: number, id: number): Promise<Space | undefined> {
  const row = await db
    .selectFrom('spaces')
    .select(SPACE_COLUMNS)
    .where('site_id', '=', siteId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? (await toSpaces(db, [row]))[0] : undefined;
}

/** Spaces by key, in code-point order; one extra row tells whether more exist. */
export async function listSpaces(db: Db, siteId: number, page: Page): Promise<{ items: Space[]; more: boolean }> {
  if (page.limit === 0) return { items: [], more: false };
  const { items, more } = await fetchPage(
    db.selectFrom('spaces').select(SPACE_COLUMNS).where('site_id', '=', siteId).orderBy('key'),
    page,
  );
  return { items: await toSpaces(db, items), more };
}

/** The personal space a user owns, if any (at most one: the owner column is unique). */
export async function findPersonalSpaceOf(db: Db, siteId: number, owner: string): Promise<Space | undefined> {
  const row = await db
    .selectFrom('spaces')
    .select(SPACE_COLUMNS)
    .where('site_id', '=', siteId)
    .where('owner_account_id', '=', owner)
    .executeTakeFirst();
  return row ? (await toSpaces(db, [row]))[0] : undefined;
}

export interface SpaceColumns {
  name: string;
  type: Space['type'];
  owner: string | null;
  anonymous: boolean;
}

export async function insertSpace(db: Db, siteId: number, key: string, columns: SpaceColumns): Promise<number> {
  const row = await db
    .insertInto('spaces')
    .values({
      site_id: siteId,
      key,
      name: columns.name,
      type: columns.type,
      owner_account_id: columns.owner,
      view_anonymous: columns.anonymous ? 1 : 0,
      created_at: new Date().toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Only the columns given change. Space ids are unique across sites. */
export async function updateSpaceColumns(db: Db, id: number, change: Partial<SpaceColumns>): Promise<void> {
  const values = {
    ...(change.name !== undefined && { name: change.name }),
    ...(change.type !== undefined && { type: change.type }),
    ...(change.owner !== undefined && { owner_account_id: change.owner }),
    ...(change.anonymous !== undefined && { view_anonymous: change.anonymous ? 1 : 0 }),
  };
  if (Object.keys(values).length === 0) return;
  await db.updateTable('spaces').set(values).where('id', '=', id).execute();
}

/** Replaces the groups that may view the space. Every name must be an existing group. */
export async function setSpaceViewGroups(
  db: Db,
  siteId: number,
  spaceId: number,
  groupNames: readonly string[],
): Promise<void> {
  await db.deleteFrom('space_view_groups').where('space_id', '=', spaceId).execute();
  const groups = await groupIdsNamed(db, siteId, groupNames);
  if (groups.length === 0) return;
  await db
    .insertInto('space_view_groups')
    .values(groups.map((id) => ({ site_id: siteId, space_id: spaceId, group_id: id })))
    .execute();
}

/** Replaces the users who may view the space. Every accountId must be an existing user. */
export async function setSpaceViewUsers(
  db: Db,
  siteId: number,
  spaceId: number,
  accountIds: readonly string[],
): Promise<void> {
  await db.deleteFrom('space_view_users').where('space_id', '=', spaceId).execute();
  if (accountIds.length === 0) return;
  await db
    .insertInto('space_view_users')
    .values(accountIds.map((accountId) => ({ site_id: siteId, space_id: spaceId, account_id: accountId })))
    .execute();
}

/** Deletes the space (ids are unique across sites); its permissions, content (with their labels and restrictions) and every watch on them cascade. */
export async function deleteSpace(db: Db, id: number): Promise<void> {
  await db.deleteFrom('spaces').where('id', '=', id).execute();
}

/** The personal spaces the given users own, keyed by owner. */
export async function personalSpacesOf(
  db: Db,
  siteId: number,
  owners: readonly string[],
): Promise<Map<string, { id: number; key: string; name: string }>> {
  const found = new Map<string, { id: number; key: string; name: string }>();
  if (owners.length === 0) return found;
  const rows = await db
    .selectFrom('spaces')
    .select(['id', 'key', 'name', 'owner_account_id'])
    .where('site_id', '=', siteId)
    .where('type', '=', 'personal')
    .where('owner_account_id', 'in', owners)
    .execute();
  for (const row of rows)
    if (row.owner_account_id !== null)
      found.set(row.owner_account_id, { id: Number(row.id), key: row.key, name: row.name });
  return found;
}

/** The names among `names` that are no group, in the order given. */
export async function unknownGroupNames(db: Db, siteId: number, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await db
    .selectFrom('groups')
    .select('name')
    .where('site_id', '=', siteId)
    .where('name', 'in', names)
    .execute();
  const known = new Set(rows.map((r) => r.name));
  return names.filter((n) => !known.has(n));
}

/** The accountIds among `ids` that are no user, in the order given. */
export async function unknownAccountIds(db: Db, siteId: number, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('users')
    .select('account_id')
    .where('site_id', '=', siteId)
    .where('account_id', 'in', ids)
    .execute();
  const known = new Set(rows.map((r) => r.account_id));
  return ids.filter((id) => !known.has(id));
}
