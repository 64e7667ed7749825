/**
 * A live userplane with Forge apps on a site (docs/forge.md), for tests that
 * run `@forge/api` through `forgeRuntime` (src/forge.ts): `startForgeSite`
 * starts a server on a real port (`startUserplane`, src/testing.ts) on the
 * given store, creates the site `acme` from `forgeSeed()`, and hands out the
 * `forgeRuntime` options of its apps, with the site prefix in `baseUrl`
 * (`http://127.0.0.1:{port}/sites/acme`), as a Forge app's test would.
 *
 * The site holds the fixture's users (test/helpers/fixture.ts `USERS`: an
 * admin, mia and noah in confluence-users, an outsider, a deactivated user),
 * two Forge apps (`FORGE_APPS`: `notes` with the scopes its calls need,
 * `reader` with read:confluence-user only) and one Connect app, `notes` of
 * the fixture, for app isolation.
 */
import type { ForgeRuntimeOptions } from '../../src/forge.ts';
import type { SeedFile } from '../../src/schemas/seed.ts';
import { type SiteHandle, startUserplane, type Userplane } from '../../src/testing.ts';
import { APPS, SECRET_KEY, USERS } from './fixture.ts';
import { databaseUrl, freshLocation, type StoreKind } from './stores.ts';

export const FORGE_APPS = {
  /** Every scope the Forge tests' calls need. */
  notes: {
    key: 'ari:cloud:ecosystem::app/5e0f1d2c-7a3b-4c8d-9e1f-2a3b4c5d6e7f',
    kind: 'forge',
    name: 'Forge Notes',
    accountId: '557058:forge-notes-bot',
    sharedSecret: 'forge-notes-shared-secret-of-32-chars-or-more',
    oauthClientId: 'forge-notes-client-id',
    clientSecret: 'forge-notes-client-secret',
    scopes: [
      'read:confluence-user',
      'read:user.property:confluence',
      'write:user.property:confluence',
      'read:jira-user',
      'write:jira-work',
    ],
  },
  /** Reads the directory only: a property call must fail its scope check. */
  reader: {
    key: 'ari:cloud:ecosystem::app/0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
    kind: 'forge',
    name: 'Forge Reader',
    accountId: '557058:forge-reader-bot',
    sharedSecret: 'forge-reader-shared-secret-of-32-chars-or-more',
    oauthClientId: 'forge-reader-client-id',
    clientSecret: 'forge-reader-client-secret',
    scopes: ['read:confluence-user'],
  },
} as const;
export type ForgeAppName = keyof typeof FORGE_APPS;

/** The site's seed: the fixture's users and its Connect app `notes`, and the Forge apps. */
export function forgeSeed(): SeedFile {
  return {
    groups: ['confluence-users', 'confluence-admins', 'qa'],
    users: Object.values(USERS).map((u) => ({
      accountId: u.accountId,
      email: u.email,
      displayName: u.email.split('@')[0]!,
      groups: [...u.groups],
      apiTokens: [u.token],
      ...('active' in u ? { active: u.active } : {}),
    })),
    apps: [
      { ...APPS.notes, scopes: [...APPS.notes.scopes] },
      ...Object.values(FORGE_APPS).map((a) => ({ ...a, scopes: [...a.scopes] })),
    ],
  };
}

export interface ForgeSite {
  userplane: Userplane;
  /** The site `acme`, made from `forgeSeed()`. */
  site: SiteHandle;
  /** The site's base URL, with its prefix: `http://127.0.0.1:{port}/sites/acme`. */
  baseUrl: string;
  /** `forgeRuntime`'s options for a Forge app of the site, with `accountId` as the invoking user (none when absent). */
  options(app?: ForgeAppName, accountId?: string): ForgeRuntimeOptions;
  close(): Promise<void>;
}

/** A live server on `kind`'s store with the site `acme` of `forgeSeed()`; `close()` it when done. */
export async function startForgeSite(kind: StoreKind): Promise<ForgeSite> {
  const userplane = await startUserplane({ database: databaseUrl(await freshLocation(kind)), secretKey: SECRET_KEY });
  try {
    const site = await userplane.createSite({ name: 'acme', seed: forgeSeed() as Record<string, unknown> });
    return {
      userplane,
      site,
      baseUrl: site.baseUrl,
      options(app = 'notes', accountId) {
        const a = FORGE_APPS[app];
        return {
          baseUrl: site.baseUrl,
          appId: a.key,
          clientId: a.oauthClientId,
          clientSecret: a.clientSecret,
          sharedSecret: a.sharedSecret,
          ...(accountId !== undefined && { accountId }),
        };
      },
      close: () => userplane.close(),
    };
  } catch (error) {
    await userplane.close();
    throw error;
  }
}
