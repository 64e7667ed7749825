import type { App } from '../domain/apps.ts';
import type { Secrets } from '../domain/secrets.ts';
import type { Db } from './database.ts';
import type { AppRow } from './schema.ts';

function toApp(row: AppRow, secrets: Secrets): App {
  return {
    key: row.key,
    name: row.name,
    clientKey: row.client_key,
    sharedSecret: secrets.decrypt(row.shared_secret),
    oauthClientId: row.oauth_client_id,
    scopes: JSON.parse(row.scopes) as string[],
    emailAccess: row.email_access === 1,
    accountId: row.account_id,
  };
}

/** Inserts or replaces an app by key. Its bot user must exist already. */
export async function upsertApp(db: Db, secrets: Secrets, app: App & { clientSecret?: string | null }): Promise<void> {
  const values = {
    name: app.name,
    client_key: app.clientKey,
    shared_secret: secrets.encrypt(app.sharedSecret),
    oauth_client_id: app.oauthClientId,
    client_secret_digest: app.clientSecret ? secrets.digest(app.clientSecret) : null,
    scopes: JSON.stringify(app.scopes),
    email_access: app.emailAccess ? 1 : 0,
    account_id: app.accountId,
  };
  await db
    .insertInto('apps')
    .values({ key: app.key, ...values, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.column('key').doUpdateSet(values))
    .execute();
}

/** The app a Connect JWT names in `iss`: its key, or its clientKey (docs/behaviour.md §3). */
export async function findAppByIssuer(db: Db, secrets: Secrets, issuer: string): Promise<App | undefined> {
  const row = await db
    .selectFrom('apps')
    .selectAll()
    .where((eb) => eb.or([eb('key', '=', issuer), eb('client_key', '=', issuer)]))
    .executeTakeFirst();
  return row && toApp(row, secrets);
}

/** The app holding an OAuth `client_id` (docs/behaviour.md §2: `oauthClientId`), with its client secret's digest. */
export async function findAppByOAuthClientId(
  db: Db,
  secrets: Secrets,
  clientId: string,
): Promise<{ app: App; clientSecretDigest: string | null } | undefined> {
  const row = await db.selectFrom('apps').selectAll().where('oauth_client_id', '=', clientId).executeTakeFirst();
  return row && { app: toApp(row, secrets), clientSecretDigest: row.client_secret_digest };
}

export async function findAppByKey(db: Db, secrets: Secrets, key: string): Promise<App | undefined> {
  const row = await db.selectFrom('apps').selectAll().where('key', '=', key).executeTakeFirst();
  return row && toApp(row, secrets);
}

/** The unique field (clientKey, oauthClientId or bot accountId) another app already holds, if any. */
export async function takenAppField(
  db: Db,
  app: App,
): Promise<'clientKey' | 'oauthClientId' | 'accountId' | undefined> {
  const row = await db
    .selectFrom('apps')
    .select(['client_key', 'oauth_client_id', 'account_id'])
    .where('key', '!=', app.key)
    .where((eb) =>
      eb.or([
        eb('client_key', '=', app.clientKey),
        eb('account_id', '=', app.accountId),
        ...(app.oauthClientId ? [eb('oauth_client_id', '=', app.oauthClientId)] : []),
      ]),
    )
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.client_key === app.clientKey) return 'clientKey';
  return row.account_id === app.accountId ? 'accountId' : 'oauthClientId';
}
