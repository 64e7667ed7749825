import { randomUUID } from 'node:crypto';
import type { Db } from './database.ts';

export interface StoredToken {
  id: string;
  accountId: string;
  digest: string;
  expiresAt: string | null;
}

export async function insertApiToken(
  db: Db,
  token: { accountId: string; name: string; digest: string; expiresAt?: string | null },
): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('api_tokens')
    .values({
      id,
      account_id: token.accountId,
      name: token.name,
      digest: token.digest,
      created_at: new Date().toISOString(),
      expires_at: token.expiresAt ?? null,
    })
    .execute();
  return id;
}

/** Adds a token unless one with the same digest exists (seed tokens are add-only). */
export async function ensureApiToken(
  db: Db,
  token: { accountId: string; name: string; digest: string },
): Promise<void> {
  await db
    .insertInto('api_tokens')
    .values({
      id: randomUUID(),
      account_id: token.accountId,
      name: token.name,
      digest: token.digest,
      created_at: new Date().toISOString(),
      expires_at: null,
    })
    .onConflict((oc) => oc.column('digest').doNothing())
    .execute();
}

export async function findApiTokenByDigest(db: Db, digest: string): Promise<StoredToken | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .select(['id', 'account_id', 'digest', 'expires_at'])
    .where('digest', '=', digest)
    .executeTakeFirst();
  return row && { id: row.id, accountId: row.account_id, digest: row.digest, expiresAt: row.expires_at };
}
