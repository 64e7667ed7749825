/** API tokens (docs/behaviour.md §2): stored by digest only; the digest is made in the domain (domain/secrets.ts). */
import { randomUUID } from 'node:crypto';
import { type Db, inListChunks } from './database.ts';
import { fetchPage, type Page } from './paging.ts';

export interface StoredToken {
  id: string;
  accountId: string;
  digest: string;
  expiresAt: string | null;
}

/** A token as the administration API lists it: never the digest. */
export interface TokenRecord {
  id: string;
  name: string;
  accountId: string;
  createdAt: string;
  expiresAt: string | null;
}

export async function insertToken(
  db: Db,
  siteId: number,
  token: { accountId: string; name: string; digest: string; expiresAt: string | null },
): Promise<TokenRecord> {
  const record: TokenRecord = {
    id: randomUUID(),
    name: token.name,
    accountId: token.accountId,
    createdAt: new Date().toISOString(),
    expiresAt: token.expiresAt,
  };
  await db
    .insertInto('api_tokens')
    .values({
      site_id: siteId,
      id: record.id,
      account_id: record.accountId,
      name: record.name,
      digest: token.digest,
      created_at: record.createdAt,
      expires_at: record.expiresAt,
    })
    .execute();
  return record;
}

/** A user's tokens, oldest first. Never the digest. */
export async function listTokens(
  db: Db,
  siteId: number,
  accountId: string,
  page: Page,
): Promise<{ items: TokenRecord[]; more: boolean }> {
  const { items, more } = await fetchPage(
    db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'account_id', 'created_at', 'expires_at'])
      .where('site_id', '=', siteId)
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id'),
    page,
  );
  return {
    items: items.map((r) => ({
      id: r.id,
      name: r.name,
      accountId: r.account_id,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    })),
    more,
  };
}

export async function deleteToken(db: Db, siteId: number, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('api_tokens')
    .where('site_id', '=', siteId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Adds each token unless one with the same digest exists (seed tokens are add-only), a few hundred to a statement. */
export async function ensureApiTokens(
  db: Db,
  siteId: number,
  tokens: ReadonlyArray<{ accountId: string; name: string; digest: string }>,
): Promise<void> {
  const now = new Date().toISOString();
  for (const part of inListChunks(tokens)) {
    await db
      .insertInto('api_tokens')
      .values(
        part.map((token) => ({
          site_id: siteId,
          id: randomUUID(),
          account_id: token.accountId,
          name: token.name,
          digest: token.digest,
          created_at: now,
          expires_at: null,
        })),
      )
      .onConflict((oc) => oc.columns(['site_id', 'digest']).doNothing())
      .execute();
  }
}

export async function findApiTokenByDigest(db: Db, siteId: number, digest: string): Promise<StoredToken | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .select(['id', 'account_id', 'digest', 'expires_at'])
    .where('site_id', '=', siteId)
    .where('digest', '=', digest)
    .executeTakeFirst();
  return row && { id: row.id, accountId: row.account_id, digest: row.digest, expiresAt: row.expires_at };
}
