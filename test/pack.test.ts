/**
 * The published package (docs/behaviour.md §11 "Use from a test suite"):
 * `npm pack` (whose prepack builds dist/) makes a tarball that a fresh
 * project installs from the registry and uses with no TypeScript tooling:
 * a plain .mjs script imports 'userplane', starts it, makes a site, reads
 * through it with the site admin's ready Authorization header, writes and
 * reads a user property with confluence.js (installed alongside, at the
 * version of our devDependencies), resets the site and sees the property
 * gone, and closes; a Forge app's resolver, plain JavaScript written against
 * `@forge/api` (installed alongside, in the same install), is tested with
 * `node --test` through `userplane/forge` (docs/forge.md); the
 * `userplane` bin runs the compiled code; and the type declarations stand
 * alone, checked by the compiler in a consumer with strict settings.
 *
 * The install fetches the dependencies from the npm registry. better-sqlite3's
 * native module is the one part not built again: compiling it from source (no
 * prebuilt binary can be downloaded here) takes over a minute of both cores,
 * and this project's own `npm ci` has just compiled the same version. So the
 * install runs without install scripts and the consumer gets the project's
 * compiled module when the versions match; when they differ, `npm rebuild`
 * compiles it in the consumer, as a user's first install would
 * (docs/testing.md). Every step is bounded; nothing is skipped.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, PROJECT_ROOT } from './helpers/process.ts';

const run = promisify(execFile);

/** Bounds, generous for a loaded CI machine: the install's compile is the long step. */
const PACK_TIMEOUT_MS = 3 * 60_000;
const INSTALL_TIMEOUT_MS = 8 * 60_000;
const RUN_TIMEOUT_MS = 60_000;

/**
 * The script a user would write: plain JavaScript, no loader, no build. It
 * reads through the site with the site admin's header, then, as a seeded
 * user with confluence.js, writes a user property and reads it back; a reset
 * takes the site back to its seed, so the property is gone (confluence.js's
 * error carries the 404).
 */
const CONSUMER_SCRIPT = `
import { ConfluenceClient } from 'confluence.js';
import { startUserplane } from 'userplane';

const user = { accountId: '712020:consumer', email: 'consumer@example.com', apiToken: 'consumer-token-0123456789' };
const up = await startUserplane();
const site = await up.createSite({
  name: 'x',
  seed: {
    groups: ['confluence-users'],
    users: [
      {
        accountId: user.accountId,
        email: user.email,
        displayName: 'Consumer',
        groups: ['confluence-users'],
        apiTokens: [user.apiToken],
      },
    ],
  },
});
const response = await fetch(\`\${up.url}/sites/x/wiki/rest/api/user/current\`, {
  headers: { authorization: site.admin.authorization },
});
const body = await response.json();

const client = new ConfluenceClient({
  host: site.baseUrl,
  authentication: { basic: { email: user.email, apiToken: user.apiToken } },
});
const at = { userId: user.accountId, key: 'theme' };
const created = await client.userProperties.createUserProperty({ ...at, value: { dark: true } });
const read = await client.userProperties.getUserProperty(at);
await site.reset();
const afterReset = await client.userProperties.getUserProperty(at).then(
  () => 'still there',
  (error) => error.statusCode ?? error.status ?? String(error),
);
await up.close();
console.log(JSON.stringify({
  status: response.status,
  accountId: body.accountId,
  site,
  created: created.key,
  read: read.value,
  afterReset,
}));
`;

/** A Forge app's resolver, exactly as it would be deployed: plain JavaScript against @forge/api. */
const FORGE_RESOLVER = `
import api, { route } from '@forge/api';

/** The invoking user, as Confluence sees them. */
export async function currentUser() {
  const response = await api.asUser().requestConfluence(route\`/wiki/rest/api/user/current\`);
  if (!response.ok) throw new Error(\`user/current answered \${response.status}\`);
  return response.json();
}
`;

/**
 * Its test, for \`node --test\`: a site with a Forge app and two users, the
 * Forge runtime of 'userplane/forge' with an invoking user, the resolver's
 * answer for that user and, after \`forge.as\`, for the other; then the
 * runtime is uninstalled and userplane closed.
 */
const FORGE_TEST = `
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startUserplane } from 'userplane';
import { forgeRuntime } from 'userplane/forge';
import { currentUser } from '../src/resolvers.js';

const APP = {
  key: 'ari:cloud:ecosystem::app/3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f',
  kind: 'forge',
  name: 'Packed Forge App',
  sharedSecret: 'packed-forge-app-shared-secret-of-32-chars',
  oauthClientId: 'packed-forge-client-id',
  clientSecret: 'packed-forge-client-secret',
  scopes: ['read:confluence-user'],
};
const MIA = '712020:mia';
const NOAH = '712020:noah';

let up;
let forge;
before(async () => {
  up = await startUserplane();
  const site = await up.createSite({
    name: 'acme',
    seed: {
      groups: ['confluence-users'],
      users: [
        { accountId: MIA, email: 'mia@example.com', displayName: 'Mia', groups: ['confluence-users'] },
        { accountId: NOAH, email: 'noah@example.com', displayName: 'Noah', groups: ['confluence-users'] },
      ],
      apps: [APP],
    },
  });
  forge = await forgeRuntime({
    baseUrl: site.baseUrl,
    appId: APP.key,
    clientId: APP.oauthClientId,
    clientSecret: APP.clientSecret,
    sharedSecret: APP.sharedSecret,
    accountId: MIA,
  });
});
after(async () => {
  forge?.uninstall();
  await up?.close();
});

test('the resolver answers the invoking user', async () => {
  const user = await currentUser();
  assert.equal(user.accountId, MIA);
  assert.equal(user.displayName, 'Mia');
});

test('forge.as makes another user the invoking one', async () => {
  forge.as(NOAH);
  assert.equal(forge.accountId, NOAH);
  assert.equal((await currentUser()).accountId, NOAH);
});

test('uninstall takes the Forge runtime out of the process', () => {
  forge.uninstall();
  assert.equal(globalThis.__forge_fetch__, undefined);
  assert.equal(globalThis.__forge_runtime__, undefined);
});
`;

/** The same, typed: the declarations must carry the API, not \`any\`. */
const CONSUMER_TYPES = `
import { type JournalEntry, type SiteHandle, startUserplane, type Userplane } from 'userplane';

const up: Userplane = await startUserplane({ seed: { users: [] }, port: 0 });
const site: SiteHandle = await up.createSite({ name: 'x', seed: 'seed.yaml' });
const header: string | undefined = site.admin?.authorization;
const entries: JournalEntry[] = await site.journal({ status: 401, limit: 5 });
const statuses: number[] = entries.map((entry) => entry.status);
// @ts-expect-error: port is a number
await startUserplane({ port: '8080' });
// @ts-expect-error: a handle has no such method
site.wipe();
console.log(header, statuses);
await up.close();
`;

/**
 * The environment of a user's shell: no NODE_OPTIONS (no tsx loader), no
 * userplane settings, and none of what npm hands the scripts it runs (under
 * `npm test`), so the inner npm commands find their project by their own
 * working directory and not the outer project's.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env = cleanEnv({ npm_config_update_notifier: 'false' });
  for (const name of Object.keys(env)) {
    if (
      /^npm_(package|lifecycle)_/i.test(name) ||
      /^npm_config_(local_prefix|prefix|global_prefix|allow_scripts)$/i.test(name)
    )
      delete env[name];
  }
  delete env.INIT_CWD;
  return env;
}

const NATIVE_MODULE = join('better-sqlite3', 'build', 'Release', 'better_sqlite3.node');

/** The consumer's better-sqlite3 gets its native module: this project's build of the same version, or its own compile. */
async function provideNativeModule(project: string, env: NodeJS.ProcessEnv): Promise<void> {
  const versionIn = (modules: string) =>
    (JSON.parse(readFileSync(join(modules, 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
  const ours = join(PROJECT_ROOT, 'node_modules');
  const theirs = join(project, 'node_modules');
  if (versionIn(theirs) === versionIn(ours) && existsSync(join(ours, NATIVE_MODULE))) {
    mkdirSync(join(theirs, NATIVE_MODULE, '..'), { recursive: true });
    copyFileSync(join(ours, NATIVE_MODULE), join(theirs, NATIVE_MODULE));
    return;
  }
  await run('npm', ['rebuild', 'better-sqlite3'], {
    cwd: project,
    env,
    timeout: INSTALL_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
}

const root = mkdtempSync(join(tmpdir(), 'userplane-pack-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('npm pack makes a package a fresh project installs and runs without TypeScript', {
  timeout: 15 * 60_000,
}, async () => {
  const env = npmEnv();

  const packed = await run('npm', ['pack', '--json', '--pack-destination', root], {
    cwd: PROJECT_ROOT,
    env,
    timeout: PACK_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  // prepack's build prints before npm's JSON.
  const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('\n[') + 1)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const { filename, files } = report[0]!;
  const paths = new Set(files.map((f) => f.path));
  for (const path of [
    'package.json',
    'bin/userplane.js',
    'dist/cli.js',
    'dist/testing.js',
    'dist/testing.d.ts',
    'dist/forge.js',
    'dist/forge.d.ts',
  ])
    assert.ok(paths.has(path), `the package holds ${path}`);
  const tarball = join(root, filename);

  const project = join(root, 'consumer');
  await run('mkdir', [project]);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'userplane-consumer',
      private: true,
      type: 'module',
      // npm's policy for dependencies' install scripts: better-sqlite3 builds its native module.
      allowScripts: { 'better-sqlite3': true },
    }),
  );
  // confluence.js and @forge/api at the versions the tests use (package.json's devDependencies), in the same install.
  const { devDependencies } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const confluenceRange = devDependencies['confluence.js'];
  const forgeRange = devDependencies['@forge/api'];
  assert.ok(confluenceRange, "package.json's devDependencies hold confluence.js");
  assert.ok(forgeRange, "package.json's devDependencies hold @forge/api");
  const dependencies = [tarball, `confluence.js@${confluenceRange}`, `@forge/api@${forgeRange}`];
  await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...dependencies], {
    cwd: project,
    env,
    timeout: INSTALL_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const installed = join(project, 'node_modules');
  await provideNativeModule(project, env);
  assert.ok(existsSync(join(installed, NATIVE_MODULE)), 'the native module');
  // Runtime needs no TypeScript tooling, so none is installed with it.
  assert.equal(existsSync(join(installed, 'tsx')), false, 'tsx is not a dependency');
  assert.equal(existsSync(join(installed, 'typescript')), false, 'typescript is not a dependency');
  const manifest = JSON.parse(readFileSync(join(installed, 'userplane', 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  assert.deepEqual(manifest.exports['.'], { types: './dist/testing.d.ts', default: './dist/testing.js' });
  assert.deepEqual(manifest.exports['./forge'], { types: './dist/forge.d.ts', default: './dist/forge.js' });

  // A plain .mjs script: import, start, make a site, read through it, write and read with confluence.js, reset, close, exit.
  writeFileSync(join(project, 'check.mjs'), CONSUMER_SCRIPT);
  const script = await run(process.execPath, ['check.mjs'], { cwd: project, env, timeout: RUN_TIMEOUT_MS });
  const result = JSON.parse(script.stdout) as {
    status: number;
    accountId: string;
    site: { name: string; baseUrl: string; admin: { accountId: string; authorization: string } };
    created: string;
    read: unknown;
    afterReset: unknown;
  };
  assert.equal(result.status, 200, script.stdout);
  assert.equal(result.accountId, result.site.admin.accountId);
  assert.equal(result.site.name, 'x');
  assert.match(result.site.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/sites\/x$/);
  assert.match(result.site.admin.authorization, /^Basic /);
  assert.equal(result.created, 'theme', 'confluence.js created the property');
  assert.deepEqual(result.read, { dark: true }, 'confluence.js read it back');
  assert.equal(result.afterReset, 404, 'after the reset the property is gone');

  // A Forge app's resolver and its node:test file, plain JavaScript: `node --test` runs them against the package.
  mkdirSync(join(project, 'src'));
  mkdirSync(join(project, 'test'));
  writeFileSync(join(project, 'src', 'resolvers.js'), FORGE_RESOLVER);
  writeFileSync(join(project, 'test', 'resolvers.test.js'), FORGE_TEST);
  const forgeTest = await run(process.execPath, ['--test', '--test-reporter=tap', join('test', 'resolvers.test.js')], {
    cwd: project,
    env,
    timeout: RUN_TIMEOUT_MS,
  }).catch((error: { code?: number; stdout?: string; stderr?: string }) =>
    assert.fail(`node --test exited ${error.code}:\n${error.stdout ?? ''}${error.stderr ?? ''}`),
  );
  assert.match(forgeTest.stdout, /^ok \d+ - the resolver answers the invoking user$/m, forgeTest.stdout);
  assert.match(forgeTest.stdout, /^ok \d+ - forge\.as makes another user the invoking one$/m, forgeTest.stdout);
  assert.match(forgeTest.stdout, /^ok \d+ - uninstall takes the Forge runtime out of the process$/m, forgeTest.stdout);
  assert.match(forgeTest.stdout, /^# pass 3$/m, forgeTest.stdout);
  assert.match(forgeTest.stdout, /^# fail 0$/m, forgeTest.stdout);

  // The bin runs the compiled CLI.
  const help = await run('npx', ['--no-install', 'userplane', '--help'], {
    cwd: project,
    env,
    timeout: RUN_TIMEOUT_MS,
  });
  assert.match(help.stdout, /^usage: userplane /);
  assert.match(help.stdout, /userplane healthcheck \[--url URL\]/);

  // The declarations stand alone and carry the API's types.
  writeFileSync(join(project, 'typed.ts'), CONSUMER_TYPES);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        lib: ['es2022', 'dom'],
        types: [],
        noEmit: true,
        skipLibCheck: false,
      },
      files: ['typed.ts'],
    }),
  );
  const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const typed = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], {
    cwd: project,
    env,
    timeout: RUN_TIMEOUT_MS,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    assert.fail(`the consumer does not type-check:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
  assert.equal(typed.stdout, '');
});
