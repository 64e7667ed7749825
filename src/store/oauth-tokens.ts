/** Bearer tokens of `POST /oauth2/token` (docs/behaviour.md §3): stored by digest, with their app, user, scopes and expiry. */
import { randomUUID } from 'node:crypto';
import type { Db } from './database.ts';
import { fetchPage, type Page } from './paging.ts';

export interface StoredOAuthToken {
  id: string;
  digest: string;
  appKey: string;
  /** The impersonated user; null for an app acting as itself. */
  accountId: string | null;
  scopes: string[];
  expiresAt: string;
}

export async function insertOAuthToken(db: Db, siteId: number, token: Omit<StoredOAuthToken, 'id'>): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('oauth_tokens')
    .values({
      site_id: siteId,
      id,
      digest: token.digest,
      app_key: token.appKey,
      account_id: token.accountId,
      scopes: JSON.stringify(token.scopes),
      created_at: new Date().toISOString(),
      expires_at: token.expiresAt,
    })
    .execute();
  return id;
}

export async function findOAuthTokenByDigest(
  db: Db,
  siteId: number,
  digest: string,
): Promise<StoredOAuthToken | undefined> {
  const row = await db
    .selectFrom('oauth_tokens')
    .select(['id', 'digest', 'app_key', 'account_id', 'scopes', 'expires_at'])
    .where('site_id', '=', siteId)
    .where('digest', '=', digest)
    .executeTakeFirst();
  return (
    row && {
      id: row.id,
      digest: row.digest,
      appKey: row.app_key,
      accountId: row.account_id,
      scopes: JSON.parse(row.scopes) as string[],
      expiresAt: row.expires_at,
    }
  );
}

/** The site a bearer token belongs to, whichever it is (docs/behaviour.md §10: accessible resources). */
export async function siteOfOAuthToken(db: Db, digest: string): Promise<number | undefined> {
  const row = await db.selectFrom('oauth_tokens').select('site_id').where('digest', '=', digest).executeTakeFirst();
  return row?.site_id;
}

/** Drops tokens that expired before `now` (ISO-8601 text sorts chronologically); they can never be used again. */
export async function deleteExpiredOAuthTokens(db: Db, now: string): Promise<void> {
  await db.deleteFrom('oauth_tokens').where('expires_at', '<', now).execute();
}

/** A bearer token as the administration API lists it: never the digest. */
export interface OAuthTokenRecord {
  id: string;
  appKey: string;
  /** The impersonated user (asUser); null for an app acting as itself (asApp). */
  accountId: string | null;
  scopes: string[];
  createdAt: string;
  expiresAt: string;
}

/** An app's bearer tokens, oldest first. Never the digest. */
export async function listOAuthTokens(
  db: Db,
  siteId: number,
  appKey: string,
  page: Page,
): Promise<{ items: OAuthTokenRecord[]; more: boolean }> {
  const { items, more } = await fetchPage(
    db
      .selectFrom('oauth_tokens')
      .select(['id', 'app_key', 'account_id', 'scopes', 'created_at', 'expires_at'])
      .where('site_id', '=', siteId)
      .where('app_key', '=', appKey)
      .orderBy('created_at')
      .orderBy('id'),
    page,
  );
  return {
    items: items.map((row) => ({
      id: row.id,
      appKey: row.app_key,
      accountId: row.account_id,
      scopes: JSON.parse(row.scopes) as string[],
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    })),
    more,
  };
}

export async function deleteOAuthToken(db: Db, siteId: number, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('oauth_tokens')
    .where('site_id', '=', siteId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Ends every bearer token of an app; returns how many there were. */
export async function deleteAppOAuthTokens(db: Db, siteId: number, appKey: string): Promise<number> {
  const result = await db
    .deleteFrom('oauth_tokens')
    .where('site_id', '=', siteId)
    .where('app_key', '=', appKey)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
