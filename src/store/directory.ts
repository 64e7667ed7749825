/**
 * Queries for the Confluence user directory (docs/behaviour.md §1 `/user…`): users by
 * accountId and by legacy identifier, and personal spaces (memberships: groups.ts).
 * Dialect-agnostic; group names sort by code point on both stores (the
 * column is `COLLATE "C"` on PostgreSQL).
 */
import type { PersonalSpace } from '../domain/spaces.ts';
import type { User } from '../domain/users.ts';
import { type Db, inListChunks } from './database.ts';
import { personalSpacesOf } from './spaces.ts';
import { toUser } from './users.ts';

/** The users among `accountIds`, keyed by accountId; unknown ids are simply absent. */
export async function findUsersByAccountId(
  db: Db,
  siteId: number,
  accountIds: readonly string[],
): Promise<Map<string, User>> {
  const found = new Map<string, User>();
  for (const part of inListChunks(accountIds)) {
    const rows = await db
      .selectFrom('users')
      .selectAll()
      .where('site_id', '=', siteId)
      .where('account_id', 'in', part)
      .execute();
    for (const row of rows) found.set(row.account_id, toUser(row));
  }
  return found;
}

export type LegacyField = 'userKey' | 'username';

/** The users holding the given legacy keys or usernames, keyed by that value. */
export async function findUsersByLegacyId(
  db: Db,
  siteId: number,
  field: LegacyField,
  values: readonly string[],
): Promise<Map<string, User>> {
  const column = field === 'userKey' ? 'user_key' : 'username';
  const found = new Map<string, User>();
  for (const part of inListChunks(values)) {
    const rows = await db
      .selectFrom('users')
      .selectAll()
      .where('site_id', '=', siteId)
      .where(column, 'in', part)
      .execute();
    for (const row of rows) {
      const value = row[column];
      if (value !== null) found.set(value, toUser(row));
    }
  }
  return found;
}

/**
 * The personal spaces the given users own, keyed by owner (docs/behaviour.md §2: at most
 * one each). A personal space whose owner was deleted belongs to nobody.
 */
export async function findPersonalSpaces(
  db: Db,
  siteId: number,
  owners: readonly string[],
): Promise<Map<string, PersonalSpace>> {
  const found = new Map<string, PersonalSpace>();
  for (const part of inListChunks(owners)) {
    for (const [owner, space] of await personalSpacesOf(db, siteId, part)) found.set(owner, space);
  }
  return found;
}
