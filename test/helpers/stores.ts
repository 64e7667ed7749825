/**
 * Real stores for tests: a fresh SQLite file and a fresh PostgreSQL database
 * per call, so no test depends on another's data. No mocks.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { User } from '../../src/domain/users.ts';
import { type DatabaseLocation, openStore, type Store } from '../../src/store/database.ts';
import type { PropertyAddress } from '../../src/store/properties.ts';
import { ensureDefaultSite } from '../../src/store/site.ts';

export type StoreKind = 'sqlite' | 'postgres';
/**
 * The stores every store and HTTP test runs on: both, unless
 * `USERPLANE_TEST_STORES` names one (`sqlite` or `postgres`) for a quick
 * inner loop. CI runs both.
 */
export const STORE_KINDS: StoreKind[] = testStores(process.env.USERPLANE_TEST_STORES);

function testStores(value: string | undefined): StoreKind[] {
  if (value === undefined || value === '') return ['sqlite', 'postgres'];
  const kinds = value.split(',').map((kind) => kind.trim());
  for (const kind of kinds) {
    if (kind !== 'sqlite' && kind !== 'postgres') {
      throw new Error(`USERPLANE_TEST_STORES: "${kind}" is not a store; use sqlite, postgres or both, comma-separated`);
    }
  }
  return kinds as StoreKind[];
}

export function postgresServerUrl(): string {
  const url = process.env.USERPLANE_TEST_POSTGRES_URL;
  if (!url) throw new Error('USERPLANE_TEST_POSTGRES_URL is not set: run the tests with `npm test`');
  return url;
}

/** Where a fresh, empty database of this kind lives. */
export async function freshLocation(kind: StoreKind): Promise<DatabaseLocation> {
  if (kind === 'sqlite') {
    return { dialect: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'userplane-test-')), 'userplane.db') };
  }
  const name = `userplane_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresServerUrl() });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresServerUrl());
  url.pathname = `/${name}`;
  return { dialect: 'postgres', url: url.toString() };
}

/**
 * The default site's id on a database this suite made: the first site a
 * database gets, by first start, a seed or `freshStore`, is site 1.
 */
export const DEFAULT_SITE = 1;

/** A migrated, empty database with its default site (docs/behaviour.md §10), as a server's first start leaves it. */
export async function freshStore(kind: StoreKind): Promise<Store> {
  const store = await openStore(await freshLocation(kind));
  await ensureDefaultSite(store.db);
  return store;
}

export function databaseUrl(location: DatabaseLocation): string {
  return location.dialect === 'sqlite' ? `sqlite:${location.path}` : location.url;
}

/** Addresses of one user's Confluence properties (their own namespace) on the default site, by key. */
export function confluencePropertiesOf(accountId: string): (key: string) => PropertyAddress {
  return (key) => ({ siteId: DEFAULT_SITE, product: 'confluence', namespace: '', accountId, key });
}

/** A plain active user, for store tests that need one row to hang properties on. */
export function plainUser(accountId: string, name: string): User {
  return {
    accountId,
    accountType: 'atlassian',
    email: `${name.toLowerCase()}@example.com`,
    displayName: name,
    publicName: name,
    timeZone: 'UTC',
    emailVisibility: 'admins',
    username: null,
    userKey: null,
    externalCollaborator: false,
    active: true,
  };
}
