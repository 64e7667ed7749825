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

/** docs/behaviour.md §13: a Connect app, or a Forge app keyed by its app id (an ARI). */
export type AppKind = 'connect' | 'forge';

export interface App {
  /** A Connect app's descriptor key, or a Forge app's id: `ari:cloud:ecosystem::app/<uuid>`. */
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
  kind: AppKind;
}

export const MIN_SHARED_SECRET_LENGTH = 32;

/** Atlassian's rule for a Connect descriptor's key. */
const CONNECT_APP_KEY = /^[A-Za-z0-9._-]{1,64}$/;
/** A Forge app's id, as its manifest's `app.id` holds it. */
const FORGE_APP_ID = /^ari:cloud:ecosystem::app\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Connect's scope names, which a Forge app cannot hold: its manifest declares OAuth scope strings. */
const CONNECT_SCOPES = new Set(['READ', 'WRITE', 'DELETE', 'ADMIN', 'ACCESS_EMAIL_ADDRESSES', 'ACT_AS_USER']);

/** Whether a key is in a Forge app id's form, which only a Forge app's key may have. */
export function isForgeAppId(key: string): boolean {
  return key.startsWith('ari:');
}

/** Why a key is not one for an app of this kind, or undefined when it is (docs/behaviour.md §2, §13). */
export function appKeyProblem(kind: AppKind, key: string): string | undefined {
  if (kind === 'forge') {
    return FORGE_APP_ID.test(key)
      ? undefined
      : `key "${key}" is not a Forge app id: use the manifest's app.id, ari:cloud:ecosystem::app/<uuid> in lower case`;
  }
  return CONNECT_APP_KEY.test(key)
    ? undefined
    : `key "${key}" is not a valid app key: use 1 to 64 letters, digits, '.', '_' or '-'`;
}

/** Why a Forge app cannot hold one of these scopes, or undefined (docs/behaviour.md §13: OAuth scope strings only). */
export function forgeScopeProblem(scopes: readonly string[]): string | undefined {
  const i = scopes.findIndex((scope) => CONNECT_SCOPES.has(scope.toUpperCase()));
  if (i < 0) return undefined;
  return `scopes[${i}]: "${scopes[i]}" is a Connect scope; a Forge app holds the OAuth scopes its manifest declares, such as read:confluence-user`;
}

/**
 * The clientKey an app is stored with: the one given, else, for a Forge app
 * (which has no Connect installation), its key; undefined for a Connect app
 * without one, which is refused.
 */
export function clientKeyOf(kind: AppKind, key: string, given: string | undefined): string | undefined {
  return given ?? (kind === 'forge' ? key : undefined);
}

/** The scopes of an app created without any: Connect's READ; none for a Forge app, whose manifest declares its own. */
export function defaultScopes(kind: AppKind): string[] {
  return kind === 'forge' ? [] : ['READ'];
}

/**
 * Whether acting for a user needs the ACT_AS_USER scope: for a Connect app
 * it does (docs/behaviour.md §3); a Forge app acts for its invoking user
 * with no such scope, as Forge manifests have none (§13).
 */
export function needsActAsUser(app: Pick<App, 'kind'>): boolean {
  return app.kind !== 'forge';
}

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
