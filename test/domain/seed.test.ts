/** The seed loader (docs/behaviour.md §8), through readSeedFile + loadSeed, on both stores. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { botAccountId } from '../../src/domain/apps.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { loadSeed, readSeedFile, SeedError, type SeedSummary } from '../../src/domain/seed.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { groupNamesOf } from '../../src/store/groups.ts';
import { findProperty, replacePropertyValue } from '../../src/store/properties.ts';
import type { Database } from '../../src/store/schema.ts';
import { findDefaultSite } from '../../src/store/site.ts';
import { findUser } from '../../src/store/users.ts';
import { basicAuth, connectJwt } from '../helpers/credentials.ts';
import { DEFAULT_SITE, freshLocation, freshStore, STORE_KINDS, type StoreKind } from '../helpers/stores.ts';

const SECRET_KEY = 'seed-test-secret-key-of-at-least-32-chars';
const secrets = new Secrets(SECRET_KEY);

/** docs/behaviour.md §8's example, verbatim. */
const EXAMPLE = `
site:
  cloudId: 8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b   # optional
  baseUrl: http://127.0.0.1:8080
  anonymousAccess: false
  emailApi: enabled            # or disabled
  xsrfCheck: true
  canUseGroups: [confluence-users, confluence-admins]
  adminGroups: [confluence-admins]
  maxPropertiesPerUser: 100
groups: [confluence-users, confluence-admins, qa]
users:
  - accountId: "712020:mia"    # generated when absent
    email: mia@example.com
    displayName: Mia Krystof
    publicName: Mia
    timeZone: Europe/Berlin
    emailVisibility: anyone     # anyone | admins | private
    username: mia               # legacy, optional
    userKey: ff8080815a7f2e6c   # legacy, optional
    externalCollaborator: false
    groups: [confluence-users]
    apiTokens: [mia-token-1]   # plain text here (tests); stored as digests
labels: [release, onboarding]
spaces:
  - key: ENG
    name: Engineering
    type: global                # or personal, with owner: <accountId>
    view: { groups: [confluence-users], users: [], anonymous: false }
content:
  - id: "1001"
    type: page
    space: ENG
    title: Release plan
    labels: [release]
    restrictions: { users: [], groups: [] }   # empty = space permission only
apps:
  - key: com.example.notes
    name: Notes
    accountId: "557058:notes-bot"   # the bot user; derived from the key when absent
    clientKey: notes-client
    sharedSecret: a-shared-secret-of-at-least-32-characters
    oauthClientId: notes-oauth
    clientSecret: notes-client-secret
    scopes: [READ, WRITE, DELETE, ACT_AS_USER]
    emailAccess: false
watches:
  - { user: "712020:mia", content: "1001" }
  - { user: "712020:mia", space: ENG }
  - { user: "712020:mia", label: release }
properties:
  - { product: confluence, app: com.example.notes, user: "712020:mia", key: theme, value: { dark: true } }
  - { product: confluence, user: "712020:mia", key: layout, value: { wide: true } }   # no app: namespace ""
  - { product: jira, user: "712020:mia", key: onboarding, value: { done: false } }
`;

const MIA = '712020:mia';
const MIA_TOKEN = 'mia-token-1';
const NOTES_SECRET = 'a-shared-secret-of-at-least-32-characters';

const TABLES = [
  'sites',
  'users',
  'groups',
  'group_members',
  'api_tokens',
  'apps',
  'properties',
  'spaces',
  'space_view_groups',
  'space_view_users',
  'content',
  'content_view_users',
  'content_view_groups',
  'labels',
  'content_labels',
  'content_watches',
  'space_watches',
  'label_watches',
] as const;

const seedDir = mkdtempSync(join(tmpdir(), 'userplane-seed-test-'));
let files = 0;

/** Writes the text to a new file and returns its path. */
function seedFile(text: string, extension = 'yaml'): string {
  const path = join(seedDir, `seed-${++files}.${extension}`);
  writeFileSync(path, text);
  return path;
}

async function load(db: Kysely<Database>, text: string, extension = 'yaml'): Promise<SeedSummary> {
  const path = seedFile(text, extension);
  return loadSeed(db, secrets, await readSeedFile(path), path);
}

/** The problems the seed is refused with; fails when it loads. */
async function problemsOf(
  db: Kysely<Database>,
  text: string,
): Promise<{ path: string; problems: string[]; message: string }> {
  const path = seedFile(text);
  try {
    await loadSeed(db, secrets, await readSeedFile(path), path);
  } catch (error) {
    assert.ok(error instanceof SeedError, `expected a SeedError, got ${String(error)}`);
    assert.equal(error.source, path);
    assert.ok(error.message.startsWith(`${path}:\n`), error.message);
    return { path, problems: error.problems, message: error.message };
  }
  assert.fail('expected the seed to be refused');
}

/**
 * Every row of every table, in a stable order. App shared secrets are
 * re-encrypted with a fresh IV on every upsert, so they are compared
 * decrypted.
 */
async function dump(db: Kysely<Database>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    const rows = (await db.selectFrom(table).selectAll().execute()) as Array<Record<string, unknown>>;
    out[table] = rows
      .map((row) => (table === 'apps' ? { ...row, shared_secret: secrets.decrypt(row.shared_secret as string) } : row))
      .map((row) => JSON.stringify(row))
      .sort();
  }
  return out;
}

async function counts(db: Kysely<Database>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

/** A request through the real app, built on this store. */
async function request(
  db: Kysely<Database>,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const app = await buildApp({ db, secrets, logLevel: 'silent' });
  try {
    return await app.inject({
      method: method as 'GET',
      url,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
  } finally {
    await app.close();
  }
}

/** A JSON object nested `depth` levels deep. */
const nested = (depth: number): string => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

const propertyUrl = (user: string, key?: string) =>
  `/wiki/rest/api/user/${user}/property${key === undefined ? '' : `/${key}`}`;

for (const kind of STORE_KINDS) {
  describe(`seed loading on ${kind}`, () => {
    const stores: Store[] = [];
    const fresh = async (k: StoreKind = kind) => {
      const store = await freshStore(k);
      stores.push(store);
      return store.db;
    };
    after(async () => {
      for (const store of stores) await store.close();
    });

    test('the docs/behaviour.md §8 example: site settings, groups, users, memberships and tokens', async () => {
      const db = await fresh();
      const summary = await load(db, EXAMPLE);
      assert.deepEqual(summary, {
        users: 1,
        groups: 3,
        apps: 1,
        propertiesAdded: 3,
        spaces: 1,
        content: 1,
        labels: 2,
        watchesAdded: 3,
      });

      const site = await findDefaultSite(db);
      assert.ok(site);
      assert.equal(site.cloudId, '8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b');
      assert.equal(site.baseUrl, 'http://127.0.0.1:8080');
      assert.deepEqual(site.settings, {
        anonymousAccess: false,
        emailApi: 'enabled',
        xsrfCheck: true,
        canUseGroups: ['confluence-users', 'confluence-admins'],
        adminGroups: ['confluence-admins'],
        maxPropertyKeyLength: 255,
        maxPropertyValueBytes: 32768,
        maxPropertiesPerUser: 100,
        oauthTokenLifetimeSeconds: 3600,
        failedCredentialsPerIdentity: 10,
        failedCredentialsPerAddress: 100,
        journalSize: 1000,
        rateLimits: 'off',
      });

      const groups = await db.selectFrom('groups').select(['id', 'name']).orderBy('name').execute();
      assert.deepEqual(
        groups.map((g) => g.name),
        ['confluence-admins', 'confluence-users', 'qa'],
      );
      for (const group of groups)
        assert.match(group.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

      assert.deepEqual(await findUser(db, DEFAULT_SITE, MIA), {
        accountId: MIA,
        accountType: 'atlassian',
        email: 'mia@example.com',
        displayName: 'Mia Krystof',
        publicName: 'Mia',
        timeZone: 'Europe/Berlin',
        emailVisibility: 'anyone',
        username: 'mia',
        userKey: 'ff8080815a7f2e6c',
        externalCollaborator: false,
        active: true,
      });
      assert.deepEqual(await groupNamesOf(db, DEFAULT_SITE, MIA), ['confluence-users']);

      // The token works …
      const ok = await request(db, 'GET', propertyUrl(MIA), basicAuth('mia@example.com', MIA_TOKEN));
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json().results, [{ key: 'layout' }], 'mia sees namespace "" only');
      const wrong = await request(db, 'GET', propertyUrl(MIA), basicAuth('mia@example.com', 'mia-token-2'));
      assert.equal(wrong.statusCode, 401);

      // … and is stored only as its digest.
      const tokens = await db.selectFrom('api_tokens').selectAll().execute();
      assert.equal(tokens.length, 1);
      assert.equal(tokens[0]!.account_id, MIA);
      assert.equal(tokens[0]!.digest, secrets.digest(MIA_TOKEN));
      assert.ok(!JSON.stringify(tokens).includes(MIA_TOKEN), 'the plain token is stored nowhere in api_tokens');
    });

    test('the docs/behaviour.md §8 example: apps with bot users and encrypted secrets', async () => {
      const db = await fresh();
      await load(db, EXAMPLE);

      const app = await db.selectFrom('apps').selectAll().executeTakeFirstOrThrow();
      assert.equal(app.key, 'com.example.notes');
      assert.equal(app.name, 'Notes');
      assert.equal(app.client_key, 'notes-client');
      assert.equal(app.oauth_client_id, 'notes-oauth');
      assert.deepEqual(JSON.parse(app.scopes), ['READ', 'WRITE', 'DELETE', 'ACT_AS_USER']);
      assert.equal(app.email_access, 0);
      assert.equal(app.account_id, '557058:notes-bot');
      assert.equal(secrets.decrypt(app.shared_secret), NOTES_SECRET);
      assert.equal(app.client_secret_digest, secrets.digest('notes-client-secret'));

      const everything = JSON.stringify(await db.selectFrom('apps').selectAll().execute());
      assert.ok(!everything.includes(NOTES_SECRET), 'the shared secret is stored encrypted');
      assert.ok(!everything.includes('notes-client-secret'), 'the client secret is stored as a digest');

      assert.deepEqual(await findUser(db, DEFAULT_SITE, '557058:notes-bot'), {
        accountId: '557058:notes-bot',
        accountType: 'app',
        email: '',
        displayName: 'Notes',
        publicName: 'Notes',
        timeZone: 'UTC',
        emailVisibility: 'private',
        username: null,
        userKey: null,
        externalCollaborator: false,
        active: true,
      });
      assert.deepEqual(await groupNamesOf(db, DEFAULT_SITE, '557058:notes-bot'), [], 'a bot is in no group');
      const botTokens = await db
        .selectFrom('api_tokens')
        .select('id')
        .where('account_id', '=', '557058:notes-bot')
        .execute();
      assert.deepEqual(botTokens, [], 'a bot has no API token');

      // The seeded shared secret verifies the app's Connect JWTs.
      const url = propertyUrl(MIA, 'theme');
      const read = await request(
        db,
        'GET',
        url,
        connectJwt({ key: 'com.example.notes', sharedSecret: NOTES_SECRET }, 'GET', url),
      );
      assert.equal(read.statusCode, 200);
      assert.deepEqual(read.json().value, { dark: true });
    });

    test('the docs/behaviour.md §8 example: properties by product and namespace', async () => {
      const db = await fresh();
      await load(db, EXAMPLE);

      const at = (product: 'confluence' | 'jira', namespace: string, key: string) =>
        findProperty(db, { siteId: DEFAULT_SITE, product, namespace, accountId: MIA, key });
      const theme = await at('confluence', 'com.example.notes', 'theme');
      assert.ok(theme);
      assert.equal(theme.valueJson, '{"dark":true}');
      assert.equal(theme.version, 1);
      assert.equal((await at('confluence', '', 'layout'))?.valueJson, '{"wide":true}');
      assert.equal((await at('jira', '', 'onboarding'))?.valueJson, '{"done":false}');
      assert.equal(await at('confluence', '', 'theme'), undefined, 'an app namespace is not namespace ""');
      assert.equal(await at('confluence', 'com.example.notes', 'layout'), undefined);
      assert.equal(await at('confluence', '', 'onboarding'), undefined, 'Jira and Confluence are separate stores');

      const rows = await db.selectFrom('properties').select(['product', 'namespace', 'key']).orderBy('key').execute();
      assert.deepEqual(rows, [
        { product: 'confluence', namespace: '', key: 'layout' },
        { product: 'jira', namespace: '', key: 'onboarding' },
        { product: 'confluence', namespace: 'com.example.notes', key: 'theme' },
      ]);
    });

    test('JSON seed files load too, and an empty file is an empty seed', async () => {
      const db = await fresh();
      const json = JSON.stringify({
        groups: ['qa'],
        users: [{ accountId: '712020:json', email: 'json@example.com', displayName: 'J' }],
      });
      assert.deepEqual(await load(db, json, 'json'), {
        users: 1,
        groups: 3,
        apps: 0,
        propertiesAdded: 0,
        spaces: 0,
        content: 0,
        labels: 0,
        watchesAdded: 0,
      });
      assert.equal((await findUser(db, DEFAULT_SITE, '712020:json'))?.email, 'json@example.com');
      assert.deepEqual(await load(db, ''), {
        users: 0,
        groups: 2,
        apps: 0,
        propertiesAdded: 0,
        spaces: 0,
        content: 0,
        labels: 0,
        watchesAdded: 0,
      });
    });

    test('users without an accountId get 712020: + a UUIDv4, and keep it on the next load', async () => {
      const db = await fresh();
      const text = 'users:\n  - { email: Nora@Example.com, displayName: Nora }\n';
      await load(db, text);
      const [first] = await db
        .selectFrom('users')
        .select('account_id')
        .where('email', '=', 'Nora@Example.com')
        .execute();
      assert.ok(first);
      assert.match(first.account_id, /^712020:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // Matched by email, case-insensitively.
      await load(db, 'users:\n  - { email: nora@example.com, displayName: Nora B }\n');
      const users = await db.selectFrom('users').select(['account_id', 'email', 'display_name']).execute();
      assert.deepEqual(users, [{ account_id: first.account_id, email: 'nora@example.com', display_name: 'Nora B' }]);
    });

    test('a bot without a seeded accountId is 557058: + UUIDv5(key), the same on every instance', async () => {
      const text = `
apps:
  - { key: com.example.derived, name: Derived, clientKey: derived-client, sharedSecret: derived-shared-secret-of-32-characters }
`;
      const one = await fresh();
      const two = await fresh();
      await load(one, text);
      await load(two, text);
      const bot = async (db: Kysely<Database>) =>
        (
          await db
            .selectFrom('apps')
            .select('account_id')
            .where('key', '=', 'com.example.derived')
            .executeTakeFirstOrThrow()
        ).account_id;
      const accountId = await bot(one);
      assert.match(accountId, /^557058:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(await bot(two), accountId);
      assert.equal(accountId, botAccountId('com.example.derived'));
      assert.notEqual(botAccountId('com.example.other'), accountId);

      const user = await findUser(one, DEFAULT_SITE, accountId);
      assert.equal(user?.accountType, 'app');
      assert.equal(user?.email, '');
      assert.equal(user?.displayName, 'Derived');
    });

    test('loading the same file twice changes nothing', async () => {
      const db = await fresh();
      const text = `${EXAMPLE}
  - { product: confluence, user: "712020:mia", key: extra, value: { a: [1, 2, { b: null }] } }
`
        .replace(
          'labels: [release, onboarding]',
          `  - { email: no-id@example.com, displayName: No Id, groups: [qa, confluence-users], apiTokens: [no-id-token-1, no-id-token-2] }
labels: [release, onboarding]`,
        )
        .replace(
          'watches:',
          `  - { key: com.example.derived, name: Derived, clientKey: derived-client, sharedSecret: derived-shared-secret-of-32-characters }
watches:`,
        );
      const first = await load(db, text);
      assert.deepEqual(first, {
        users: 2,
        groups: 3,
        apps: 2,
        propertiesAdded: 4,
        spaces: 1,
        content: 1,
        labels: 2,
        watchesAdded: 3,
      });
      const once = await dump(db);
      assert.equal(once.users!.length, 4, 'mia, no-id and two bots');

      const second = await load(db, text);
      assert.deepEqual(second, { ...first, propertiesAdded: 0, watchesAdded: 0 });
      assert.deepEqual(await dump(db), once);
    });

    test('a restart with --seed never overwrites a property changed after the first load', async () => {
      const location = await freshLocation(kind);
      const path = seedFile(EXAMPLE);
      const firstRun = await openStore(location);
      stores.push(firstRun);
      await loadSeed(firstRun.db, secrets, await readSeedFile(path), path);

      // Live changes: through the API (Confluence) and the store (Jira).
      const changed = await request(
        firstRun.db,
        'PUT',
        propertyUrl(MIA, 'layout'),
        basicAuth('mia@example.com', MIA_TOKEN),
        { value: { wide: false } },
      );
      assert.equal(changed.statusCode, 204);
      const theme = propertyUrl(MIA, 'theme');
      const byApp = await request(
        firstRun.db,
        'PUT',
        theme,
        connectJwt({ key: 'com.example.notes', sharedSecret: NOTES_SECRET }, 'PUT', theme),
        { value: { dark: false } },
      );
      assert.equal(byApp.statusCode, 204);
      await replacePropertyValue(
        firstRun.db,
        { siteId: DEFAULT_SITE, product: 'jira', namespace: '', accountId: MIA, key: 'onboarding' },
        '{"done":true}',
      );
      await firstRun.close();

      // The restart: a new store on the same database, the same file.
      const secondRun = await openStore(location);
      stores.push(secondRun);
      const summary = await loadSeed(secondRun.db, secrets, await readSeedFile(path), path);
      assert.equal(summary.propertiesAdded, 0);
      const at = (product: 'confluence' | 'jira', namespace: string, key: string) =>
        findProperty(secondRun.db, { siteId: DEFAULT_SITE, product, namespace, accountId: MIA, key });
      assert.deepEqual(
        [
          await at('confluence', '', 'layout'),
          await at('confluence', 'com.example.notes', 'theme'),
          await at('jira', '', 'onboarding'),
        ].map((p) => [p?.valueJson, p?.version]),
        [
          ['{"wide":false}', 2],
          ['{"dark":false}', 2],
          ['{"done":true}', 2],
        ],
      );
    });

    test('unlisted rows are never deleted; memberships and tokens are add-only', async () => {
      const db = await fresh();
      await load(db, EXAMPLE);
      const earlier = await dump(db);

      // A second file that lists mia differently and omits everything else.
      const summary = await load(
        db,
        `
groups: [support]
users:
  - accountId: "712020:mia"
    email: mia@example.com
    displayName: Mia Krystof
    publicName: Mia
    timeZone: Europe/Berlin
    emailVisibility: anyone
    username: mia
    userKey: ff8080815a7f2e6c
    groups: [support]
    apiTokens: [mia-token-2]
  - { accountId: "712020:noah", email: noah@example.com, displayName: Noah, groups: [confluence-users] }
`,
      );
      assert.deepEqual(summary, {
        users: 2,
        groups: 3,
        apps: 0,
        propertiesAdded: 0,
        spaces: 0,
        content: 0,
        labels: 0,
        watchesAdded: 0,
      });

      const later = await dump(db);
      for (const table of TABLES) {
        for (const row of earlier[table]!) {
          // The site row too: the second file has no site section.
          assert.ok(later[table]!.includes(row), `${table} lost ${row}`);
        }
      }
      assert.deepEqual(await groupNamesOf(db, DEFAULT_SITE, MIA), ['confluence-users', 'support']);
      for (const token of [MIA_TOKEN, 'mia-token-2']) {
        const response = await request(db, 'GET', propertyUrl(MIA), basicAuth('mia@example.com', token));
        assert.equal(response.statusCode, 200, `${token} still authenticates`);
      }
      assert.ok(await findUser(db, DEFAULT_SITE, '557058:notes-bot'));
      assert.equal((await findDefaultSite(db))?.cloudId, '8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b');
    });

    test('a group from an earlier load may be referenced by a later file', async () => {
      const db = await fresh();
      await load(db, 'groups: [support]\n');
      await load(
        db,
        'users:\n  - { accountId: "712020:zoe", email: zoe@example.com, displayName: Zoe, groups: [support] }\n',
      );
      assert.deepEqual(await groupNamesOf(db, DEFAULT_SITE, '712020:zoe'), ['support']);
    });

    test('fields a file leaves out keep their stored values: a restart does not reactivate a user', async () => {
      const db = await fresh();
      const file =
        'users:\n  - { accountId: "712020:ivy", email: ivy@example.com, displayName: Ivy, timeZone: Europe/Paris }\n';
      await load(db, file);
      const ivy = (await findUser(db, DEFAULT_SITE, '712020:ivy'))!;
      await db
        .updateTable('users')
        .set({ active: 0, email_visibility: 'anyone' })
        .where('account_id', '=', ivy.accountId)
        .execute();
      await load(db, file);
      const after = (await findUser(db, DEFAULT_SITE, '712020:ivy'))!;
      assert.equal(after.active, false);
      assert.equal(after.emailVisibility, 'anyone');
      assert.equal(after.timeZone, 'Europe/Paris');
      await load(db, file.replace('timeZone: Europe/Paris', 'timeZone: UTC, active: true'));
      assert.equal(
        (await findUser(db, DEFAULT_SITE, '712020:ivy'))!.active,
        true,
        'a file that says active: true reactivates',
      );
    });

    test('properties at every limit load, and the API addresses each of them', async () => {
      const db = await fresh();
      await load(db, EXAMPLE);
      const longKey = 'k'.repeat(255);
      const jiraKey = 'é'.repeat(255);
      const largest = JSON.stringify({ s: 'x'.repeat(32768 - '{"s":""}'.length) });
      await load(
        db,
        `site: { maxPropertiesPerUser: 3 }
properties:
  - { product: confluence, user: "712020:mia", key: ${longKey}, value: ${nested(64)} }
  - { product: confluence, user: "712020:mia", key: largest, value: ${largest} }
  - { product: jira, user: "712020:mia", key: ${jiraKey}, value: ${'['.repeat(64)}${']'.repeat(64)} }
`,
      );
      const mia = basicAuth('mia@example.com', MIA_TOKEN);
      for (const key of [longKey, 'largest']) {
        assert.equal((await request(db, 'GET', propertyUrl(MIA, key), mia)).statusCode, 200, key);
      }
      const jira = await request(
        db,
        'GET',
        `/rest/api/3/user/properties/${encodeURIComponent(jiraKey)}?accountId=${MIA}`,
        mia,
      );
      assert.equal(jira.statusCode, 200);
      // Her own namespace is full (layout and the two above), as the API counts it too.
      const fourth = await request(db, 'POST', propertyUrl(MIA, 'fourth'), mia, { value: {} });
      assert.equal(fourth.statusCode, 400);
      assert.match(fourth.body, /already has the maximum of 3 properties/);
    });

    describe('a bad file names the offending path and changes nothing', () => {
      let db: Kysely<Database>;
      let snapshot: Record<string, unknown[]>;
      let snapshotCounts: Record<string, number>;
      before(async () => {
        db = await fresh();
        await load(db, EXAMPLE);
        snapshot = await dump(db);
        snapshotCounts = await counts(db);
      });

      /** Refused with exactly `expected` among its problems, and the database untouched. */
      const CLIENT_KEY_TAKEN =
        "already belongs to another app, as its key or clientKey: keys and clientKeys share one namespace, as a JWT's iss may name either";

      async function refused(text: string, ...expected: string[]): Promise<string[]> {
        const { problems } = await problemsOf(db, text);
        for (const line of expected)
          assert.ok(problems.includes(line), `missing "${line}" in:\n  ${problems.join('\n  ')}`);
        assert.deepEqual(await counts(db), snapshotCounts);
        assert.deepEqual(await dump(db), snapshot);
        return problems;
      }

      /** Rows this file would add before its problem: a new user, group, app and property. */
      const ADDS = `
groups: [confluence-users, confluence-admins, newgroup]
users:
  - { accountId: "712020:new", email: new@example.com, displayName: New, groups: [newgroup], apiTokens: [new-token-1] }
apps:
  - { key: com.example.new, name: New, clientKey: new-client, sharedSecret: new-shared-secret-of-at-least-32-chars }
`;
      const NEW_PROPERTY = `  - { product: confluence, user: "712020:new", key: fresh, value: {} }\n`;

      test('(the rows the refused files below would add, were they valid)', async () => {
        const other = await fresh();
        await load(other, EXAMPLE);
        const base = await counts(other);
        await load(other, `${ADDS}properties:\n${NEW_PROPERTY}`);
        const grown = await counts(other);
        for (const table of ['users', 'groups', 'group_members', 'api_tokens', 'apps', 'properties']) {
          assert.ok(grown[table]! > base[table]!, `${table} grows`);
        }
      });

      test('schema errors: users[2].email: must be an email address', async () => {
        const problems = await refused(
          `
users:
  - { email: a@example.com, displayName: A }
  - { email: b@example.com, displayName: B }
  - { email: not-an-email, displayName: C }
`,
          'users[2].email: must be an email address',
        );
        assert.equal(problems.length, 1);
      });

      test('schema errors: unknown fields, wrong types, bad enums, short secrets', async () => {
        await refused(
          `
site: { emailApi: sometimes, colour: blue }
users:
  - { email: a@example.com, displayName: A, groups: qa }
  - { accountId: "bad id", email: b@example.com, displayName: B }
apps:
  - { key: k, name: K, clientKey: c, sharedSecret: too-short }
properties:
  - { product: confluence, user: "712020:mia", key: k }
`,
          'site.emailApi: must be one of enabled, disabled',
          'site: has unknown field colour',
          'users[0].groups: must be an array',
          'apps[0].sharedSecret: must not have fewer than 32 characters',
          'properties[0]: is missing value',
        );
      });

      test('a group that is not defined in groups', async () => {
        await refused(
          `${ADDS.replace('groups: [newgroup]', 'groups: [newgroup, ghosts]')}properties:\n${NEW_PROPERTY}`,
          'users[0].groups[1]: group "ghosts" is not defined in groups',
        );
      });

      test('a property for an undefined user or app', async () => {
        await refused(
          `${ADDS}properties:
${NEW_PROPERTY}  - { product: confluence, user: "712020:nobody", key: k, value: {} }
  - { product: confluence, app: com.example.none, user: "712020:mia", key: k, value: {} }
  - { product: jira, app: com.example.new, user: "712020:mia", key: k, value: 1 }
`,
          'properties[1].user: no user with accountId "712020:nobody"',
          'properties[2].app: no app with key "com.example.none"',
          'properties[3].app: Jira properties are not app-isolated; leave app out',
        );
      });

      test('a property value the API would refuse', async () => {
        await refused(
          `${ADDS}properties:
${NEW_PROPERTY}  - { product: confluence, user: "712020:mia", key: k, value: [1, 2] }
  - { product: jira, user: "712020:mia", key: k, value: null }
`,
          'properties[1].value: value must be a JSON object',
          'properties[2].value: The property value must not be null',
        );
      });

      test('a Confluence property value that is not a JSON object', async () => {
        await refused(
          `${ADDS}properties:
${NEW_PROPERTY}  - { product: confluence, user: "712020:mia", key: k1, value: 5 }
  - { product: confluence, user: "712020:mia", key: k2, value: "text" }
  - { product: confluence, user: "712020:mia", key: k3, value: null }
  - { product: jira, user: "712020:mia", key: k4, value: 5 }
`,
          'properties[1].value: value must be a JSON object',
          'properties[2].value: value must be a JSON object',
          'properties[3].value: value is empty',
        );
      });

      test('a property key with characters the API refuses', async () => {
        const problems = await refused(
          `${ADDS}properties:
${NEW_PROPERTY}  - { product: confluence, user: "712020:mia", key: "two words", value: {} }
  - { product: confluence, user: "712020:mia", key: "dotted.key", value: {} }
  - { product: jira, user: "712020:mia", key: "tab\there", value: {} }
  - { product: jira, user: "712020:mia", key: "two words/and more", value: {} }
`,
          `properties[1].key: key "two words" is invalid: use only letters, digits, '-' and '_'`,
          `properties[2].key: key "dotted.key" is invalid: use only letters, digits, '-' and '_'`,
          'properties[3].key: propertyKey must not contain control characters',
        );
        assert.equal(problems.length, 3, 'a Jira key may hold spaces and slashes');
      });

      test('a property key longer than maxPropertyKeyLength', async () => {
        await refused(
          `${ADDS}properties:
${NEW_PROPERTY}  - { product: confluence, user: "712020:mia", key: ${'k'.repeat(256)}, value: {} }
  - { product: jira, user: "712020:mia", key: ${'é'.repeat(256)}, value: {} }
`,
          'properties[1].key: key is too long: at most 255 characters',
          'properties[2].key: propertyKey is too long: at most 255 characters',
        );
        await refused(
          `site: { maxPropertyKeyLength: 4 }
${ADDS}properties:
${NEW_PROPERTY}  - { product: confluence, user: "712020:mia", key: kkkkk, value: {} }
`,
          'properties[1].key: key is too long: at most 4 characters',
        );
      });

      test('a property value over maxPropertyValueBytes of compact JSON', async () => {
        const large = JSON.stringify({ s: 'x'.repeat(32768) });
        await refused(
          `${ADDS}properties:
${NEW_PROPERTY}  - { product: confluence, user: "712020:mia", key: large, value: ${large} }
  - { product: jira, user: "712020:mia", key: large, value: ${large} }
`,
          'properties[1].value: value is too long: at most 32768 bytes of JSON',
          'properties[2].value: The property value is too long: at most 32768 bytes of JSON',
        );
        await refused(
          `site: { maxPropertyValueBytes: 8 }
${ADDS}properties:
  - { product: jira, user: "712020:mia", key: small, value: "seven" }
  - { product: jira, user: "712020:mia", key: larger, value: "eight!!" }
`,
          'properties[1].value: The property value is too long: at most 8 bytes of JSON',
        );
      });

      test('a property value nested deeper than 64 levels', async () => {
        await refused(
          `${ADDS}properties:
${NEW_PROPERTY}  - { product: confluence, user: "712020:mia", key: deep, value: ${nested(65)} }
  - { product: jira, user: "712020:mia", key: deep, value: ${nested(65)} }
  - { product: jira, user: "712020:mia", key: deep-list, value: ${'['.repeat(65)}${']'.repeat(65)} }
`,
          'properties[1].value: value is nested deeper than 64 levels',
          'properties[2].value: The property value is nested deeper than 64 levels',
          'properties[3].value: The property value is nested deeper than 64 levels',
        );
      });

      test('more properties than maxPropertiesPerUser for one user in one namespace', async () => {
        // Mia already holds one property in each of her three namespaces (the example).
        const problems = await refused(
          `site: { maxPropertiesPerUser: 2 }
${ADDS}properties:
${NEW_PROPERTY}  - { product: confluence, user: "712020:mia", key: layout, value: { again: true } }
  - { product: confluence, user: "712020:mia", key: second, value: {} }
  - { product: confluence, user: "712020:mia", key: second, value: {} }
  - { product: confluence, user: "712020:mia", key: third, value: {} }
  - { product: confluence, app: com.example.notes, user: "712020:mia", key: second, value: {} }
  - { product: jira, user: "712020:mia", key: second, value: 2 }
  - { product: jira, user: "712020:mia", key: third, value: 3 }
`,
          'properties[4]: User 712020:mia already has the maximum of 2 properties (maxPropertiesPerUser)',
          'properties[7]: User 712020:mia already has the maximum of 2 Jira properties (maxPropertiesPerUser)',
        );
        assert.equal(problems.length, 2, 'each namespace has its own allowance; a key already there is no new one');
      });

      test('watches and content that refer to undefined spaces, content, labels or users', async () => {
        await refused(
          `${ADDS}labels: [release]
spaces:
  - { key: ENG, name: Engineering, view: { groups: [nogroup], users: ["712020:nobody"] } }
  - { key: MINE, name: Mine, type: personal }
content:
  - { id: "1001", space: ENG, title: Plan, labels: [Release] }
  - { id: "1002", space: NOPE, title: Lost, restrictions: { users: ["712020:ghost"], groups: [] } }
watches:
  - { user: "712020:mia", content: "9999" }
  - { user: "712020:mia", space: NOPE }
  - { user: "712020:mia", label: unknown }
  - { user: "712020:nobody", label: RELEASE }
  - { user: "712020:mia", space: ENG, content: "1001" }
properties:
${NEW_PROPERTY}`,
          'spaces[0].view.groups[0]: group "nogroup" is not defined in groups',
          'spaces[0].view.users[0]: no user with accountId "712020:nobody"',
          'spaces[1].owner: a personal space needs an owner',
          'content[1].space: space "NOPE" is not defined in spaces',
          'content[1].restrictions.users[0]: no user with accountId "712020:ghost"',
          'watches[0].content: content "9999" is not defined in content',
          'watches[1].space: space "NOPE" is not defined in spaces',
          'watches[2].label: label "unknown" is not defined in labels',
          'watches[3].user: no user with accountId "712020:nobody"',
          'watches[4]: name exactly one of content, space or label',
        );
      });

      test('a duplicate email across two users, in any case', async () => {
        await refused(
          `${ADDS.replace('users:', 'users:\n  - { accountId: "712020:other", email: NEW@example.com, displayName: Other }')}`,
          'users[1].email: already belongs to another user',
        );
        await refused(
          `users:\n  - { accountId: "712020:copycat", email: Mia@Example.com, displayName: Copycat }\n`,
          'users[0].email: already belongs to another user',
        );
      });

      test('a legacy username or userKey another user holds', async () => {
        await refused(
          `users:\n  - { accountId: "712020:u2", email: u2@example.com, displayName: U2, username: mia }\n`,
          'users[0].username: already belongs to another user',
        );
        await refused(
          `users:\n  - { accountId: "712020:u3", email: u3@example.com, displayName: U3, userKey: ff8080815a7f2e6c }\n`,
          'users[0].userKey: already belongs to another user',
        );
      });

      test('a user listed twice in one file', async () => {
        await refused(
          `${ADDS.replace('users:', 'users:\n  - { accountId: "712020:twice", email: twice@example.com, displayName: Twice }\n  - { accountId: "712020:twice", email: again@example.com, displayName: Again }')}`,
          'users[1].accountId: this user is already listed above',
        );
        await refused(
          `users:\n  - { accountId: "712020:twice", email: twice@example.com, displayName: Twice }\n  - { email: TWICE@example.com, displayName: Again }\n`,
          'users[1].email: this user is already listed above',
        );
      });

      test('a person and an app bot never share an accountId', async () => {
        await refused(
          `apps:\n  - { key: com.example.thief, name: Thief, accountId: "712020:mia", clientKey: thief, sharedSecret: thief-shared-secret-of-at-least-32-chars }\n`,
          'apps[0].accountId: already belongs to another app or user',
        );
        await refused(
          `users:\n  - { accountId: "557058:notes-bot", email: bot@example.com, displayName: Not a bot }\n`,
          "users[0].accountId: already belongs to an app's bot user",
        );
        await refused(
          `${ADDS.replace('apps:', 'apps:\n  - { key: com.example.x, name: X, accountId: "712020:new", clientKey: x, sharedSecret: x-shared-secret-of-at-least-32-characters }')}`,
          'apps[0].accountId: already belongs to another app or user',
        );
      });

      test('an app whose clientKey another app holds', async () => {
        await refused(
          `apps:\n  - { key: com.example.copy, name: Copy, clientKey: notes-client, sharedSecret: copy-shared-secret-of-at-least-32-chars }\n`,
          `apps[0].clientKey: ${CLIENT_KEY_TAKEN}`,
        );
      });

      test("an app's clientKey and another app's key are one namespace", async () => {
        await refused(
          `apps:\n  - { key: com.example.copy, name: Copy, clientKey: com.example.notes, sharedSecret: copy-shared-secret-of-at-least-32-chars }\n`,
          `apps[0].clientKey: ${CLIENT_KEY_TAKEN}`,
        );
        await refused(
          `apps:\n  - { key: notes-client, name: Copy, clientKey: copy-client, sharedSecret: copy-shared-secret-of-at-least-32-chars }\n`,
          "apps[0].key: already belongs to another app, as its clientKey: keys and clientKeys share one namespace, as a JWT's iss may name either",
        );
        await refused(
          `apps:
  - { key: com.example.one, name: One, clientKey: one-client, sharedSecret: one-shared-secret-of-at-least-32-chars }
  - { key: com.example.two, name: Two, clientKey: com.example.one, sharedSecret: two-shared-secret-of-at-least-32-chars }
`,
          `apps[1].clientKey: ${CLIENT_KEY_TAKEN}`,
        );
      });

      test('an app listed twice in one file', async () => {
        await refused(
          `apps:
  - { key: com.example.twice, name: One, clientKey: twice-1, sharedSecret: twice-shared-secret-of-at-least-32-chars }
  - { key: com.example.twice, name: Two, clientKey: twice-2, sharedSecret: twice-shared-secret-of-at-least-32-chars }
`,
          'apps[1].key: app "com.example.twice" is already listed above',
        );
      });

      test('invalid YAML', async () => {
        const { problems } = await problemsOf(db, 'users:\n  - { email: a@example.com, displayName: [unclosed\n');
        assert.equal(problems.length, 1);
        assert.match(problems[0]!, /^not valid YAML or JSON: /);
        assert.deepEqual(await counts(db), snapshotCounts);
      });

      test('a file that cannot be read', async () => {
        const missing = join(seedDir, 'missing.yaml');
        await assert.rejects(readSeedFile(missing), (error: unknown) => {
          assert.ok(error instanceof SeedError);
          assert.deepEqual(error.problems, ['cannot read the file: ENOENT']);
          assert.ok(error.message.startsWith(`${missing}:`));
          return true;
        });
      });
    });
  });
}
