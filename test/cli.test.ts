/**
 * The CLI (docs/behaviour.md §7): first start, seeding, exit codes and
 * readable start-up errors. Most commands run in-process with captured
 * output (test/helpers/cli.ts); two smoke tests run the real process: `serve`
 * printing the first-start banner and answering, and a command's exit code
 * and stderr on a bad argument. Servers listen on port 0; every one is
 * stopped in an `after` hook.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { RunningServer } from '../src/server.ts';
import { openStore } from '../src/store/database.ts';
import { groupNamesOf } from '../src/store/groups.ts';
import { findUser } from '../src/store/users.ts';
import { cli, serveInProcess } from './helpers/cli.ts';
import { type CliProcess, cleanEnv, failed, parseBanner, runCli, startCli } from './helpers/process.ts';
import { DEFAULT_SITE, freshLocation, STORE_KINDS } from './helpers/stores.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The log line startServer's caller writes once the server accepts requests. */
const LISTENING = /userplane listening on (http:\/\/[^"\s]+)/;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'userplane-cli-test-'));
}

function writeSeed(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('userplane CLI', () => {
  const running: CliProcess[] = [];
  const serve = (args: string[], env = cleanEnv()) => {
    const child = startCli(['serve', '--port', '0', '--host', '127.0.0.1', ...args], env);
    running.push(child);
    return child;
  };
  const servers: RunningServer[] = [];
  /** `serve` in-process: it answers 0 once listening; the server is closed in `after`. */
  const serveHere = async (args: string[]) => {
    const result = await serveInProcess(args);
    if (result.server) servers.push(result.server);
    assert.equal(result.code, 0, result.stderr);
    return { ...result, server: result.server! };
  };
  after(async () => {
    await Promise.all(running.map((child) => child.stop('SIGKILL')));
    await Promise.all(servers.map((server) => server.close()));
  });

  test('serve: the first start prints the banner once, and its token manages properties', async () => {
    const dir = tempDir();
    const dbPath = join(dir, 'userplane.db');
    const database = `sqlite:${dbPath}`;

    const first = serve(['--database', database]);
    const url = (await first.waitForStdout(LISTENING))[1]!;
    assert.doesNotMatch(url, /:0$/, 'the logged address has the real port');
    const banner = parseBanner(first.stdout);
    assert.ok(banner, `a banner in:\n${first.stdout}`);
    assert.match(first.stdout, /first start/);
    assert.equal(banner.email, 'admin@userplane.local');
    assert.match(banner.accountId, /^712020:/);
    assert.match(banner.apiToken, /^upt_[A-Za-z0-9_-]{43}$/);
    assert.match(banner.cloudId, UUID);
    assert.ok(
      first.stdout.includes(`curl -u '${banner.email}:${banner.apiToken}' ${url}/wiki/rest/api/user/`),
      'a working curl line',
    );

    // Generated once beside the database, readable by its owner only.
    const keyFile = `${dbPath}.secret-key`;
    assert.ok(existsSync(keyFile));
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);

    const auth = { authorization: `Basic ${Buffer.from(`${banner.email}:${banner.apiToken}`).toString('base64')}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const property = `${url}/wiki/rest/api/user/${encodeURIComponent(banner.accountId)}/property`;

    const created = await fetch(`${property}/cli-test`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ value: { step: 1 } }),
    });
    assert.equal(created.status, 201);
    const body = (await created.json()) as { key: string; value: unknown; _links: { self: string; base: string } };
    assert.equal(body.key, 'cli-test');
    assert.deepEqual(body.value, { step: 1 });
    assert.equal(body._links.base, `${url}/wiki`, 'links name the listening address, not port 0');

    const read = await fetch(`${property}/cli-test`, { headers: auth });
    assert.equal(read.status, 200);
    assert.deepEqual(((await read.json()) as { value: unknown }).value, { step: 1 });

    const list = await fetch(property, { headers: auth });
    assert.equal(list.status, 200);
    assert.deepEqual(((await list.json()) as { results: unknown }).results, [{ key: 'cli-test' }]);

    const updated = await fetch(`${property}/cli-test`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ value: { step: 2 } }),
    });
    assert.equal(updated.status, 204);
    assert.equal(updated.headers.get('etag'), '"2"');
    assert.deepEqual(
      ((await (await fetch(`${property}/cli-test`, { headers: auth })).json()) as { value: unknown }).value,
      { step: 2 },
    );

    const deleted = await fetch(`${property}/cli-test`, { method: 'DELETE', headers: auth });
    assert.equal(deleted.status, 204);
    assert.equal((await fetch(`${property}/cli-test`, { headers: auth })).status, 404);
    assert.equal((await fetch(property, { headers: { authorization: 'Basic bm9ib2R5Om5vdGhpbmc=' } })).status, 401);

    // The embedded file belongs to one server: commands on it are refused with a readable message meanwhile.
    const seedFile = writeSeed(dir, 'seed.yaml', 'groups: [qa]\n');
    const inUse =
      /^userplane: the SQLite database .*userplane\.db is in use by another process, such as a running userplane server: stop it first/;
    failed(await cli(['seed', seedFile, '--database', database]), 1, inUse);
    failed(await cli(['users', 'list', '--database', database]), 1, inUse);

    const stopped = await first.stop('SIGTERM');
    assert.equal(stopped.code, 0, `a graceful stop on SIGTERM:\n${stopped.stderr}`);
    const loaded = await cli(['seed', seedFile, '--database', database]);
    assert.equal(loaded.code, 0, loaded.stderr);

    // A second start on the same file: no banner, and the first token still works.
    const second = await serveHere(['--database', database]);
    assert.equal(second.stdout, '', 'no banner');
    const again = await fetch(
      `${second.server.url}/wiki/rest/api/user/${encodeURIComponent(banner.accountId)}/property`,
      {
        headers: auth,
      },
    );
    assert.equal(again.status, 200);
  });

  test('serve: no banner and no new admin on a restart when no active admin is left', async () => {
    const path = join(tempDir(), 'userplane.db');
    const first = await serveHere(['--database', `sqlite:${path}`]);
    const banner = parseBanner(first.stdout);
    assert.ok(banner, `a banner in:\n${first.stdout}`);
    await first.server.close();
    servers.splice(servers.indexOf(first.server), 1);

    // The admin is deactivated behind the API's back, and a seed points adminGroups elsewhere.
    const store = await openStore({ dialect: 'sqlite', path });
    await store.db.updateTable('users').set({ active: 0 }).where('account_id', '=', banner.accountId).execute();
    await store.close();
    const seed = writeSeed(tempDir(), 'seed.yaml', 'site: { adminGroups: [site-admins] }\n');
    const seeded = await cli(['seed', seed, '--database', `sqlite:${path}`]);
    assert.equal(seeded.code, 0, seeded.stderr);

    const second = await serveHere(['--database', `sqlite:${path}`]);
    assert.equal(second.stdout, '', 'no banner');
    await second.server.close();
    servers.splice(servers.indexOf(second.server), 1);
    const reopened = await openStore({ dialect: 'sqlite', path });
    try {
      const users = await reopened.db.selectFrom('users').select('account_id').execute();
      assert.deepEqual(users, [{ account_id: banner.accountId }], 'no admin was created');
    } finally {
      await reopened.close();
    }
  });

  test('a command run as a process: exit 2 and the problem on stderr for a bad argument, nothing on stdout', async () => {
    failed(
      await runCli(['users', 'add', '--bogus']),
      2,
      /^userplane: users add: Unknown option '--bogus'\nRun "userplane users add --help" for its options\.\n$/,
    );
  });

  test('seed FILE loads the file, prints a summary and exits 0; loading again adds nothing', async () => {
    const dir = tempDir();
    const database = `sqlite:${join(dir, 'userplane.db')}`;
    const file = writeSeed(
      dir,
      'seed.yaml',
      `
groups: [confluence-users, confluence-admins, qa]
users:
  - { accountId: "712020:boss", email: boss@example.com, displayName: Boss, groups: [confluence-admins], apiTokens: [boss-token-1] }
  - { accountId: "712020:mia", email: mia@example.com, displayName: Mia, groups: [confluence-users, qa] }
apps:
  - { key: com.example.notes, name: Notes, clientKey: notes-client, sharedSecret: a-shared-secret-of-at-least-32-characters }
properties:
  - { product: confluence, user: "712020:mia", key: layout, value: { wide: true } }
  - { product: jira, user: "712020:mia", key: onboarding, value: { done: false } }
labels: [release]
spaces:
  - { key: ENG, name: Engineering, view: { groups: [confluence-users] } }
content:
  - { id: "1001", space: ENG, title: Plan, labels: [release, Launch] }
watches:
  - { user: "712020:mia", content: "1001" }
  - { user: "712020:mia", label: Release }
`,
    );

    const loaded = await cli(['seed', file, '--database', database]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(
      loaded.stdout,
      `seeded ${file}: 2 users, 3 groups, 1 apps, 2 new properties, 1 spaces, 1 content, 2 labels, 2 new watches\n`,
    );
    assert.equal(loaded.stderr, '');

    const reloaded = await cli(['seed', file, '--database', database]);
    assert.equal(reloaded.code, 0, reloaded.stderr);
    assert.equal(
      reloaded.stdout,
      `seeded ${file}: 2 users, 3 groups, 1 apps, 0 new properties, 1 spaces, 1 content, 2 labels, 0 new watches\n`,
    );

    const store = await openStore({ dialect: 'sqlite', path: join(dir, 'userplane.db') });
    try {
      assert.equal((await findUser(store.db, DEFAULT_SITE, '712020:mia'))?.email, 'mia@example.com');
      assert.deepEqual(await groupNamesOf(store.db, DEFAULT_SITE, '712020:mia'), ['confluence-users', 'qa']);
      const properties = await store.db.selectFrom('properties').select(['product', 'key']).orderBy('key').execute();
      assert.deepEqual(properties, [
        { product: 'confluence', key: 'layout' },
        { product: 'jira', key: 'onboarding' },
      ]);
    } finally {
      await store.close();
    }

    // The seed made an active admin, so serving this database is not a first start.
    const server = await serveHere(['--database', database, '--seed', file]);
    assert.equal(parseBanner(server.stdout), undefined);
    const boss = { authorization: `Basic ${Buffer.from('boss@example.com:boss-token-1').toString('base64')}` };
    const read = await fetch(`${server.server.url}/wiki/rest/api/user/712020:mia/property/layout`, { headers: boss });
    assert.equal(read.status, 200);
    assert.deepEqual(((await read.json()) as { value: unknown }).value, { wide: true });
  });

  test('a bad seed exits 2 with the offending path on stderr, for seed and serve --seed', async () => {
    const dir = tempDir();
    const file = writeSeed(
      dir,
      'bad.yaml',
      `
users:
  - { email: a@example.com, displayName: A }
  - { email: b@example.com, displayName: B }
  - { email: not-an-email, displayName: C }
`,
    );
    const reference = writeSeed(
      dir,
      'reference.yaml',
      'properties:\n  - { product: jira, user: "712020:nobody", key: k, value: 1 }\n',
    );
    const seeded = await cli(['seed', file, '--database', `sqlite:${join(dir, 'one.db')}`]);
    const refused = await cli(['seed', reference, '--database', `sqlite:${join(dir, 'two.db')}`]);
    const served = await serveInProcess(['--database', `sqlite:${join(dir, 'three.db')}`, '--seed', file]);
    const missing = await cli(['seed', '--database', `sqlite:${join(dir, 'four.db')}`]);
    assert.equal(seeded.code, 2);
    assert.equal(seeded.stdout, '');
    assert.equal(seeded.stderr, `userplane: ${file}:\n  users[2].email: must be an email address\n`);

    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /properties\[0\]\.user: no user with accountId "712020:nobody"/);

    assert.equal(served.code, 2, 'serve refuses to start on a bad seed');
    assert.equal(served.server, undefined);
    assert.match(served.stderr, /users\[2\]\.email: must be an email address/);
    assert.doesNotMatch(served.stdout, /listening|first start/);

    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^userplane: seed: name the seed file/);
  });

  test('a bad --port or PORT exits 2 with a readable message', async () => {
    const option = await cli(['serve', '--port', 'abc']);
    const env = await cli(['serve'], { PORT: '70000' });
    const baseUrl = await cli(['serve', '--base-url', 'localhost:8080']);
    assert.equal(option.code, 2);
    assert.equal(option.stderr, 'userplane: invalid configuration:\n  --port: must be an integer\n');

    assert.equal(env.code, 2);
    assert.match(env.stderr, /^userplane: invalid configuration:\n {2}PORT: must be .*65535/);

    assert.equal(baseUrl.code, 2);
    assert.match(baseUrl.stderr, /--base-url: must be an http:\/\/ or https:\/\/ URL/);
  });

  const onPostgres = STORE_KINDS.includes('postgres') ? test : () => {};
  onPostgres('PostgreSQL without a secret key exits non-zero naming USERPLANE_SECRET_KEY', async () => {
    const location = await freshLocation('postgres');
    assert.equal(location.dialect, 'postgres');
    const url = location.dialect === 'postgres' ? location.url : '';

    const serve = await cli(['serve', '--port', '0', '--database', url]);
    const migrate = await cli(['migrate', '--database', url]);
    const viaEnv = await cli(['serve', '--port', '0'], { DATABASE_URL: url });
    for (const result of [serve, migrate]) {
      assert.equal(result.code, 2, 'a configuration error');
      assert.match(
        result.stderr,
        /^userplane: invalid configuration:\n {2}--secret-key \(USERPLANE_SECRET_KEY\): required with PostgreSQL/,
      );
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(result.stdout, /listening/);
    }
    assert.notEqual(viaEnv.code, 0);
    assert.match(viaEnv.stderr, /USERPLANE_SECRET_KEY/);

    // With the key, the same database is usable.
    const migrated = await cli(['migrate', '--database', url], {
      USERPLANE_SECRET_KEY: 'cli-test-secret-key-of-at-least-32-chars',
    });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.equal(migrated.stdout, 'database schema is up to date\n');
  });

  test('usage: --help exits 0; an unknown command exits 2', async () => {
    const help = await cli(['--help']);
    const unknown = await cli(['frobnicate']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: userplane /);
    assert.match(help.stdout, /USERPLANE_SECRET_KEY/);
    assert.match(
      help.stdout,
      /--secret-key-file PATH\s+USERPLANE_SECRET_KEY_FILE\s+the key from a file, or "-" for standard input/,
    );

    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^userplane: unknown command "frobnicate"/);
  });
});
