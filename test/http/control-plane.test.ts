/**
 * Reset and snapshots (docs/behaviour.md §11) through the real app on both
 * stores: reset brings back the seed state (the first-start admin's token
 * included) and nothing else; a restore is exact, row for row, dates and
 * versions included, and survives a restart; neither touches another site;
 * concurrent readers see the site wholly before or wholly after; and the
 * refusals (400, 401, 404, 409).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import type { SeedFile } from '../../src/schemas/seed.ts';
import { startServer } from '../../src/server.ts';
import { type DatabaseLocation, openStore, type Store } from '../../src/store/database.ts';
import { ensureDefaultSite } from '../../src/store/site.ts';
import { SNAPSHOT_TABLES, snapshotTableOf } from '../../src/store/snapshots.ts';
import { basicAuth, bearer, type Headers } from '../helpers/credentials.ts';
import { APPS, BASE_URL, basic, OAUTH_APPS, SECRET_KEY, USERS, watchSeed } from '../helpers/fixture.ts';
import { OPERATOR_TOKEN, siteSeed } from '../helpers/sites.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const OPERATOR = bearer(OPERATOR_TOKEN);
const JSON_BODY = { 'content-type': 'application/json' };
const MIA = USERS.mia.accountId;

/**
 * The sites' seed: the fixture's users, apps, spaces, content, labels,
 * watches and properties, with the fixture admin deactivated, so first
 * start makes an admin of its own.
 */
function controlSeed(): SeedFile {
  const base = siteSeed();
  const { labels, spaces, content } = watchSeed();
  return {
    ...base,
    users: base.users?.map((u) => (u.accountId === USERS.admin.accountId ? { ...u, active: false } : u)),
    labels,
    spaces,
    content,
    watches: [
      { user: MIA, content: '1001' },
      { user: MIA, space: 'ENG' },
      { user: MIA, label: 'release' },
    ],
    properties: [
      { product: 'jira', user: MIA, key: 'state', value: { v: 'seed' } },
      { product: 'confluence', app: APPS.notes.key, user: MIA, key: 'theme', value: { dark: true } },
    ],
  };
}

interface CreatedSite {
  name: string;
  admin: { email: string; accountId: string; apiToken: string } | null;
}

/** A running app on a store, with the operator token. */
async function appOn(store: Store): Promise<FastifyInstance> {
  return buildApp({
    db: store.db,
    secrets: new Secrets(SECRET_KEY),
    logLevel: 'silent',
    baseUrl: BASE_URL,
    operatorToken: OPERATOR_TOKEN,
  });
}

async function openAt(location: DatabaseLocation): Promise<Store> {
  const store = await openStore(location);
  await ensureDefaultSite(store.db);
  return store;
}

/** Every row of one site, table by table in a stable order, and its settings: what "exactly as it was" compares. */
async function dumpSite(store: Store, name: string): Promise<Record<string, unknown[]>> {
  const site = await store.db
    .selectFrom('sites')
    .select(['id', 'settings'])
    .where('name', '=', name)
    .executeTakeFirst();
  assert.ok(site, `site ${name} exists`);
  const dump: Record<string, unknown[]> = { settings: [JSON.parse(site.settings)] };
  for (const { name: table, columns } of SNAPSHOT_TABLES) {
    const rows = await store.db
      .selectFrom(table)
      .select(columns as never[])
      .where('site_id', '=', site.id)
      .execute();
    // Numbers as text: PostgreSQL's bigint ids arrive as strings, either way alike in both dumps.
    dump[table] = rows.map((row) => JSON.stringify(row, (_k, v) => (typeof v === 'number' ? String(v) : v))).sort();
  }
  return dump;
}

async function siteIdOf(store: Store, name: string): Promise<number> {
  return (await store.db.selectFrom('sites').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
}

function caller(app: () => FastifyInstance) {
  return (method: string, url: string, headers: Headers = {}, payload?: unknown) =>
    app().inject({
      method: method as 'GET',
      url,
      headers: payload === undefined ? headers : { ...headers, ...JSON_BODY },
      ...(payload !== undefined && { payload: JSON.stringify(payload) }),
    });
}

for (const kind of STORE_KINDS) {
  describe(`reset and snapshots on ${kind}`, () => {
    let store: Store;
    let location: DatabaseLocation;
    let app: FastifyInstance;
    const call = caller(() => app);

    const createSite = async (name: string, seed: SeedFile = controlSeed()): Promise<CreatedSite> => {
      const response = await call('POST', '/admin/api/sites', OPERATOR, { name, seed });
      assert.equal(response.statusCode, 201, response.body);
      return response.json();
    };
    const jiraProperty = (site: string, key: string) =>
      call('GET', `/sites/${site}/rest/api/3/user/properties/${key}?accountId=${MIA}`, basic('mia'));
    const putJiraProperty = async (site: string, key: string, value: unknown) => {
      const response = await call(
        'PUT',
        `/sites/${site}/rest/api/3/user/properties/${key}?accountId=${MIA}`,
        basic('mia'),
        value,
      );
      assert.ok([200, 201].includes(response.statusCode), response.body);
    };
    const clientCredentialsToken = async (site: string): Promise<string> => {
      const response = await app.inject({
        method: 'POST',
        url: `/sites/${site}/oauth2/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: OAUTH_APPS.oauth.oauthClientId,
          client_secret: OAUTH_APPS.oauth.clientSecret,
        }).toString(),
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json().access_token;
    };
    /** Changes of every kind to a site: a user, an API token, a bearer token, a group, properties, a watch, settings. */
    const changeSite = async (site: string, tag: string) => {
      const prefix = `/sites/${site}/admin/api`;
      const user = await call('POST', `${prefix}/users`, OPERATOR, {
        email: `${tag}@example.com`,
        displayName: `User ${tag}`,
        groups: ['confluence-users'],
      });
      assert.equal(user.statusCode, 201, user.body);
      const token = await call('POST', `${prefix}/users/${user.json().accountId}/tokens`, OPERATOR, {});
      assert.equal(token.statusCode, 201, token.body);
      assert.equal((await call('POST', `${prefix}/groups`, OPERATOR, { name: `group-${tag}` })).statusCode, 201);
      await putJiraProperty(site, 'state', { v: tag });
      await putJiraProperty(site, `new-${tag}`, { v: tag });
      const watch = await call('POST', `/sites/${site}/wiki/rest/api/user/watch/content/3001`, {
        ...basic('mia'),
        'x-atlassian-token': 'no-check',
      });
      assert.equal(watch.statusCode, 204, watch.body);
      const patched = await call('PATCH', `${prefix}/site`, OPERATOR, { anonymousAccess: true });
      assert.equal(patched.statusCode, 200, patched.body);
      return {
        basic: basicAuth(`${tag}@example.com`, token.json().token),
        bearer: bearer(await clientCredentialsToken(site)),
      };
    };

    before(async () => {
      location = await freshLocation(kind);
      store = await openAt(location);
      app = await appOn(store);
    });
    after(async () => {
      await app.close();
      await store.close();
    });

    test('reset brings back the seed state, the first-start admin and their token; what came since is gone; other sites are untouched', async () => {
      const site = await createSite('reset-a');
      await createSite('reset-b');
      assert.ok(site.admin, 'the seed has no active admin: first start made one');
      const admin = basicAuth(site.admin.email, site.admin.apiToken);
      const seedState = await dumpSite(store, 'reset-a');

      const since = await changeSite('reset-a', 'since');
      const changedB = await changeSite('reset-b', 'other');
      const otherState = await dumpSite(store, 'reset-b');
      assert.equal((await call('GET', '/sites/reset-a/wiki/rest/api/user/current', since.basic)).statusCode, 200);
      assert.equal((await jiraProperty('reset-a', 'state')).json().value.v, 'since');
      // Read twice: on SQLite the second answer comes from the read memo, which the reset must empty.
      assert.equal((await jiraProperty('reset-a', 'state')).json().value.v, 'since');

      const reset = await call('POST', '/sites/reset-a/admin/api/reset', admin);
      assert.equal(reset.statusCode, 204, reset.body);

      assert.deepEqual(await dumpSite(store, 'reset-a'), seedState);
      assert.equal((await jiraProperty('reset-a', 'state')).json().value.v, 'seed');
      assert.equal((await jiraProperty('reset-a', 'new-since')).statusCode, 404);
      const current = await call('GET', '/sites/reset-a/wiki/rest/api/user/current', admin);
      assert.equal(current.statusCode, 200, current.body);
      assert.equal(current.json().accountId, site.admin.accountId);
      assert.equal((await call('GET', '/sites/reset-a/wiki/rest/api/user/current', since.basic)).statusCode, 401);
      assert.equal(
        (await call('GET', `/sites/reset-a/wiki/rest/api/user/${MIA}/property`, since.bearer)).statusCode,
        401,
      );
      const settings = await call('GET', '/sites/reset-a/admin/api/site', admin);
      assert.equal(settings.json().anonymousAccess, false);

      // The other site keeps its changes and its credentials.
      assert.deepEqual(await dumpSite(store, 'reset-b'), otherState);
      assert.equal((await call('GET', '/sites/reset-b/wiki/rest/api/user/current', changedB.basic)).statusCode, 200);
      assert.equal((await jiraProperty('reset-b', 'state')).json().value.v, 'other');

      // Again: the same state each time.
      await changeSite('reset-a', 'again');
      assert.equal((await call('POST', '/sites/reset-a/admin/api/reset', OPERATOR)).statusCode, 204);
      assert.deepEqual(await dumpSite(store, 'reset-a'), seedState);
    });

    test('a site made without a seed resets to its first start: the default groups and the same admin', async () => {
      const response = await call('POST', '/admin/api/sites', OPERATOR, { name: 'bare' });
      assert.equal(response.statusCode, 201, response.body);
      const { admin } = response.json() as CreatedSite;
      assert.ok(admin);
      const before = await dumpSite(store, 'bare');
      const user = await call('POST', '/sites/bare/admin/api/users', OPERATOR, {
        email: 'later@example.com',
        displayName: 'Later',
      });
      assert.equal(user.statusCode, 201, user.body);
      assert.equal((await call('POST', '/sites/bare/admin/api/groups', OPERATOR, { name: 'later' })).statusCode, 201);
      assert.notDeepEqual(await dumpSite(store, 'bare'), before);
      assert.equal(
        (await call('POST', '/sites/bare/admin/api/reset', basicAuth(admin.email, admin.apiToken))).statusCode,
        204,
      );
      assert.deepEqual(await dumpSite(store, 'bare'), before);
    });

    test('a restore puts the site back exactly, credentials, versions and dates included', async () => {
      await createSite('snap-a');
      await createSite('snap-b');
      const early = await changeSite('snap-a', 'early');
      const before = await call('GET', `/sites/snap-a/rest/api/3/user/properties/state?accountId=${MIA}`, basic('mia'));
      const taken = await call('POST', '/sites/snap-a/admin/api/snapshots', OPERATOR, { name: 'v1.0_early-state' });
      assert.equal(taken.statusCode, 201, taken.body);
      assert.equal(taken.json().name, 'v1.0_early-state');
      assert.ok(!Number.isNaN(Date.parse(taken.json().createdDate)));
      const snapshotState = await dumpSite(store, 'snap-a');
      const otherState = await dumpSite(store, 'snap-b');

      const late = await changeSite('snap-a', 'late');
      const removed = await call('DELETE', `/sites/snap-a/admin/api/users/${USERS.noah.accountId}`, OPERATOR);
      assert.equal(removed.statusCode, 204, removed.body);
      // A changed user who owns a personal space (mia, ~mia), and a renamed app (its bot user changes too).
      const patched = await call('PATCH', `/sites/snap-a/admin/api/users/${MIA}`, OPERATOR, {
        displayName: 'Mia Later',
      });
      assert.equal(patched.statusCode, 200, patched.body);
      const renamed = await call('PATCH', `/sites/snap-a/admin/api/apps/${APPS.notes.key}`, OPERATOR, {
        name: 'Later',
      });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.equal((await call('GET', '/sites/snap-a/wiki/rest/api/user/current', early.basic)).statusCode, 200);
      await jiraProperty('snap-a', 'state');
      assert.equal((await jiraProperty('snap-a', 'state')).json().value.v, 'late');

      const restored = await call('POST', '/sites/snap-a/admin/api/snapshots/v1.0_early-state/restore', OPERATOR);
      assert.equal(restored.statusCode, 204, restored.body);

      assert.deepEqual(await dumpSite(store, 'snap-a'), snapshotState);
      assert.deepEqual(await dumpSite(store, 'snap-b'), otherState);
      const after = await jiraProperty('snap-a', 'state');
      assert.equal(after.body, before.body);
      assert.equal(after.json().value.v, 'early');
      // Tokens and bearer tokens of then work; those made since do not.
      assert.equal((await call('GET', '/sites/snap-a/wiki/rest/api/user/current', early.basic)).statusCode, 200);
      assert.notEqual(
        (await call('GET', `/sites/snap-a/wiki/rest/api/user/${MIA}/property`, early.bearer)).statusCode,
        401,
      );
      assert.equal((await call('GET', '/sites/snap-a/wiki/rest/api/user/current', late.basic)).statusCode, 401);
      assert.equal(
        (await call('GET', `/sites/snap-a/wiki/rest/api/user/${MIA}/property`, late.bearer)).statusCode,
        401,
      );
      assert.equal((await call('GET', '/sites/snap-a/wiki/rest/api/user/current', basic('noah'))).statusCode, 200);

      // A snapshot stays after a restore, and restores again.
      const list = await call('GET', '/sites/snap-a/admin/api/snapshots', OPERATOR);
      assert.equal(list.statusCode, 200, list.body);
      assert.deepEqual(list.json(), { results: [taken.json()], start: 0, limit: 100, size: 1 });
      assert.deepEqual((await call('GET', '/sites/snap-b/admin/api/snapshots', OPERATOR)).json().results, []);
    });

    test('refusals: bad names 400, a taken name 409, unknown snapshots 404, another site cannot restore it', async () => {
      const site = await createSite('refuse-a');
      const other = await createSite('refuse-b');
      assert.ok(site.admin && other.admin);
      const admin = basicAuth(site.admin.email, site.admin.apiToken);
      const otherAdmin = basicAuth(other.admin.email, other.admin.apiToken);
      const snapshots = '/sites/refuse-a/admin/api/snapshots';
      assert.equal((await call('POST', snapshots, admin, { name: 'one' })).statusCode, 201);
      const again = await call('POST', snapshots, admin, { name: 'one' });
      assert.equal(again.statusCode, 409, again.body);
      for (const name of ['', 'has space', 'slash/no', 'x'.repeat(65), 'ümlaut']) {
        const bad = await call('POST', snapshots, admin, { name });
        assert.equal(bad.statusCode, 400, `${name}: ${bad.body}`);
      }
      assert.equal((await call('POST', snapshots, admin, { name: 'x', extra: 1 })).statusCode, 400);
      assert.equal((await call('POST', snapshots, admin, { name: 'x'.repeat(64) })).statusCode, 201);
      assert.equal((await call('POST', `${snapshots}/nothing/restore`, admin)).statusCode, 404);
      assert.equal((await call('DELETE', `${snapshots}/nothing`, admin)).statusCode, 404);

      // The same name on another site is another snapshot; one site's never restores into another.
      assert.equal((await call('POST', '/sites/refuse-b/admin/api/snapshots/one/restore', OPERATOR)).statusCode, 404);
      assert.equal(
        (await call('POST', '/sites/refuse-b/admin/api/snapshots', otherAdmin, { name: 'one' })).statusCode,
        201,
      );
      // A site admin of another site is unknown here; anonymous callers too; a plain user is refused.
      assert.equal((await call('POST', `${snapshots}/one/restore`, otherAdmin)).statusCode, 401);
      assert.equal((await call('POST', '/sites/refuse-a/admin/api/reset', otherAdmin)).statusCode, 401);
      assert.equal((await call('POST', '/sites/refuse-a/admin/api/reset')).statusCode, 401);
      assert.equal((await call('GET', snapshots, basic('mia'))).statusCode, 403);

      assert.equal((await call('DELETE', `${snapshots}/one`, admin)).statusCode, 204);
      assert.equal((await call('POST', `${snapshots}/one/restore`, admin)).statusCode, 404);
      assert.deepEqual(
        (await call('GET', snapshots, admin)).json().results.map((s: { name: string }) => s.name),
        ['x'.repeat(64)],
      );
    });

    test("deleting a site deletes its snapshots and the snapshots' rows", async () => {
      await createSite('doomed');
      assert.equal((await call('POST', '/sites/doomed/admin/api/snapshots', OPERATOR, { name: 's' })).statusCode, 201);
      const siteId = await siteIdOf(store, 'doomed');
      const ids = (await store.db.selectFrom('snapshots').select('id').where('site_id', '=', siteId).execute()).map(
        (row) => row.id,
      );
      assert.equal(ids.length, 2, 'the seed state and "s"');
      assert.equal((await call('DELETE', '/admin/api/sites/doomed', OPERATOR)).statusCode, 204);
      assert.equal(
        (await store.db.selectFrom('snapshots').select('id').where('site_id', '=', siteId).execute()).length,
        0,
      );
      for (const { name } of SNAPSHOT_TABLES) {
        const left = await store.db
          .selectFrom(snapshotTableOf(name) as 'users')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('snapshot_id' as never, 'in', ids as never)
          .executeTakeFirstOrThrow();
        assert.equal(Number(left.n), 0, `${name}: no rows of the deleted snapshots`);
      }
    });

    test('snapshots live in the database: a restore after a restart', async () => {
      await createSite('lasting');
      await putJiraProperty('lasting', 'state', { v: 'kept' });
      assert.equal(
        (await call('POST', '/sites/lasting/admin/api/snapshots', OPERATOR, { name: 'kept' })).statusCode,
        201,
      );
      const kept = await dumpSite(store, 'lasting');
      await putJiraProperty('lasting', 'state', { v: 'lost' });

      await app.close();
      await store.close();
      store = await openAt(location);
      app = await appOn(store);

      assert.equal((await call('POST', '/sites/lasting/admin/api/snapshots/kept/restore', OPERATOR)).statusCode, 204);
      assert.deepEqual(await dumpSite(store, 'lasting'), kept);
      assert.equal((await jiraProperty('lasting', 'state')).json().value.v, 'kept');
    });

    test('concurrent readers see a property before or after a reset or restore, never missing', async () => {
      await createSite('busy');
      await putJiraProperty('busy', 'state', { v: 'snapshot' });
      assert.equal((await call('POST', '/sites/busy/admin/api/snapshots', OPERATOR, { name: 'busy' })).statusCode, 201);
      // The property exists, with one of these values, in every state the site passes through.
      const allowed = new Set(['seed', 'snapshot', 'written']);
      let done = false;
      let reads = 0;
      const problems: string[] = [];
      const reader = async () => {
        while (!done) {
          const response = await jiraProperty('busy', 'state');
          reads++;
          if (response.statusCode !== 200) problems.push(`${response.statusCode} ${response.body}`);
          else if (!allowed.has(response.json().value.v)) problems.push(`value ${response.body}`);
          // A read from the memo answers without a turn of the event loop; the writer's commits need one.
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const writer = async () => {
        try {
          for (let i = 0; i < 15; i++) {
            await putJiraProperty('busy', 'state', { v: 'written' });
            assert.equal((await call('POST', '/sites/busy/admin/api/reset', OPERATOR)).statusCode, 204);
            await putJiraProperty('busy', 'state', { v: 'written' });
            const restored = await call('POST', '/sites/busy/admin/api/snapshots/busy/restore', OPERATOR);
            assert.equal(restored.statusCode, 204, restored.body);
          }
        } finally {
          done = true;
        }
      };
      await Promise.all([writer(), reader(), reader(), reader(), reader()]);
      assert.deepEqual(problems, []);
      assert.ok(reads >= 4, 'the readers read');
      assert.equal((await jiraProperty('busy', 'state')).json().value.v, 'snapshot');
    });
  });

  describe(`the default site's reset on ${kind}`, () => {
    test("resets to the last start's --seed, with the first-start admin's token", async () => {
      const database = databaseUrl(await freshLocation(kind));
      const seedFile = join(tmpdir(), `userplane-reset-${process.pid}-${kind}.json`);
      const { site: _site, ...seed } = controlSeed();
      writeFileSync(seedFile, JSON.stringify(seed));
      const start = () =>
        startServer({
          port: 0,
          host: '127.0.0.1',
          database,
          seed: seedFile,
          secretKey: SECRET_KEY,
          logLevel: 'silent',
          operatorToken: OPERATOR_TOKEN,
        });
      let server = await start();
      try {
        const first = server.firstStart;
        assert.ok(first, 'the seed has no active admin');
        const admin = basicAuth(first.email, first.apiToken);
        const call = caller(() => server.app);
        const property = () => call('GET', `/rest/api/3/user/properties/state?accountId=${MIA}`, basic('mia'));
        const put = (v: string) =>
          call('PUT', `/rest/api/3/user/properties/state?accountId=${MIA}`, basic('mia'), { v });

        assert.equal((await put('changed')).statusCode, 200);
        assert.equal((await call('POST', '/admin/api/reset', admin)).statusCode, 204);
        assert.equal((await property()).json().value.v, 'seed');

        // The next start names another seed: reset makes the site from that one, with the same admin.
        await server.close();
        writeFileSync(
          seedFile,
          JSON.stringify({
            ...seed,
            properties: [{ product: 'jira', user: MIA, key: 'state', value: { v: 'second seed' } }],
          }),
        );
        server = await start();
        assert.equal(server.firstStart, undefined);
        assert.equal((await property()).json().value.v, 'seed', 'a seed never overwrites live data');
        assert.equal((await call('POST', '/admin/api/reset', admin)).statusCode, 204);
        assert.equal((await property()).json().value.v, 'second seed');
        const current = await call('GET', '/wiki/rest/api/user/current', admin);
        assert.equal(current.statusCode, 200, current.body);
        assert.equal(current.json().accountId, first.accountId);
        await put('changed again');
        assert.equal((await call('POST', '/admin/api/reset', OPERATOR)).statusCode, 204);
        assert.equal((await property()).json().value.v, 'second seed');
      } finally {
        await server.close();
      }
    });
  });
}
