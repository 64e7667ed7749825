/**
 * Everything of one site, read whole for an export (docs/behaviour.md §11,
 * domain/export.ts): one query per table, no paging. Rows come back in no
 * particular order; the domain sorts them by natural key, the same way on
 * both stores. Secrets never leave here in the clear: there are none to
 * read (digests and ciphertexts only), and only the app's sealed secret and
 * token digests are read, for comparing two states of a site.
 */
import type { User } from '../domain/users.ts';
import { type SealedApp, toSealedApp } from './apps.ts';
import type { Db } from './database.ts';
import { toUser } from './users.ts';

/** A person of the site, as store/users.ts maps the row. */
export type ExportedUser = User;

/** An app as stored (store/apps.ts): its secret sealed, its client secret digested. */
export type ExportedApp = SealedApp;

export interface ExportedSpace {
  key: string;
  name: string;
  type: 'global' | 'personal';
  owner: string | null;
  anonymous: boolean;
}

export interface ExportedContent {
  id: string;
  type: 'page' | 'blogpost';
  space: string;
  title: string;
  restricted: boolean;
}

export interface ExportedWatch {
  user: string;
  content?: string;
  space?: string;
  label?: string;
}

export interface ExportedProperty {
  product: 'confluence' | 'jira';
  namespace: string;
  accountId: string;
  key: string;
  /** Compact JSON text, as stored. */
  valueJson: string;
}

/** The people of the site (app bots belong to their apps). */
export async function exportUsers(db: Db, siteId: number): Promise<ExportedUser[]> {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where('site_id', '=', siteId)
    .where('account_type', '=', 'atlassian')
    .execute();
  return rows.map(toUser);
}

export async function exportGroupNames(db: Db, siteId: number): Promise<string[]> {
  const rows = await db.selectFrom('groups').select('name').where('site_id', '=', siteId).execute();
  return rows.map((row) => row.name);
}

/** Every membership: (group name, accountId). */
export async function exportMemberships(db: Db, siteId: number): Promise<{ group: string; accountId: string }[]> {
  const rows = await db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select(['groups.name', 'group_members.account_id'])
    .where('group_members.site_id', '=', siteId)
    .execute();
  return rows.map((row) => ({ group: row.name, accountId: row.account_id }));
}

/** The digests of every API token, by accountId: only to tell whether an import added one. */
export async function exportTokenDigests(db: Db, siteId: number): Promise<{ accountId: string; digest: string }[]> {
  const rows = await db
    .selectFrom('api_tokens')
    .select(['account_id', 'digest'])
    .where('site_id', '=', siteId)
    .execute();
  return rows.map((row) => ({ accountId: row.account_id, digest: row.digest }));
}

export async function exportApps(db: Db, siteId: number): Promise<ExportedApp[]> {
  const rows = await db.selectFrom('apps').selectAll().where('site_id', '=', siteId).execute();
  return rows.map(toSealedApp);
}

export async function exportLabels(db: Db, siteId: number): Promise<string[]> {
  const rows = await db.selectFrom('labels').select('name').where('site_id', '=', siteId).execute();
  return rows.map((row) => row.name);
}

export async function exportSpaces(db: Db, siteId: number): Promise<ExportedSpace[]> {
  const rows = await db
    .selectFrom('spaces')
    .select(['key', 'name', 'type', 'owner_account_id', 'view_anonymous'])
    .where('site_id', '=', siteId)
    .execute();
  return rows.map((row) => ({
    key: row.key,
    name: row.name,
    type: row.type,
    owner: row.owner_account_id,
    anonymous: row.view_anonymous === 1,
  }));
}

/** Who may view which space: (space key, group name) and (space key, accountId). */
export async function exportSpaceViews(
  db: Db,
  siteId: number,
): Promise<{ groups: { space: string; group: string }[]; users: { space: string; accountId: string }[] }> {
  const groups = await db
    .selectFrom('space_view_groups')
    .innerJoin('spaces', 'spaces.id', 'space_view_groups.space_id')
    .innerJoin('groups', 'groups.id', 'space_view_groups.group_id')
    .select(['spaces.key', 'groups.name'])
    .where('space_view_groups.site_id', '=', siteId)
    .execute();
  const users = await db
    .selectFrom('space_view_users')
    .innerJoin('spaces', 'spaces.id', 'space_view_users.space_id')
    .select(['spaces.key', 'space_view_users.account_id'])
    .where('space_view_users.site_id', '=', siteId)
    .execute();
  return {
    groups: groups.map((row) => ({ space: row.key, group: row.name })),
    users: users.map((row) => ({ space: row.key, accountId: row.account_id })),
  };
}

export async function exportContent(db: Db, siteId: number): Promise<ExportedContent[]> {
  const rows = await db
    .selectFrom('content')
    .innerJoin('spaces', 'spaces.id', 'content.space_id')
    .select(['content.id', 'content.type', 'content.title', 'content.restricted', 'spaces.key as space_key'])
    .where('content.site_id', '=', siteId)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    space: row.space_key,
    title: row.title,
    restricted: row.restricted === 1,
  }));
}

/** Labels on content and view restrictions, each as (content id, name). */
export async function exportContentLinks(
  db: Db,
  siteId: number,
): Promise<{
  labels: { content: string; label: string }[];
  users: { content: string; accountId: string }[];
  groups: { content: string; group: string }[];
}> {
  const labels = await db
    .selectFrom('content_labels')
    .select(['content_id', 'label'])
    .where('site_id', '=', siteId)
    .execute();
  const users = await db
    .selectFrom('content_view_users')
    .select(['content_id', 'account_id'])
    .where('site_id', '=', siteId)
    .execute();
  const groups = await db
    .selectFrom('content_view_groups')
    .innerJoin('groups', 'groups.id', 'content_view_groups.group_id')
    .select(['content_view_groups.content_id', 'groups.name'])
    .where('content_view_groups.site_id', '=', siteId)
    .execute();
  return {
    labels: labels.map((row) => ({ content: row.content_id, label: row.label })),
    users: users.map((row) => ({ content: row.content_id, accountId: row.account_id })),
    groups: groups.map((row) => ({ content: row.content_id, group: row.name })),
  };
}

export async function exportWatches(db: Db, siteId: number): Promise<ExportedWatch[]> {
  const content = await db
    .selectFrom('content_watches')
    .select(['account_id', 'content_id'])
    .where('site_id', '=', siteId)
    .execute();
  const spaces = await db
    .selectFrom('space_watches')
    .innerJoin('spaces', 'spaces.id', 'space_watches.space_id')
    .select(['space_watches.account_id', 'spaces.key'])
    .where('space_watches.site_id', '=', siteId)
    .execute();
  const labels = await db
    .selectFrom('label_watches')
    .select(['account_id', 'label'])
    .where('site_id', '=', siteId)
    .execute();
  return [
    ...content.map((row) => ({ user: row.account_id, content: row.content_id })),
    ...spaces.map((row) => ({ user: row.account_id, space: row.key })),
    ...labels.map((row) => ({ user: row.account_id, label: row.label })),
  ];
}

export async function exportProperties(db: Db, siteId: number): Promise<ExportedProperty[]> {
  const rows = await db
    .selectFrom('properties')
    .select(['product', 'namespace', 'account_id', 'key', 'value'])
    .where('site_id', '=', siteId)
    .execute();
  return rows.map((row) => ({
    product: row.product,
    namespace: row.namespace,
    accountId: row.account_id,
    key: row.key,
    valueJson: row.value,
  }));
}
