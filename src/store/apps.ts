/**
 * Connect / OAuth apps (docs/behaviour.md §2). The store keeps secrets as it is
 * handed them: the shared secret sealed (encrypted) and the OAuth client
 * secret digested, both by the domain (domain/apps.ts, domain/secrets.ts).
 * Nothing here encrypts, decrypts or digests.
 */
import type { App, AppKind } from '../domain/apps.ts';
import type { Db } from './database.ts';
import { fetchPage, type Page } from './paging.ts';
import type { AppRow } from './schema.ts';

/** An app as stored: its shared secret sealed, its OAuth client secret (if any) digested. */
export interface SealedApp extends Omit<App, 'sharedSecret'> {
  sharedSecretSealed: string;
  clientSecretDigest: string | null;
}

export function toSealedApp(row: AppRow): SealedApp {
  return {
    key: row.key,
    name: row.name,
    clientKey: row.client_key,
    sharedSecretSealed: row.shared_secret,
    oauthClientId: row.oauth_client_id,
    clientSecretDigest: row.client_secret_digest,
    scopes: JSON.parse(row.scopes) as string[],
    emailAccess: row.email_access === 1,
    accountId: row.account_id,
    kind: row.kind,
  };
}

/** Inserts or replaces an app by key. Its bot user must exist already. */
export async function upsertApp(db: Db, siteId: number, app: SealedApp): Promise<void> {
  const values = {
    name: app.name,
    client_key: app.clientKey,
    shared_secret: app.sharedSecretSealed,
    oauth_client_id: app.oauthClientId,
    client_secret_digest: app.clientSecretDigest,
    scopes: JSON.stringify(app.scopes),
    email_access: app.emailAccess ? 1 : 0,
    account_id: app.accountId,
    kind: app.kind,
  };
  await db
    .insertInto('apps')
    .values({ site_id: siteId, key: app.key, ...values, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(['site_id', 'key']).doUpdateSet(values))
    .execute();
}

/** The app a Connect JWT names in `iss`: its key, or its clientKey (docs/behaviour.md §3). */
export async function findSealedAppByIssuer(db: Db, siteId: number, issuer: string): Promise<SealedApp | undefined> {
  const row = await db
    .selectFrom('apps')
    .selectAll()
    .where('site_id', '=', siteId)
    .where((eb) => eb.or([eb('key', '=', issuer), eb('client_key', '=', issuer)]))
    // Keys and clientKeys are one namespace now; should a database from
    // before that hold both, the app whose key it is wins, every time.
    .orderBy((eb) => eb.case().when('key', '=', issuer).then(0).else(1).end())
    .executeTakeFirst();
  return row && toSealedApp(row);
}

/** The app holding an OAuth `client_id` (docs/behaviour.md §2: `oauthClientId`). */
export async function findSealedAppByOAuthClientId(
  db: Db,
  siteId: number,
  clientId: string,
): Promise<SealedApp | undefined> {
  const row = await db
    .selectFrom('apps')
    .selectAll()
    .where('site_id', '=', siteId)
    .where('oauth_client_id', '=', clientId)
    .executeTakeFirst();
  return row && toSealedApp(row);
}

/** The sites where an app holds this OAuth `client_id`: the root token endpoint's choice (docs/behaviour.md §10). */
export async function sitesWithOAuthClientId(db: Db, clientId: string): Promise<number[]> {
  const rows = await db.selectFrom('apps').select('site_id').where('oauth_client_id', '=', clientId).limit(2).execute();
  return rows.map((r) => r.site_id);
}

export async function findSealedAppByKey(db: Db, siteId: number, key: string): Promise<SealedApp | undefined> {
  const row = await db
    .selectFrom('apps')
    .selectAll()
    .where('site_id', '=', siteId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row && toSealedApp(row);
}

export async function appExists(db: Db, siteId: number, key: string): Promise<boolean> {
  return (await findAppRecord(db, siteId, key)) !== undefined;
}

/**
 * What another app already holds of this one's identifiers, if anything:
 * its clientKey, OAuth client_id or bot accountId. Keys and clientKeys are
 * one namespace, since a Connect JWT's `iss` may be either
 * (docs/decisions.md, "Administration API and CLI"): `clientKey` when another app's key or
 * clientKey is this clientKey, `key` when another app's clientKey is this key.
 */
export async function takenAppField(
  db: Db,
  siteId: number,
  app: Pick<App, 'key' | 'clientKey' | 'oauthClientId' | 'accountId'>,
): Promise<'key' | 'clientKey' | 'oauthClientId' | 'accountId' | undefined> {
  const row = await db
    .selectFrom('apps')
    .select(['key', 'client_key', 'oauth_client_id', 'account_id'])
    .where('site_id', '=', siteId)
    .where('key', '!=', app.key)
    .where((eb) =>
      eb.or([
        eb('client_key', '=', app.clientKey),
        eb('key', '=', app.clientKey),
        eb('client_key', '=', app.key),
        eb('account_id', '=', app.accountId),
        ...(app.oauthClientId ? [eb('oauth_client_id', '=', app.oauthClientId)] : []),
      ]),
    )
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.client_key === app.clientKey || row.key === app.clientKey) return 'clientKey';
  if (row.client_key === app.key) return 'key';
  return row.account_id === app.accountId ? 'accountId' : 'oauthClientId';
}

export interface AppRecord {
  key: string;
  name: string;
  clientKey: string;
  oauthClientId: string | null;
  hasClientSecret: boolean;
  scopes: string[];
  emailAccess: boolean;
  accountId: string;
  kind: AppKind;
}

/** The app as the admin API shows it: no secret, not even encrypted. */
function toAppRecord(row: Omit<AppRow, 'site_id' | 'shared_secret' | 'created_at'>): AppRecord {
  return {
    key: row.key,
    name: row.name,
    clientKey: row.client_key,
    oauthClientId: row.oauth_client_id,
    hasClientSecret: row.client_secret_digest !== null,
    scopes: JSON.parse(row.scopes) as string[],
    emailAccess: row.email_access === 1,
    accountId: row.account_id,
    kind: row.kind,
  };
}

const APP_COLUMNS = [
  'key',
  'name',
  'client_key',
  'oauth_client_id',
  'client_secret_digest',
  'scopes',
  'email_access',
  'account_id',
  'kind',
] as const;

export async function findAppRecord(db: Db, siteId: number, key: string): Promise<AppRecord | undefined> {
  const row = await db
    .selectFrom('apps')
    .select(APP_COLUMNS)
    .where('site_id', '=', siteId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row && toAppRecord(row);
}

/** The app whose bot user this is, if any. */
export async function findAppByAccountId(db: Db, siteId: number, accountId: string): Promise<AppRecord | undefined> {
  const row = await db
    .selectFrom('apps')
    .select(APP_COLUMNS)
    .where('site_id', '=', siteId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return row && toAppRecord(row);
}

export async function listApps(db: Db, siteId: number, page: Page): Promise<{ items: AppRecord[]; more: boolean }> {
  const { items, more } = await fetchPage(
    db.selectFrom('apps').select(APP_COLUMNS).where('site_id', '=', siteId).orderBy('key'),
    page,
  );
  return { items: items.map(toAppRecord), more };
}

/** Only the columns given change. Secrets arrive already encrypted or digested. */
export async function updateAppColumns(
  db: Db,
  siteId: number,
  key: string,
  change: Partial<{
    name: string;
    clientKey: string;
    sharedSecretSealed: string;
    oauthClientId: string | null;
    clientSecretDigest: string | null;
    scopes: string[];
    emailAccess: boolean;
  }>,
): Promise<void> {
  const values = {
    ...(change.name !== undefined && { name: change.name }),
    ...(change.clientKey !== undefined && { client_key: change.clientKey }),
    ...(change.sharedSecretSealed !== undefined && { shared_secret: change.sharedSecretSealed }),
    ...(change.oauthClientId !== undefined && { oauth_client_id: change.oauthClientId }),
    ...(change.clientSecretDigest !== undefined && { client_secret_digest: change.clientSecretDigest }),
    ...(change.scopes !== undefined && { scopes: JSON.stringify(change.scopes) }),
    ...(change.emailAccess !== undefined && { email_access: change.emailAccess ? 1 : 0 }),
  };
  if (Object.keys(values).length === 0) return;
  await db.updateTable('apps').set(values).where('site_id', '=', siteId).where('key', '=', key).execute();
}

/**
 * Deletes an app (docs/behaviour.md §2): its Confluence namespace's properties, the app,
 * then its bot user, whose memberships, tokens and properties cascade.
 */
export async function deleteAppAndBot(db: Db, siteId: number, app: { key: string; accountId: string }): Promise<void> {
  await db
    .deleteFrom('properties')
    .where('site_id', '=', siteId)
    .where('product', '=', 'confluence')
    .where('namespace', '=', app.key)
    .execute();
  await db.deleteFrom('apps').where('site_id', '=', siteId).where('key', '=', app.key).execute();
  await db.deleteFrom('users').where('site_id', '=', siteId).where('account_id', '=', app.accountId).execute();
}
