/**
 * The administration commands (docs/behaviour.md §9), in-process with captured output:
 * `userplane users|groups|tokens|apps|site …` on --database directly, on an
 * embedded SQLite file no server has started on, and on PostgreSQL next to a
 * running app; usage errors exit 2, failures 1, both with readable messages.
 * test/cli.test.ts runs a command as a real process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { Secrets } from '../src/domain/secrets.ts';
import { findSealedAppByKey } from '../src/store/apps.ts';
import { openStore } from '../src/store/database.ts';
import { findApiTokenByDigest } from '../src/store/tokens.ts';
import { appOn, cli as run } from './helpers/cli.ts';
import { basicAuth, cleanEnv, failed, ok, PROJECT_ROOT } from './helpers/process.ts';
import { DEFAULT_SITE, freshLocation, STORE_KINDS } from './helpers/stores.ts';

function sqliteDatabase(): string {
  return `sqlite:${join(mkdtempSync(join(tmpdir(), 'userplane-cli-admin-')), 'userplane.db')}`;
}

describe('userplane administration commands', () => {
  test('on a file no server has started on: users, groups and tokens, then the server honours them', async () => {
    const database = sqliteDatabase();
    const cli = (...args: string[]) => run([...args, '--database', database]);

    const boss = ok(
      await cli(
        'users',
        'add',
        '--email',
        'boss@example.com',
        '--display-name',
        'Boss',
        '--group',
        'confluence-admins',
        '--group',
        'confluence-users',
        '--json',
      ),
    );
    assert.match(boss.accountId, /^712020:[0-9a-f-]{36}$/);
    assert.deepEqual(boss.groups, ['confluence-admins', 'confluence-users']);
    assert.equal(boss.active, true);

    const mia = ok(
      await cli(
        'users',
        'add',
        '--email',
        'mia@example.com',
        '--display-name',
        'Mia Krystof',
        '--account-id',
        '712020:mia',
        '--time-zone',
        'Europe/Berlin',
        '--email-visibility',
        'anyone',
        '--json',
      ),
    );
    assert.deepEqual(
      {
        accountId: mia.accountId,
        timeZone: mia.timeZone,
        emailVisibility: mia.emailVisibility,
        publicName: mia.publicName,
        groups: mia.groups,
      },
      {
        accountId: '712020:mia',
        timeZone: 'Europe/Berlin',
        emailVisibility: 'anyone',
        publicName: 'Mia Krystof',
        groups: [],
      },
    );
    assert.match(ok(await cli('groups', 'add', 'qa')), /^created group qa \([0-9a-f-]{36}\)\n$/);
    assert.equal(ok(await cli('groups', 'add-member', 'qa', 'mia@example.com')), 'added 712020:mia to group qa\n');
    assert.equal(
      ok(await cli('groups', 'add-member', 'confluence-users', '712020:mia')),
      'added 712020:mia to group confluence-users\n',
    );
    const members = ok(await cli('groups', 'members', 'qa', '--json'));
    assert.deepEqual(
      members.results.map((u: { accountId: string }) => u.accountId),
      ['712020:mia'],
    );

    const updated = ok(
      await cli('users', 'update', '712020:mia', '--public-name', 'Mia', '--username', 'mia', '--json'),
    );
    assert.deepEqual(
      { publicName: updated.publicName, username: updated.username, groups: updated.groups },
      { publicName: 'Mia', username: 'mia', groups: ['confluence-users', 'qa'] },
    );

    const first = ok(await cli('tokens', 'create', '--user', 'boss@example.com', '--name', 'first', '--json'));
    assert.match(first.token, /^upt_[A-Za-z0-9_-]{43}$/);
    const human = await cli('tokens', 'create', '--user', boss.accountId);
    const second = ok(human).match(
      /^API token for boss@example\.com, shown only this once:\n {2}(upt_\S+)\nid ([0-9a-f-]{36}), name "API token", never expires\n/,
    );
    assert.ok(second, human.stdout);
    const listed = ok(await cli('tokens', 'list', '--user', 'boss@example.com', '--json'));
    assert.deepEqual(listed.results.map((t: { name: string }) => t.name).sort(), ['API token', 'first']);
    assert.ok(!JSON.stringify(listed).includes(first.token), 'tokens are never listed');
    assert.match(ok(await cli('tokens', 'revoke', first.id)), new RegExp(`^revoked token ${first.id}\n$`));

    const users = ok(await cli('users', 'list'));
    assert.match(users, /^ACCOUNT ID\s+EMAIL\s+DISPLAY NAME\s+STATUS\s+GROUPS\n/);
    assert.match(users, /712020:mia\s+mia@example\.com\s+Mia Krystof\s+active\s+confluence-users,qa\n/);
    assert.match(ok(await cli('users', 'deactivate', 'mia@example.com')), /^active:\s+false$/m);

    // The app on the same file: the second token works, the revoked one not.
    const server = await appOn(database);
    try {
      const get = (path: string, token: string) =>
        server.app.inject({ method: 'GET', url: path, headers: basicAuth('boss@example.com', token) });
      assert.equal((await get('/admin/api/site', second[1]!)).statusCode, 200);
      assert.equal((await get('/admin/api/site', first.token)).statusCode, 401);
      const miaOverHttp = (await get('/admin/api/users/712020:mia', second[1]!)).json() as { active: boolean };
      assert.equal(miaOverHttp.active, false, "the CLI's deactivation is what the API sees");
    } finally {
      await server.close();
    }
  });

  test('apps and site settings; secrets are never printed', async () => {
    const database = sqliteDatabase();
    const cli = (...args: string[]) => run([...args, '--database', database]);
    const secret = 'cli-shared-secret-of-at-least-32-characters';
    const app = ok(
      await cli(
        'apps',
        'add',
        '--key',
        'com.example.cli',
        '--name',
        'CLI App',
        '--client-key',
        'cli-client',
        '--shared-secret',
        secret,
        '--client-secret',
        'cli-client-secret',
        '--scopes',
        'READ,WRITE',
        '--json',
      ),
    );
    assert.deepEqual(app, {
      key: 'com.example.cli',
      name: 'CLI App',
      clientKey: 'cli-client',
      oauthClientId: null,
      hasClientSecret: true,
      scopes: ['READ', 'WRITE'],
      emailAccess: false,
      accountId: app.accountId,
      kind: 'connect',
    });
    const shown = await cli('apps', 'show', 'com.example.cli');
    assert.match(ok(shown), /^hasClientSecret:\s+true$/m);
    const renamed = ok(
      await cli('apps', 'update', 'com.example.cli', '--name', 'Renamed', '--client-secret', '', '--json'),
    );
    assert.deepEqual(
      { name: renamed.name, hasClientSecret: renamed.hasClientSecret },
      { name: 'Renamed', hasClientSecret: false },
    );
    assert.match(ok(await cli('apps', 'list')), /com\.example\.cli\s+Renamed\s+cli-client/);
    // Secrets from a file (or "-" for standard input), so they never show in ps.
    const secretFile = join(mkdtempSync(join(tmpdir(), 'userplane-cli-secret-')), 'shared-secret');
    writeFileSync(secretFile, 'file-shared-secret-of-at-least-32-characters\n', { mode: 0o600 });
    const fromFile = ok(
      await cli(
        'apps',
        'add',
        '--key',
        'com.example.file',
        '--name',
        'File',
        '--client-key',
        'file-client',
        '--shared-secret-file',
        secretFile,
        '--client-secret-file',
        secretFile,
        '--json',
      ),
    );
    assert.equal(fromFile.hasClientSecret, true);
    const appsHelp = await cli('apps', 'add', '--help');
    assert.match(
      appsHelp.stdout,
      /--shared-secret-file PATH\s+read --shared-secret from a file, or "-" for standard input/,
    );
    assert.match(appsHelp.stdout, /--client-secret-file PATH/);
    assert.match(appsHelp.stdout, /--secret-key-file PATH/);
    assert.equal(
      ok(await cli('apps', 'update', 'com.example.file', '--shared-secret-file', secretFile, '--json')).key,
      'com.example.file',
    );
    failed(
      await cli('apps', 'update', 'com.example.file', '--shared-secret-file', join(secretFile, 'missing')),
      2,
      /--shared-secret-file: cannot read .*missing \(ENOTDIR\)/,
    );
    failed(
      await cli(
        'apps',
        'update',
        'com.example.file',
        '--shared-secret-file',
        secretFile,
        '--shared-secret',
        'x'.repeat(40),
      ),
      2,
      /--shared-secret-file and --shared-secret: give one, not both/,
    );
    // Keys and clientKeys are one namespace (a JWT's iss may name either).
    failed(
      await cli(
        'apps',
        'add',
        '--key',
        'cli-client',
        '--name',
        'Clash',
        '--client-key',
        'clash',
        '--shared-secret',
        secret,
      ),
      1,
      /^userplane: apps add: key "cli-client" already belongs to another app, as its clientKey: keys and clientKeys share one namespace/,
    );
    failed(
      await cli(
        'apps',
        'add',
        '--key',
        'com.example.clash',
        '--name',
        'Clash',
        '--client-key',
        'com.example.cli',
        '--shared-secret',
        secret,
      ),
      1,
      /^userplane: apps add: clientKey "com\.example\.cli" already belongs to another app, as its key or clientKey/,
    );
    for (const result of [shown])
      assert.ok(!result.stdout.includes(secret) && !result.stdout.includes('cli-client-secret'));

    const site = ok(
      await cli(
        'site',
        'set',
        '--anonymous-access',
        'true',
        '--max-properties-per-user',
        '7',
        '--can-use-groups',
        'confluence-users,guests',
        '--base-url',
        'https://wiki.example.com/',
        '--json',
      ),
    );
    assert.deepEqual(
      {
        anonymousAccess: site.anonymousAccess,
        maxPropertiesPerUser: site.maxPropertiesPerUser,
        canUseGroups: site.canUseGroups,
        baseUrl: site.baseUrl,
      },
      {
        anonymousAccess: true,
        maxPropertiesPerUser: 7,
        canUseGroups: ['confluence-users', 'guests'],
        baseUrl: 'https://wiki.example.com',
      },
    );
    assert.match(ok(await cli('site', 'show')), /^anonymousAccess:\s+true$/m);
    // --rate-limits: a word, or a JSON object (docs/behaviour.md §12).
    assert.equal(ok(await cli('site', 'set', '--rate-limits', 'atlassian', '--json')).rateLimits, 'atlassian');
    assert.deepEqual(
      ok(await cli('site', 'set', '--rate-limits', '{"burst": {"GET": 5}, "quota": false}', '--json')).rateLimits,
      { burst: { GET: 5 }, quota: false },
    );
    failed(await cli('site', 'set', '--rate-limits', 'fast'), 2, /^userplane: site set: --rate-limits/);
    assert.match(ok(await cli('groups', 'list')), /^guests\s+[0-9a-f-]{36}$/m);
    assert.equal(ok(await cli('apps', 'delete', 'com.example.cli')), 'deleted app com.example.cli\n');
    failed(await cli('users', 'show', app.accountId), 1, /No user with accountId/);
  });

  test('secrets from standard input: "-" reads the secret key and an app secret from stdin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'userplane-cli-stdin-'));
    const path = join(dir, 'userplane.db');
    const secretKey = 'stdin-secret-key-of-at-least-32-characters';
    const sharedSecret = 'stdin-shared-secret-of-at-least-32-characters';
    /** `userplane …args` as a process, with `input` on its standard input. */
    const withInput = async (args: string[], input: string) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
        cwd: PROJECT_ROOT,
        env: cleanEnv(),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.stdin.end(input);
      const [code] = await once(child, 'close');
      return { code: code as number | null, stdout, stderr };
    };

    const migrated = await withInput(
      ['migrate', '--database', `sqlite:${path}`, '--secret-key-file', '-'],
      `${secretKey}\n`,
    );
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.equal(existsSync(`${path}.secret-key`), false, 'the key from stdin is used; none is generated');

    const added = await withInput(
      [
        'apps',
        'add',
        '--key',
        'com.example.stdin',
        '--name',
        'Stdin',
        '--client-key',
        'stdin-client',
        '--shared-secret-file',
        '-',
        '--database',
        `sqlite:${path}`,
        '--secret-key',
        secretKey,
      ],
      `${sharedSecret}\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    assert.ok(!added.stdout.includes(sharedSecret), 'the secret is never printed');
    const store = await openStore({ dialect: 'sqlite', path });
    try {
      const sealed = await findSealedAppByKey(store.db, DEFAULT_SITE, 'com.example.stdin');
      assert.equal(new Secrets(secretKey).decrypt(sealed!.sharedSecretSealed), sharedSecret);
    } finally {
      await store.close();
    }
  });

  test('usage errors exit 2 naming the problem, before the database is opened; failures exit 1; --help exits 0', async () => {
    const database = sqliteDatabase();
    const cli = (...args: string[]) => run([...args, '--database', database]);
    // A usage error is found before the database is opened: this file must never appear.
    const untouchedPath = join(mkdtempSync(join(tmpdir(), 'userplane-cli-admin-')), 'never.db');
    const usage = (...args: string[]) => run([...args, '--database', `sqlite:${untouchedPath}`]);
    // Independent of each other, so they run side by side.
    const [missing, unknown, none, sub, noUser, noArg, extra, integer, email, page, help, subHelp, topHelp] =
      await Promise.all([
        usage('users', 'add', '--email', 'x@example.com'),
        usage('users', 'add', '--bogus'),
        usage('users'),
        usage('users', 'frobnicate'),
        usage('tokens', 'create'),
        usage('groups', 'add-member', 'qa'),
        usage('users', 'show', 'a', 'b'),
        usage('site', 'set', '--max-properties-per-user', 'many', '--anonymous-access', 'maybe'),
        usage('users', 'add', '--email', 'not-an-email', '--display-name', 'X'),
        usage('groups', 'list', '--limit=-1'),
        usage('users', '--help'),
        usage('tokens', 'create', '--help'),
        run(['--help']),
      ]);
    assert.equal(existsSync(untouchedPath), false, 'a usage error opened the database');
    failed(
      missing,
      2,
      /^userplane: users add: --display-name is required\nRun "userplane users add --help" for its options\.\n$/,
    );
    failed(unknown, 2, /^userplane: users add: Unknown option '--bogus'\n/);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^userplane: users: name a subcommand\n\nusage: userplane users <subcommand>/);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /^userplane: users: unknown subcommand "frobnicate"/);
    failed(noUser, 2, /^userplane: tokens create: --user is required: an accountId or an email address\n/);
    failed(noArg, 2, /^userplane: groups add-member: missing USER\n/);
    failed(extra, 2, /^userplane: users show: unexpected argument "b"\n/);
    failed(
      integer,
      2,
      /^userplane: site set: --anonymous-access: must be a boolean; --max-properties-per-user: must be an integer\n/,
    );
    failed(email, 2, /^userplane: users add: --email: must be an email address\n/);
    failed(page, 2, /^userplane: groups list: --limit: must be a non-negative integer\n/);

    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: userplane users <subcommand> \[options\]\n/);
    for (const name of ['list', 'show', 'add', 'update', 'deactivate', 'activate', 'delete'])
      assert.match(help.stdout, new RegExp(`^ {2}${name} `, 'm'));
    assert.equal(subHelp.code, 0);
    assert.match(subHelp.stdout, /^usage: userplane tokens create --user USER/);
    assert.match(subHelp.stdout, /--expires-at VALUE\s+ISO-8601 date-time/);
    assert.equal(topHelp.code, 0);
    assert.match(topHelp.stdout, /users +Create, change, deactivate and delete users\./);

    // Failures of the domain: exit 1 for absent or conflicting things, 2 for invalid values.
    ok(
      await cli(
        'users',
        'add',
        '--email',
        'only@example.com',
        '--display-name',
        'Only Admin',
        '--group',
        'confluence-admins',
      ),
    );
    failed(
      await cli('users', 'add', '--email', 'ONLY@example.com', '--display-name', 'Twin'),
      1,
      /^userplane: users add: email "ONLY@example\.com" already belongs to another user\n$/,
    );
    failed(
      await cli('users', 'show', 'nobody@example.com'),
      1,
      /^userplane: users show: No user with email nobody@example\.com\n$/,
    );
    failed(await cli('users', 'deactivate', 'only@example.com'), 1, /would leave the site without an active admin/);
    failed(
      await cli('users', 'add', '--email', 'tz@example.com', '--display-name', 'TZ', '--time-zone', 'Mars/Base'),
      2,
      /timeZone "Mars\/Base" is not an IANA time zone/,
    );
    failed(await cli('tokens', 'revoke', 'not-an-id'), 2, /"not-an-id" is not a token id/);
    failed(await cli('groups', 'delete', 'confluence-admins'), 1, /is named in the site's adminGroups/);
  });

  const onPostgres = STORE_KINDS.includes('postgres') ? test : () => {};
  onPostgres(
    'on PostgreSQL, next to a running app: the same rules, and the app accepts the token at once',
    async () => {
      const location = await freshLocation('postgres');
      assert.equal(location.dialect, 'postgres');
      const url = location.dialect === 'postgres' ? location.url : '';
      const secretKey = 'cli-admin-test-secret-key-of-32-chars-min';
      const store = await openStore(location);
      const secrets = new Secrets(secretKey);
      const app = await buildApp({ db: store.db, secrets, logLevel: 'silent' });
      try {
        const env = { USERPLANE_SECRET_KEY: secretKey, DATABASE_URL: url };
        const user = ok(
          await run(
            [
              'users',
              'add',
              '--email',
              'pg-admin@example.com',
              '--display-name',
              'PG Admin',
              '--group',
              'confluence-admins',
              '--json',
            ],
            env,
          ),
        );
        const token = ok(await run(['tokens', 'create', '--user', user.accountId, '--json'], env));
        assert.ok(
          await findApiTokenByDigest(store.db, DEFAULT_SITE, secrets.digest(token.token)),
          'stored as the digest under the shared secret key',
        );
        const response = await app.inject({
          method: 'GET',
          url: `/admin/api/users/${user.accountId}`,
          headers: basicAuth('pg-admin@example.com', token.token),
        });
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(response.json().email, 'pg-admin@example.com');
        // Without the key, a readable configuration error.
        const keyless = await run(['users', 'list', '--database', url]);
        assert.equal(keyless.code, 2);
        assert.match(keyless.stderr, /--secret-key \(USERPLANE_SECRET_KEY\): required with PostgreSQL/);
      } finally {
        await app.close();
        await store.close();
      }
    },
  );
});
