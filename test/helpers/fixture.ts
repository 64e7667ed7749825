/**
 * A site with known users and apps, loaded through the real seed loader,
 * and the real app built on it. Credentials are made the way clients make
 * them, by test/helpers/credentials.ts.
 */
import { encodeSymmetric } from 'atlassian-jwt';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { knownOAuthScopes } from '../../src/domain/scopes.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { checkSeed, loadSeed } from '../../src/domain/seed.ts';
import type { SeedFile } from '../../src/schemas/seed.ts';
import { MAX_FAILED_CREDENTIALS } from '../../src/schemas/site.ts';
import type { Store } from '../../src/store/database.ts';
import { findDefaultSite } from '../../src/store/site.ts';
import { TestClock } from './clock.ts';
import { basicAuth, type Headers } from './credentials.ts';
import { freshStore, type StoreKind } from './stores.ts';

export const BASE_URL = 'http://userplane.test';
export const SECRET_KEY = 'test-secret-key-of-at-least-32-characters';

export const USERS = {
  admin: {
    accountId: '712020:admin',
    email: 'admin@example.com',
    token: 'admin-token-0001',
    groups: ['confluence-admins'],
  },
  mia: { accountId: '712020:mia', email: 'mia@example.com', token: 'mia-token-00001', groups: ['confluence-users'] },
  noah: { accountId: '712020:noah', email: 'noah@example.com', token: 'noah-token-0001', groups: ['confluence-users'] },
  /** Outside every can-use group. */
  outsider: { accountId: '712020:outsider', email: 'outsider@example.com', token: 'outsider-token1', groups: ['qa'] },
  /** Deactivated: can no longer authenticate. */
  gone: {
    accountId: '712020:gone',
    email: 'gone@example.com',
    token: 'gone-token-0001',
    groups: ['confluence-users'],
    active: false,
  },
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

/**
 * Guessing limits (docs/behaviour.md §3) no test reaches, for the security
 * suites: their many bad credentials come from one address and name the same
 * users and apps, and what they assert is that each one is a 401. The
 * throttle has its own tests (test/http/guessing.test.ts).
 */
export const UNTHROTTLED = {
  failedCredentialsPerIdentity: MAX_FAILED_CREDENTIALS,
  failedCredentialsPerAddress: MAX_FAILED_CREDENTIALS,
} as const;

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
  /** The app's cache clock: `fx.clock.pastCacheLifetime()` instead of waiting a second. */
  clock: TestClock;
  close(): Promise<void>;
}

export async function startFixture(kind: StoreKind, site: SeedFile['site'] = {}): Promise<Fixture> {
  const store = await freshStore(kind);
  const secrets = new Secrets(SECRET_KEY);
  await loadSeed(store.db, secrets, fixtureSeed(site));
  const clock = new TestClock();
  const app = await buildApp({ db: store.db, secrets, logLevel: 'silent', clock });
  return {
    app,
    store,
    secrets,
    clock,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/** A fixture user's Basic header. */
export function basic(user: UserName): Headers {
  return basicAuth(USERS[user].email, USERS[user].token);
}

/**
 * The user directory's extra fixture, loaded on top of the base
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

/** The fixture site's cloudId, for the `/ex/{product}/{cloudId}` gateway paths (docs/behaviour.md §1). */
export async function cloudIdOf(fx: Fixture): Promise<string> {
  const site = await findDefaultSite(fx.store.db);
  if (!site) throw new Error('the fixture site has not been created');
  return site.cloudId;
}

/**
 * OAuth apps, loaded on top of the base fixture with
 * `loadOAuthFixture`: both hold an OAuth client id and secret, for
 * `POST /oauth2/token`. `oauth` holds every scope any operation names (so a
 * token can be narrowed to any set), ACT_AS_USER and email approval;
 * `noImpersonation` holds READ only and cannot act as users.
 */
export const OAUTH_APPS = {
  oauth: {
    key: 'com.example.oauth',
    name: 'OAuth App',
    clientKey: 'oauth-client-key',
    sharedSecret: 'oauth-app-shared-secret-of-at-least-32-chars',
    accountId: '557058:oauth-bot',
    oauthClientId: 'oauth-app-client-id',
    clientSecret: 'oauth-app-client-secret',
    scopes: ['READ', 'WRITE', 'DELETE', 'ACCESS_EMAIL_ADDRESSES', 'ACT_AS_USER', ...knownOAuthScopes()],
    emailAccess: true,
  },
  noImpersonation: {
    key: 'com.example.no-impersonation',
    name: 'No Impersonation',
    clientKey: 'no-impersonation-client-key',
    sharedSecret: 'no-impersonation-shared-secret-of-32-chars',
    accountId: '557058:no-impersonation-bot',
    oauthClientId: 'no-impersonation-client-id',
    clientSecret: 'no-impersonation-client-secret',
    scopes: ['READ'],
    emailAccess: false,
  },
} as const;

export type OAuthAppName = keyof typeof OAUTH_APPS;

export function oauthSeed(): SeedFile {
  return checkSeed({ apps: Object.values(OAUTH_APPS).map((a) => ({ ...a, scopes: [...a.scopes] })) });
}

/** Adds the OAuth apps to a started fixture. */
export async function loadOAuthFixture(fx: Fixture): Promise<void> {
  await loadSeed(fx.store.db, fx.secrets, oauthSeed());
}

/**
 * The Connect user-impersonation assertion exactly as atlassian-oauth2 (the
 * library atlassian-connect-express calls) builds it: HS256 with the shared
 * secret, `iss`/`sub` URNs, `tnt` = the site, `aud` = the authorization
 * server, 60 s of life. `claims` overrides or (with undefined) removes any.
 * `appOrName`: a fixture app, or any app with an OAuth client id.
 */
export function impersonationAssertion(
  appOrName: OAuthAppName | { oauthClientId: string; sharedSecret: string },
  accountId: string,
  claims: Record<string, unknown> = {},
  secret?: string,
): string {
  const app = typeof appOrName === 'string' ? OAUTH_APPS[appOrName] : appOrName;
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: `urn:atlassian:connect:clientid:${app.oauthClientId}`,
    tnt: BASE_URL,
    sub: `urn:atlassian:connect:useraccountid:${accountId}`,
    aud: 'https://oauth-2-authorization-server.services.atlassian.com',
    iat: now,
    exp: now + 60,
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return encodeSymmetric(payload, secret ?? app.sharedSecret);
}

/**
 * A bearer token from the fixture's token endpoint: asApp (client_credentials) or, with `asUser`, for that user.
 * `appOrName`: a fixture app, or any app with OAuth credentials (its client secret for asApp, its shared secret for asUser).
 */
export async function bearerToken(
  fx: Fixture,
  appOrName: OAuthAppName | { oauthClientId: string; clientSecret: string; sharedSecret: string },
  options: { asUser?: string; scope?: string } = {},
): Promise<string> {
  const app = typeof appOrName === 'string' ? OAUTH_APPS[appOrName] : appOrName;
  const params = new URLSearchParams(
    options.asUser === undefined
      ? { grant_type: 'client_credentials', client_id: app.oauthClientId, client_secret: app.clientSecret }
      : {
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: impersonationAssertion(app, options.asUser),
        },
  );
  if (options.scope !== undefined) params.set('scope', options.scope);
  const response = await fx.app.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: params.toString(),
  });
  if (response.statusCode !== 200)
    throw new Error(`POST /oauth2/token answered ${response.statusCode}: ${response.body}`);
  return response.json().access_token;
}

/**
 * Spaces, content and labels for the watch tests, loaded on top of
 * the base fixture with `loadWatchFixture`. Who may view what:
 * - ENG: confluence-users (mia, noah; not admin, who is only in confluence-admins);
 *   its 1002 is restricted to mia, its 1003 to confluence-admins (so nobody
 *   who views ENG may view it), its 1004 to noah and confluence-admins;
 * - SEC: admin alone; PUB: everyone (anonymous); QA: the qa group (outsider);
 * - ~mia: mia's personal space, viewed by her alone.
 */
export const WATCH_SPACES = {
  eng: { key: 'ENG', name: 'Engineering', view: { groups: ['confluence-users'], users: [], anonymous: false } },
  sec: { key: 'SEC', name: 'Security', view: { groups: [], users: [USERS.admin.accountId], anonymous: false } },
  pub: { key: 'PUB', name: 'Public', view: { groups: [], users: [], anonymous: true } },
  qa: { key: 'QA', name: 'Quality', view: { groups: ['qa'], users: [], anonymous: false } },
  mine: { key: '~mia', name: 'Mia Krystof', type: 'personal', owner: USERS.mia.accountId },
} as const;

export const WATCH_CONTENT = {
  plan: { id: '1001', type: 'page', space: 'ENG', title: 'Release plan', labels: ['release', 'Planning'] },
  miaOnly: {
    id: '1002',
    type: 'page',
    space: 'ENG',
    title: 'Mia only',
    restrictions: { users: [USERS.mia.accountId], groups: [] },
  },
  adminsOnly: {
    id: '1003',
    type: 'blogpost',
    space: 'ENG',
    title: 'Admins only',
    restrictions: { users: [], groups: ['confluence-admins'] },
  },
  noahOrAdmins: {
    id: '1004',
    type: 'page',
    space: 'ENG',
    title: 'Noah or admins',
    restrictions: { users: [USERS.noah.accountId], groups: ['confluence-admins'] },
  },
  secret: { id: '2001', type: 'page', space: 'SEC', title: 'Secret' },
  open: { id: '3001', type: 'blogpost', space: 'PUB', title: 'Open news' },
  quality: { id: '4001', type: 'page', space: 'QA', title: 'Test plan' },
  diary: { id: '5001', type: 'page', space: '~mia', title: 'Diary' },
} as const;

export const WATCH_LABELS = ['release', 'onboarding'] as const;

export function watchSeed(): SeedFile {
  return checkSeed({
    labels: [...WATCH_LABELS],
    spaces: Object.values(WATCH_SPACES).map((s) => JSON.parse(JSON.stringify(s))),
    content: Object.values(WATCH_CONTENT).map((c) => JSON.parse(JSON.stringify(c))),
  });
}

/** Adds the watch fixture to a started one. */
export async function loadWatchFixture(fx: Fixture): Promise<void> {
  await loadSeed(fx.store.db, fx.secrets, watchSeed());
}
