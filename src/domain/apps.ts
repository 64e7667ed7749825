/** Connect / OAuth apps (docs/behaviour.md §2). */
import { v5 as uuidv5 } from 'uuid';
import {
  findSealedAppByIssuer,
  findSealedAppByKey,
  findSealedAppByOAuthClientId,
  type SealedApp,
} from '../store/apps.ts';
import type { Db } from '../store/database.ts';
import type { Secrets } from './secrets.ts';
import type { User } from './users.ts';

export interface App {
  key: string;
  name: string;
  clientKey: string;
  /** Plain text, in memory only; stored encrypted (domain/secrets.ts). */
  sharedSecret: string;
  oauthClientId: string | null;
  scopes: string[];
  emailAccess: boolean;
  /** The app's bot user. */
  accountId: string;
}

export const MIN_SHARED_SECRET_LENGTH = 32;

// A fixed namespace makes a bot's accountId the same on every instance.
const BOT_NAMESPACE = '3b9e6e0c-5d0b-4d36-9c55-6b0c2f0b7a11';

export function botAccountId(appKey: string): string {
  return `557058:${uuidv5(appKey, BOT_NAMESPACE)}`;
}

/** An app's bot user (docs/behaviour.md §2): named after the app, no email, no groups, cannot log in. */
export function botUser(app: { accountId: string; name: string }): User {
  return {
    accountId: app.accountId,
    accountType: 'app',
    email: '',
    displayName: app.name,
    publicName: app.name,
    timeZone: 'UTC',
    emailVisibility: 'private',
    username: null,
    userKey: null,
    externalCollaborator: false,
    active: true,
  };
}

/** An identifier of an app that another app (or user) may already hold (store/apps.ts `takenAppField`). */
export type TakenAppField = 'key' | 'clientKey' | 'oauthClientId' | 'accountId';

/**
 * Why an app's field is refused, to follow its name or path. Keys and
 * clientKeys are one namespace: a Connect JWT's `iss` may name either, so no
 * value may be one app's key and another's clientKey (docs/decisions.md,
 * "Administration API and CLI").
 */
export function whyTaken(field: TakenAppField): string {
  const namespace = "keys and clientKeys share one namespace, as a JWT's iss may name either";
  switch (field) {
    case 'key':
      return `already belongs to another app, as its clientKey: ${namespace}`;
    case 'clientKey':
      return `already belongs to another app, as its key or clientKey: ${namespace}`;
    case 'accountId':
      return 'already belongs to another app or user';
    default:
      return 'already belongs to another app';
  }
}

// ---------------------------------------------------------------- secrets in and out of the store

/** The stored form of an app: the shared secret encrypted (it is read back to verify HS256 JWTs), the client secret digested. */
export function sealApp(secrets: Secrets, app: App, clientSecret: string | null): SealedApp {
  const { sharedSecret, ...rest } = app;
  return {
    ...rest,
    sharedSecretSealed: secrets.encrypt(sharedSecret),
    clientSecretDigest: clientSecret ? secrets.digest(clientSecret) : null,
  };
}

/** The app with its shared secret in plain text, in memory only. */
export function openApp(secrets: Secrets, sealed: SealedApp): App {
  const { sharedSecretSealed, clientSecretDigest: _digest, ...rest } = sealed;
  return { ...rest, sharedSecret: secrets.decrypt(sharedSecretSealed) };
}

/** The app a Connect JWT names in `iss`: its key, or its clientKey (docs/behaviour.md §3). */
export async function findAppByIssuer(
  db: Db,
  siteId: number,
  secrets: Secrets,
  issuer: string,
): Promise<App | undefined> {
  const sealed = await findSealedAppByIssuer(db, siteId, issuer);
  return sealed && openApp(secrets, sealed);
}

export async function findAppByKey(db: Db, siteId: number, secrets: Secrets, key: string): Promise<App | undefined> {
  const sealed = await findSealedAppByKey(db, siteId, key);
  return sealed && openApp(secrets, sealed);
}

/** The app holding an OAuth `client_id` (docs/behaviour.md §2: `oauthClientId`), with its client secret's digest. */
export async function findAppByOAuthClientId(
  db: Db,
  siteId: number,
  secrets: Secrets,
  clientId: string,
): Promise<{ app: App; clientSecretDigest: string | null } | undefined> {
  const sealed = await findSealedAppByOAuthClientId(db, siteId, clientId);
  return sealed && { app: openApp(secrets, sealed), clientSecretDigest: sealed.clientSecretDigest };
}
