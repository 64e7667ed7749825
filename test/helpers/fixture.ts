/**
 * A site with known users and apps, loaded through the real seed loader,
 * and the real app built on it. Credentials are made the way clients make
 * them: Basic from email:token, Connect JWTs with the atlassian-jwt package.
 */
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadSeed, checkSeed } from '../../src/domain/seed.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import type { Store } from '../../src/store/database.ts';
import { readSite } from '../../src/store/site.ts';
import type { SeedFile } from '../../src/schemas/seed.ts';
import { freshStore, type StoreKind } from './stores.ts';

export const BASE_URL = 'http://userplane.test';
export const SECRET_KEY = 'test-secret-key-of-at-least-32-characters';

export const USERS = {
  admin: { accountId: '712020:admin', email: 'admin@example.com', token: 'admin-token-0001', groups: ['confluence-admins'] },
  mia: { accountId: '712020:mia', email: 'mia@example.com', token: 'mia-token-00001', groups: ['confluence-users'] },
  noah: { accountId: '712020:noah', email: 'noah@example.com', token: 'noah-token-0001', groups: ['confluence-users'] },
  /** Outside every can-use group. */
  outsider: { accountId: '712020:outsider', email: 'outsider@example.com', token: 'outsider-token1', groups: ['qa'] },
  /** Deactivated: can no longer authenticate. */
  gone: { accountId: '712020:gone', email: 'gone@example.com', token: 'gone-token-0001', groups: ['confluence-users'], active: false },
} as const;

export const APPS = {
  notes: {
    key: 'com.example.notes',
    name: 'Notes',
    clientKey: 'notes-client',
    sharedSecret: 'notes-shared-secret-of-at-least-32-chars',
    accountId: '557058:notes-bot',
    scopes: ['READ', 'WRITE', 'DELETE', 'ACT_AS_USER'],
  },
  tasks: {
    key: 'com.example.tasks',
    name: 'Tasks',
    clientKey: 'tasks-client',
    sharedSecret: 'tasks-shared-secret-of-at-least-32-chars',
    accountId: '557058:tasks-bot',
    scopes: ['WRITE'],
  },
  /** Holds only READ: writes must fail its scope check. */
  reader: {
    key: 'com.example.reader',
    name: 'Reader',
    clientKey: 'reader-client',
    sharedSecret: 'reader-shared-secret-of-at-least-32-chars',
    accountId: '557058:reader-bot',
    scopes: ['READ'],
  },
} as const;

export type UserName = keyof typeof USERS;
export type AppName = keyof typeof APPS;

export function fixtureSeed(site: SeedFile['site'] = {}): SeedFile {
  return checkSeed({
    site: { baseUrl: BASE_URL, ...site },
    groups: ['confluence-users', 'confluence-admins', 'qa'],
    users: Object.values(USERS).map((u) => ({
      accountId: u.accountId,
      email: u.email,
      displayName: u.email.split('@')[0],
      groups: [...u.groups],
      apiTokens: [u.token],
      ...('active' in u ? { active: u.active } : {}),
    })),
    apps: Object.values(APPS).map((a) => ({ ...a, scopes: [...a.scopes] })),
  });
}

export interface Fixture {
  app: FastifyInstance;
  store: Store;
  secrets: Secrets;
  close(): Promise<void>;
}

export async function startFixture(kind: StoreKind, site: SeedFile['site'] = {}): Promise<Fixture> {
  const store = await freshStore(kind);
  const secrets = new Secrets(SECRET_KEY);
  await loadSeed(store.db, secrets, fixtureSeed(site));
  const app = await buildApp({ db: store.db, secrets, logLevel: 'silent' });
  return {
    app,
    store,
    secrets,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

export function basic(user: UserName): Record<string, string> {
  const u = USERS[user];
  return { authorization: `Basic ${Buffer.from(`${u.email}:${u.token}`).toString('base64')}` };
}

/** A Connect JWT for this exact request, as atlassian-connect-express builds one. */
export function connectJwt(
  app: AppName,
  method: string,
  url: string,
  claims: Record<string, unknown> = {},
  secret: string = APPS[app].sharedSecret,
): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: APPS[app].key,
    iat: now,
    exp: now + 180,
    qsh: createQueryStringHash(fromMethodAndUrl(method, url)),
    ...claims,
  };
  return encodeSymmetric(payload, secret);
}

export function jwtHeader(app: AppName, method: string, url: string, claims: Record<string, unknown> = {}): Record<string, string> {
  return { authorization: `JWT ${connectJwt(app, method, url, claims)}` };
}

/**
 * The user directory's extra fixture (issue 3), loaded on top of the base
 * one with `loadDirectoryFixture`: users with every email visibility and
 * legacy identifiers, and apps with and without email approval.
 */
export const DIRECTORY_USERS = {
  /** Email visible to anyone; legacy username and key; groups in code-point order tests. */
  ada: {
    accountId: '712020:ada',
    email: 'ada@example.com',
    token: 'ada-token-00001',
    displayName: 'Ada Lovelace',
    publicName: 'Ada L',
    timeZone: 'Europe/London',
    emailVisibility: 'anyone',
    username: 'ada',
    userKey: 'ff8080815a7f2e6c',
    groups: ['confluence-users', 'qa', 'Zeta', 'alpha', 'Ärger', 'beta'],
  },
  /** Email visible to nobody but herself; an external collaborator. */
  grace: {
    accountId: '712020:grace',
    email: 'grace@example.com',
    token: 'grace-token-001',
    displayName: 'Grace Hopper',
    publicName: 'Grace',
    timeZone: 'America/New_York',
    emailVisibility: 'private',
    username: 'grace',
    userKey: 'ff80808100000002',
    externalCollaborator: true,
    groups: ['confluence-users'],
  },
} as const;

export const DIRECTORY_APPS = {
  /** Approved for the email API, with its scope. */
  mailer: {
    key: 'com.example.mailer',
    name: 'Mailer',
    clientKey: 'mailer-client',
    sharedSecret: 'mailer-shared-secret-of-at-least-32-chars',
    accountId: '557058:mailer-bot',
    scopes: ['READ', 'ACCESS_EMAIL_ADDRESSES'],
    emailAccess: true,
  },
  /** Holds the email scope but is not approved (emailAccess off). */
  unapproved: {
    key: 'com.example.unapproved',
    name: 'Unapproved',
    clientKey: 'unapproved-client',
    sharedSecret: 'unapproved-shared-secret-of-32-chars-min',
    accountId: '557058:unapproved-bot',
    scopes: ['READ', 'ACCESS_EMAIL_ADDRESSES'],
    emailAccess: false,
  },
  /** Approved for the email API and nothing else: no READ. */
  emailOnly: {
    key: 'com.example.email-only',
    name: 'Email Only',
    clientKey: 'email-only-client',
    sharedSecret: 'email-only-shared-secret-of-32-chars-min',
    accountId: '557058:email-only-bot',
    scopes: ['ACCESS_EMAIL_ADDRESSES'],
    emailAccess: true,
  },
} as const;

export function directorySeed(): SeedFile {
  const users = Object.values(DIRECTORY_USERS);
  return checkSeed({
    groups: [...new Set(users.flatMap((u) => u.groups))],
    users: users.map(({ token, groups, ...u }) => ({ ...u, groups: [...groups], apiTokens: [token] })),
    apps: Object.values(DIRECTORY_APPS).map((a) => ({ ...a, scopes: [...a.scopes] })),
  });
}

/** Adds the directory fixture to a started one. */
export async function loadDirectoryFixture(fx: Fixture): Promise<void> {
  await loadSeed(fx.store.db, fx.secrets, directorySeed());
}

export function basicFor(user: { email: string; token: string }): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user.email}:${user.token}`).toString('base64')}` };
}

/** A Connect JWT header for any app, such as those of DIRECTORY_APPS. */
export function jwtHeaderFor(
  app: { key: string; sharedSecret: string },
  method: string,
  url: string,
  claims: Record<string, unknown> = {},
): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: app.key, iat: now, exp: now + 180, qsh: createQueryStringHash(fromMethodAndUrl(method, url)), ...claims };
  return { authorization: `JWT ${encodeSymmetric(payload, app.sharedSecret)}` };
}

/** The fixture site's cloudId, for the `/ex/{product}/{cloudId}` gateway paths (SPEC §1). */
export async function cloudIdOf(fx: Fixture): Promise<string> {
  const site = await readSite(fx.store.db);
  if (!site) throw new Error('the fixture site has not been created');
  return site.cloudId;
}
