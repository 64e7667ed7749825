/**
 * `npm run bench`: throughput and latency of the hot user-property routes,
 * loaded with autocannon over loopback against a real server process (the
 * compiled one that production runs: the bench runs `npm run build` first), and
 * read against a yardstick (bench/yardstick.ts, bare Fastify) measured in the
 * same run, so the ratios mean something on any machine. A report only: no
 * test asserts timings. Exits non-zero when a run saw connection
 * errors or non-2xx responses, since its figures then measure the wrong thing.
 *
 * `--store postgres` runs the server on PostgreSQL: DATABASE_URL's, or an
 * embedded one started here (test/helpers/embedded-postgres.ts). The raw-`pg`
 * yardsticks (a prepared point read and an upsert through a pool of
 * userplane's size) are then measured too, and each property route is read
 * against its raw counterpart.
 *
 * Two operational checks, which also exit non-zero when they fail:
 * - `--outage` (PostgreSQL): mixed GET/PUT load while PostgreSQL is stopped
 *   and started again; only 2xx and 503 with Retry-After may come back, every
 *   request must be answered, and service must resume (docs/operations.md, "Losing the database"). It replaces
 *   the throughput scenarios.
 * - `--metrics`: the server runs with `--metrics`; after the scenarios, a
 *   counted run of property GETs is compared with the server's own
 *   `userplane_http_requests_total` for that route.
 *
 * Sites (bench/sites.ts), as the operator (the bench's server gets
 * `--operator-token`; against `--url`, give it with `--operator-token`):
 * - after the throughput scenarios, the request journal's cost
 *   (bench/journal.ts): property GET on a site with the journal on and one
 *   with it off, in alternating rounds, against the budget of 5 %;
 * - then the rate limits' cost (bench/rate-limits.ts): an app's property GET
 *   on a site with `rateLimits` off and one with Atlassian's quota (burst
 *   off), in alternating rounds, against the target of 0.9×;
 * - then the cost of a site: `--site-samples`
 *   sites (default 50) made from a 100-row seed and deleted, median and p90;
 * - `--sites N`: N sites made, the first 100 creations against the last 100,
 *   and property GETs on site #1 against site #N. It replaces the throughput
 *   scenarios.
 *
 * `--scale N[,M…]` (bench/scale.ts): N properties over N/10 users (and,
 * past a few million, over several sites) loaded straight into the store's
 * tables, then property GET, PUT and list on random users of the default
 * site, with the load time, the database's size on disk and the server's
 * memory. Several sizes are each loaded into a database of their own and
 * measured in alternating rounds, the last read against the first. It
 * replaces the throughput scenarios; on PostgreSQL it makes (and drops) a
 * database per size on the server, so DATABASE_URL must allow CREATE DATABASE.
 *
 *   npm run bench [-- --duration SECONDS --connections N --site-samples N]
 *   npm run bench -- --store postgres [--outage] [--metrics]
 *   npm run bench -- --sites 10000 [--store postgres]
 *   npm run bench -- --scale 10000,10000000 [--store postgres]   each size loaded, then GET, PUT and list (bench/scale.ts)
 *   npm run bench -- --url URL [--email E --token T --account-id ID --operator-token T]   bench a running server
 *   npm run bench -- --control-plane [--store postgres]   reset and restore (bench/control-plane.ts)
 *   npm run bench -- --journal-size 0   the default site's journalSize (docs/behaviour.md §11) for the scenarios above; 0 turns its journal off
 *   npm run bench -- --rate-limits '{"burst": false}'   the default site's rateLimits (docs/behaviour.md §12): a word or a JSON object
 *   npm run bench -- --store postgres --instances 2   N servers on one PostgreSQL, connections alternating (bench/instances.ts)
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { constants, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { POOL_SIZE } from '../src/store/postgres.ts';
import { basicAuth, connectJwt } from '../test/helpers/credentials.ts';
import { type EmbeddedPostgresServer, startPostgres } from '../test/helpers/embedded-postgres.ts';
import { freePort } from '../test/helpers/net.ts';
import { controlPlaneBench } from './control-plane.ts';
import { severalInstances } from './instances.ts';
import { journalCost } from './journal.ts';
import { rateLimitCost } from './rate-limits.ts';
import { POSTGRES_TARGETS, rawPairs } from './raw-pairs.ts';
import { scaleBench } from './scale.ts';
import { manySites, siteCost } from './sites.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A Connect app on the bench's own server, for the app scenario (quotas charge apps only, docs/behaviour.md §12). */
const BENCH_APP = {
  key: 'com.example.bench',
  name: 'Bench',
  clientKey: 'bench-client',
  sharedSecret: 'bench-app-shared-secret-of-at-least-32-chars',
  scopes: ['READ', 'WRITE'],
};
const BENCH_USER = { accountId: '712020:bench', email: 'bench@example.com', token: 'bench-token-0123456789' };
const WARM_UP_SECONDS = 1;
const READY_TIMEOUT_MS = 30_000;
const LIST_KEYS = 25;
/** PostgreSQL needs a key given to the server; a fixed one lets reruns on one DATABASE_URL read their own tokens. */
const BENCH_SECRET_KEY = 'bench-secret-key-0123456789abcdefghijklmnopqrstuv';
/** The operator token the bench's server is given, for the sites scenarios. */
const BENCH_OPERATOR_TOKEN = 'bench-operator-token-0123456789abcdefghijkl';
/** A child's log lines echoed before the rest are only counted (an outage logs one per 503). */
const ECHOED_LOG_LINES = 10;
/** The outage scenario: a steady rate, so its phases have a known length. */
const OUTAGE = { rate: 400, seconds: 16, downAfterSeconds: 3, downForSeconds: 4 };
/** Property GETs in the counted run of `--metrics`. */
const COUNTED_REQUESTS = 10_000;
const PROPERTY_ROUTE = '/wiki/rest/api/user/:userId/property/:key';
/** The raw-pg scenarios (`--store postgres`), bench/yardstick.ts. */
const RAW = { read: 'raw pg point read', upsert: 'raw pg upsert' };
const JSON_TYPE = { 'content-type': 'application/json' };

const TARGETS = { getRatio: 0.5, putRatio: 0.35, listRatio: 0.45, p99Ms: 10, p99Connections: 50 };

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    url: { type: 'string' },
    email: { type: 'string', default: BENCH_USER.email },
    token: { type: 'string', default: BENCH_USER.token },
    'account-id': { type: 'string', default: BENCH_USER.accountId },
    store: { type: 'string', default: 'sqlite' },
    outage: { type: 'boolean', default: false },
    metrics: { type: 'boolean', default: false },
    'operator-token': { type: 'string' },
    'site-samples': { type: 'string', default: '50' },
    sites: { type: 'string' },
    'control-plane': { type: 'boolean', default: false },
    'journal-size': { type: 'string' },
    'rate-limits': { type: 'string' },
    scale: { type: 'string' },
    instances: { type: 'string' },
  },
});

const children: ChildProcess[] = [];
/** Children stopped on purpose before the end (`--scale` restarts its server). */
const stopped = new WeakSet<ChildProcess>();
let tmpDir: string | undefined;
let embedded: EmbeddedPostgresServer | undefined;

interface Run {
  name: string;
  result: autocannon.Result;
}

async function main(): Promise<number> {
  const duration = positiveInteger(args.duration, '--duration');
  const connections = positiveInteger(args.connections, '--connections');
  if (args.store !== 'sqlite' && args.store !== 'postgres') {
    throw new Error(`--store must be sqlite or postgres, not "${args.store}"`);
  }
  const postgres = args.store === 'postgres';
  if (args['control-plane']) return controlPlaneBench(postgres ? await postgresUrl() : undefined);
  if (args.outage && (!postgres || args.url !== undefined)) {
    throw new Error("--outage needs --store postgres and the bench's own server (no --url)");
  }
  const siteSamples = positiveInteger(args['site-samples'], '--site-samples');
  const siteCount = args.sites === undefined ? undefined : positiveInteger(args.sites, '--sites');
  if (siteCount !== undefined && args.outage) throw new Error('--sites and --outage are separate runs');
  const scale = args.scale?.split(',').map((size) => positiveInteger(size.trim(), '--scale'));
  if (scale !== undefined && (args.url !== undefined || args.outage || siteCount !== undefined)) {
    throw new Error("--scale needs the bench's own server, and is a run of its own (no --url, --outage or --sites)");
  }
  const instanceCount = args.instances === undefined ? undefined : positiveInteger(args.instances, '--instances');
  if (instanceCount !== undefined && (!postgres || args.url !== undefined || args.outage || siteCount !== undefined))
    throw new Error("--instances needs --store postgres and the bench's own servers (no --url, --outage or --sites)");
  if (instanceCount === 1) throw new Error('--instances: give 2 or more (one instance is measured beside them)');
  const databaseUrl = postgres ? await postgresUrl() : undefined;
  if (scale !== undefined) return scaleRun(scale, databaseUrl, { connections, duration });

  const yardstickPort = await freePort();
  const yardstick = startChild([
    '--import',
    'tsx',
    'bench/yardstick.ts',
    String(yardstickPort),
    ...(databaseUrl ? [databaseUrl] : []),
  ]);
  const yardstickUrl = `http://127.0.0.1:${yardstickPort}`;
  const userplane = args.url === undefined ? await startUserplane(databaseUrl) : undefined;
  const url = userplane?.url ?? args.url!;
  const operatorToken = userplane ? BENCH_OPERATOR_TOKEN : args['operator-token'];
  if (siteCount !== undefined && operatorToken === undefined)
    throw new Error('--sites against --url needs --operator-token');
  await waitUntilReady(`${yardstickUrl}/fixed`, yardstick);
  await waitUntilReady(`${url}/readyz`, userplane?.child);

  const auth = basicAuth(args.email, args.token);
  const json = { ...auth, 'content-type': 'application/json' };
  // accountIds are [A-Za-z0-9:_-] (src/schemas/seed.ts), so they need no percent-encoding.
  const properties = `${url}/wiki/rest/api/user/${args['account-id']}/property`;
  await createProperty(`${properties}/bench-key`, json, { dark: true, size: 12 });
  for (let i = 0; i < LIST_KEYS; i++) await createProperty(`${properties}/bench-list-${i}`, json, { i });

  // The app's own property (its namespace), read with one Connect JWT good for 15 minutes: bench's own server only.
  const appPath = `/wiki/rest/api/user/${args['account-id']}/property/bench-app-key`;
  const appJwt = (method: string) =>
    connectJwt(BENCH_APP, method, appPath, { exp: Math.floor(Date.now() / 1000) + 900 });
  if (userplane)
    await createProperty(`${url}${appPath}`, { ...appJwt('POST'), 'content-type': 'application/json' }, { app: 1 });

  const putBody = JSON.stringify({ value: { dark: false, size: 13 } });
  let code = 0;
  if (instanceCount !== undefined) {
    // The first server seeded the database; the others serve it as it is.
    const others = [];
    for (let i = 1; i < instanceCount; i++) others.push(await startUserplane(databaseUrl, { seeded: false }));
    for (const other of others) await waitUntilReady(`${other.url}/readyz`, other.child);
    const lines = await severalInstances({
      instances: [userplane!, ...others].map(({ url, child }) => ({ url, pid: child.pid! })),
      databaseUrl: databaseUrl!,
      propertyPath: `/wiki/rest/api/user/${args['account-id']}/property/bench-key`,
      auth,
      putBody,
      connections,
      duration,
    });
    process.stdout.write(lines.join('\n'));
  } else if (siteCount !== undefined) {
    process.stderr.write(`bench: sites: making ${siteCount} sites…\n`);
    const { lines, met } = await manySites({ url, token: operatorToken! }, siteCount, { connections, duration });
    process.stdout.write(
      ['', `machine: ${cpus().length} cores, node ${process.version}; store: ${args.store}`, ...lines, ''].join('\n'),
    );
    if (!met) process.stderr.write('bench: sites: a scale target was missed (reported above)\n');
  } else if (args.outage) {
    const target = { property: `${properties}/bench-key`, auth, json, putBody, connections, server: userplane!.child };
    code = (await outage(target)) ? 0 : 1;
  } else {
    const raw = `${yardstickUrl}/pg/kv/bench-key`;
    const scenarios: Array<{ name: string; options: autocannon.Options }> = [
      { name: 'yardstick', options: { url: `${yardstickUrl}/fixed` } },
      ...(postgres
        ? [
            { name: RAW.read, options: { url: raw } },
            { name: RAW.upsert, options: { url: raw, method: 'PUT' as const, headers: JSON_TYPE, body: putBody } },
          ]
        : []),
      { name: 'property GET', options: { url: `${properties}/bench-key`, headers: auth } },
      ...(userplane
        ? [{ name: 'app property GET', options: { url: `${url}${appPath}`, headers: appJwt('GET') } }]
        : []),
      {
        name: 'property PUT',
        options: { url: `${properties}/bench-key`, method: 'PUT', headers: json, body: putBody },
      },
      { name: 'list', options: { url: `${properties}?limit=${LIST_KEYS}`, headers: auth } },
      // Each PUT empties SQLite's read memo (src/store/read-memo.ts), so here most GETs read SQLite.
      {
        name: 'GET+PUT alternating',
        options: {
          url: `${properties}/bench-key`,
          requests: [
            { method: 'GET', headers: auth },
            { method: 'PUT', headers: json, body: putBody },
          ],
        },
      },
    ];
    const runs: Run[] = [];
    for (const { name, options } of scenarios) {
      process.stderr.write(`bench: ${name}…\n`);
      runs.push({ name, result: await measure({ ...options, connections, duration }) });
    }

    report(runs, connections, postgres);
    // The targets, on rounds that alternate with the counterpart (bench/raw-pairs.ts): on
    // PostgreSQL the raw routes, on SQLite the yardstick.
    const counterparts: Array<{ name: string; rawName: string; target?: number }> = postgres
      ? [
          { name: 'property GET', rawName: RAW.read, target: POSTGRES_TARGETS.getRatio },
          { name: 'property PUT', rawName: RAW.upsert, target: POSTGRES_TARGETS.putRatio },
          { name: 'list', rawName: RAW.read },
        ]
      : [
          { name: 'property GET', rawName: 'yardstick', target: TARGETS.getRatio },
          { name: 'property PUT', rawName: 'yardstick', target: TARGETS.putRatio },
          { name: 'list', rawName: 'yardstick', target: TARGETS.listRatio },
        ];
    const optionsOf = (name: string) => scenarios.find((scenario) => scenario.name === name)!.options;
    const pairs = await rawPairs(
      counterparts.map((pair) => ({ ...pair, options: optionsOf(pair.name), rawOptions: optionsOf(pair.rawName) })),
      connections,
      postgres ? undefined : { name: 'the yardstick', judgeP99: false },
    );
    process.stdout.write([...pairs.lines, ''].join('\n'));
    if (pairs.failed) {
      process.stderr.write('bench: WARNING the alternating rounds had errors or non-2xx responses\n');
      code = 1;
    }
    const failed = runs.filter(({ result }) => result.errors + result.non2xx > 0);
    for (const { name, result } of failed) {
      process.stderr.write(
        `bench: WARNING ${name} had ${result.errors} errors and ${result.non2xx} non-2xx responses\n`,
      );
    }
    if (failed.length > 0) code = 1;
    if (operatorToken === undefined) {
      process.stderr.write(
        'bench: no --operator-token for the --url server: the journal, rate-limit and site costs are not measured\n',
      );
    } else {
      const journal = await journalCost({ url, token: operatorToken }, connections);
      process.stdout.write([...journal.lines, ''].join('\n'));
      if (!journal.met) process.stderr.write("bench: the journal's cost is over its budget (reported above)\n");
      const rateLimits = await rateLimitCost({ url, token: operatorToken }, connections, userplane?.child.pid);
      process.stdout.write([...rateLimits.lines, ''].join('\n'));
      if (!rateLimits.met) process.stderr.write("bench: the rate limits' cost is over its target (reported above)\n");
      process.stderr.write(`bench: site cost: ${siteSamples} sites made and deleted…\n`);
      const lines = await siteCost({ url, token: operatorToken }, siteSamples, args.store, userplane?.child.pid);
      process.stdout.write([...lines, ''].join('\n'));
    }
  }
  if (args.metrics && !(await countedRun(url, `${properties}/bench-key`, auth, connections))) code = 1;
  return code;
}

/** DATABASE_URL when it names PostgreSQL, else an embedded server started here and stopped in cleanUp. */
async function postgresUrl(): Promise<string> {
  const external = process.env.DATABASE_URL;
  if (external?.startsWith('postgres')) return external;
  process.stderr.write('bench: starting an embedded PostgreSQL…\n');
  embedded = await startPostgres({ restartable: true });
  return embedded.url;
}

/**
 * Writes the seed into a temporary directory and starts `userplane serve` on
 * it, with a SQLite file there unless `databaseUrl` names PostgreSQL.
 */
async function startUserplane(
  databaseUrl: string | undefined,
  { seeded = true } = {},
): Promise<{ url: string; child: ChildProcess }> {
  tmpDir ??= mkdtempSync(join(tmpdir(), 'userplane-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const seed = join(tmpDir, 'seed.json');
  writeFileSync(
    seed,
    JSON.stringify({
      site: {
        baseUrl: url,
        maxPropertiesPerUser: 1000,
        ...(args['journal-size'] !== undefined && { journalSize: Number(args['journal-size']) }),
        ...(args['rate-limits'] !== undefined && { rateLimits: rateLimitsArg(args['rate-limits']) }),
      },
      groups: ['confluence-users', 'confluence-admins'],
      users: [
        {
          accountId: BENCH_USER.accountId,
          email: BENCH_USER.email,
          displayName: 'Bench',
          groups: ['confluence-users'],
          apiTokens: [BENCH_USER.token],
        },
      ],
      apps: [BENCH_APP],
    }),
  );
  if (seeded) build();
  const child = startChild([
    'dist/cli.js',
    'serve',
    ...['--port', String(port), '--host', '127.0.0.1', '--base-url', url, '--log-level', 'warn'],
    ...['--database', databaseUrl ?? `sqlite:${join(tmpDir, 'bench.db')}`, ...(seeded ? ['--seed', seed] : [])],
    ...(databaseUrl ? ['--secret-key', BENCH_SECRET_KEY] : []),
    ...['--operator-token', BENCH_OPERATOR_TOKEN],
    ...(args.metrics ? ['--metrics'] : []),
  ]);
  return { url, child };
}

/**
 * `--scale N[,M…]` (bench/scale.ts): one database per size (SQLite files in
 * the bench's folder; databases made on the PostgreSQL server), each served
 * by a server of its own, started first with the given seed, then on the
 * loaded data.
 */
async function scaleRun(
  counts: number[],
  databaseUrl: string | undefined,
  load: { connections: number; duration: number },
): Promise<number> {
  const folder = mkdtempSync(join(tmpdir(), 'userplane-bench-'));
  tmpDir = folder;
  build();
  return scaleBench({
    counts,
    databaseUrl,
    folder,
    secretKey: BENCH_SECRET_KEY,
    operatorToken: BENCH_OPERATOR_TOKEN,
    ...load,
    async serve(database, port, seed) {
      const url = `http://127.0.0.1:${port}`;
      const seedFile = join(folder, `seed-${port}.json`);
      if (seed)
        writeFileSync(
          seedFile,
          JSON.stringify({ ...seed, site: { baseUrl: url, ...(seed as { site?: object }).site } }),
        );
      const child = startChild([
        'dist/cli.js',
        'serve',
        ...['--port', String(port), '--host', '127.0.0.1', '--base-url', url, '--log-level', 'warn'],
        ...['--database', database, '--secret-key', BENCH_SECRET_KEY],
        ...['--operator-token', BENCH_OPERATOR_TOKEN],
        ...(seed ? ['--seed', seedFile] : []),
      ]);
      await waitUntilReady(`${url}/readyz`, child);
      return { url, child };
    },
    async stop(child) {
      stopped.add(child);
      await stopChild(child);
      children.splice(children.indexOf(child), 1);
    },
  });
}

/** Compiles src/ to dist/, so the figures are those of the JavaScript production runs. */
function build(): void {
  process.stderr.write('bench: npm run build…\n');
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`npm run build failed (${result.error ?? `exit ${result.status}`})`);
}

/** `args`: node's arguments. */
function startChild(args: string[]): ChildProcess {
  // Its own process group: a Ctrl-C reaches only us, and we stop the children once, in cleanUp.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  // Pass on log lines (JSON) but not the first-start banner, which shows a throwaway admin's token.
  let logLines = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    logLines++;
    if (logLines <= ECHOED_LOG_LINES) process.stderr.write(`${line.length > 500 ? `${line.slice(0, 500)}…` : line}\n`);
    else if (logLines === ECHOED_LOG_LINES + 1) process.stderr.write('bench: (further log lines only counted)\n');
  });
  const script = args.find((arg) => arg.endsWith('.js') || arg.endsWith('.ts'));
  child.once('exit', (code, signal) => {
    if (logLines > ECHOED_LOG_LINES) process.stderr.write(`bench: ${logLines} log lines in all from ${script}\n`);
    if (!cleaning && !stopped.has(child))
      process.stderr.write(`bench: ${script} exited while in use (${signal ?? `code ${code}`})\n`);
  });
  children.push(child);
  return child;
}

async function waitUntilReady(url: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the server for ${url} exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await delay(100);
  }
  throw new Error(`${url} did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
}

async function createProperty(url: string, headers: Record<string, string>, value: object): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ value }) });
  const text = await response.text();
  // 409: left by an earlier run against the same --url server; the bench only reads and overwrites it.
  if (response.status !== 201 && response.status !== 409) throw new Error(`POST ${url}: ${response.status} ${text}`);
}

/** A short unmeasured run first, so JIT warm-up and connection set-up stay out of the figures. */
async function measure(options: autocannon.Options): Promise<autocannon.Result> {
  await autocannon({ ...options, duration: WARM_UP_SECONDS });
  return autocannon(options);
}

function report(runs: Run[], connections: number, postgres: boolean): void {
  const yardstick = runs[0]!.result.requests.average;
  const find = (name: string) => runs.find((run) => run.name === name)?.result;
  // On PostgreSQL each property route is also read against raw pg doing its one statement.
  const rawOf: Record<string, string> = { 'property GET': RAW.read, 'property PUT': RAW.upsert, list: RAW.read };
  const rawRatio = (name: string) => {
    const raw = rawOf[name] === undefined ? undefined : find(rawOf[name]);
    return raw === undefined ? undefined : (find(name)?.requests.average ?? 0) / raw.requests.average;
  };
  const rows = [
    ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'vs yardstick', ...(postgres ? ['vs raw pg'] : [])],
    ...runs.map(({ name, result }) => [
      name,
      result.requests.average.toFixed(0),
      String(result.latency.p50),
      String(result.latency.p99),
      `${result.errors}/${result.non2xx}`,
      `${(result.requests.average / yardstick).toFixed(2)}×`,
      ...(postgres ? [rawRatio(name) === undefined ? '' : `${rawRatio(name)!.toFixed(2)}×`] : []),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');

  const worstP99 = Math.max(...runs.slice(1).map(({ result }) => result.latency.p99));
  const mark = (met: boolean) => (met ? 'met' : 'MISSED');
  const figures = (result: autocannon.Result) =>
    `${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`;
  const p99Ratio = (name: string) => find(name)!.latency.p99 / Math.max(1, find(rawOf[name]!)!.latency.p99);
  const judged = postgres
    ? [
        `against raw pg (the same statement's work without userplane; both pools ${POOL_SIZE} connections):`,
        ...Object.entries(rawOf).map(
          ([name, raw]) =>
            `  ${name}: ${figures(find(name)!)}; ${rawRatio(name)!.toFixed(2)}× ${raw} (${figures(find(raw)!)}); ` +
            `p99 ${p99Ratio(name).toFixed(2)}× raw`,
        ),
      ]
    : [
        'targets:',
        `  (the ratios to the yardstick are judged on the alternating rounds below: GET ≥ ${TARGETS.getRatio}×, PUT ≥ ${TARGETS.putRatio}×, list ≥ ${TARGETS.listRatio}×)`,
        `  p99 ≤ ${TARGETS.p99Ms} ms at ${TARGETS.p99Connections} connections: worst of all scenarios ${worstP99} ms ` +
          (connections === TARGETS.p99Connections
            ? mark(worstP99 <= TARGETS.p99Ms)
            : `not judged (ran at ${connections})`),
      ];
  const out = [
    '',
    `machine: ${cpus().length} cores, node ${process.version}; ${connections} connections, ${runs[0]!.result.duration} s per run` +
      (postgres ? '; store: PostgreSQL' : ''),
    ...(args.metrics && args.url === undefined
      ? ['the server runs with --metrics: its figures include the metrics hook']
      : []),
    '',
    ...rows.map(line),
    '',
    ...judged,
    '',
  ];
  process.stdout.write(out.join('\n'));
}

/**
 * Mixed GET/PUT at a steady rate while PostgreSQL goes away and comes back
 * (docs/operations.md, "Losing the database"): every request must be answered, with a 2xx or a 503 carrying
 * Retry-After, and 2xx must come back once PostgreSQL is up. An embedded
 * server is stopped and started; under DATABASE_URL, which the bench cannot
 * stop, userplane's connections are ended with pg_terminate_backend
 * throughout the same window instead.
 */
async function outage(target: {
  property: string;
  auth: Record<string, string>;
  json: Record<string, string>;
  putBody: string;
  connections: number;
  server: ChildProcess;
}): Promise<boolean> {
  type Phase = 'before' | 'down' | 'after';
  const counts: Record<Phase, Map<number, number>> = { before: new Map(), down: new Map(), after: new Map() };
  let phase: Phase = 'before';
  let without = 0;
  let upAt = 0;
  let firstAnswerAfter: number | undefined;
  let firstSuccessAfter: number | undefined;
  const onResponse = (status: number, _body: string, _context: object, headers?: IncomingHttpHeaders) => {
    counts[phase].set(status, (counts[phase].get(status) ?? 0) + 1);
    if (status === 503 && !Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'retry-after')) without++;
    if (phase === 'after') {
      firstAnswerAfter ??= Date.now() - upAt;
      if (status < 300) firstSuccessAfter ??= Date.now() - upAt;
    }
  };
  const amount = OUTAGE.rate * OUTAGE.seconds;
  process.stderr.write(
    `bench: outage: ${amount} requests at ${OUTAGE.rate}/s; PostgreSQL goes away after ${OUTAGE.downAfterSeconds} s for ${OUTAGE.downForSeconds} s…\n`,
  );
  const load = autocannon({
    url: target.property,
    connections: Math.min(target.connections, OUTAGE.rate),
    overallRate: OUTAGE.rate,
    amount,
    requests: [
      { method: 'GET', headers: target.auth, onResponse },
      { method: 'PUT', headers: target.json, body: target.putBody, onResponse },
    ],
  });
  await delay(OUTAGE.downAfterSeconds * 1000);
  phase = 'down';
  if (embedded) {
    process.stderr.write('bench: outage: stopping PostgreSQL\n');
    await embedded.halt();
    await delay(OUTAGE.downForSeconds * 1000);
    process.stderr.write('bench: outage: starting PostgreSQL\n');
    await embedded.resume();
  } else {
    process.stderr.write(
      "bench: outage: DATABASE_URL's server cannot be stopped from here; ending userplane's connections to it instead\n",
    );
    await terminateConnections(process.env.DATABASE_URL!, OUTAGE.downForSeconds * 1000);
  }
  upAt = Date.now();
  phase = 'after';
  const result = await load;
  const resumed = await answersAgain(target.property, target.auth);

  const all = new Map<number, number>();
  for (const map of Object.values(counts)) for (const [status, n] of map) all.set(status, (all.get(status) ?? 0) + n);
  const show = (map: Map<number, number>) =>
    [...map]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ') || 'none';
  const unexpected = [...all.keys()].filter((status) => !(status >= 200 && status < 300) && status !== 503);
  const answered = [...all.values()].reduce((sum, n) => sum + n, 0);
  // With `amount`, each connection sends its share and stops, so exactly `amount` were sent
  // (autocannon's own `requests.sent` over-counts the first requests under `overallRate`).
  const unanswered = amount - answered;
  const successesAfter = [...counts.after].filter(([status]) => status < 300).reduce((sum, [, n]) => sum + n, 0);
  const problems = [
    ...(unexpected.length > 0 ? [`statuses other than 2xx and 503: ${unexpected.join(', ')}`] : []),
    ...(without > 0 ? [`${without} 503s without Retry-After`] : []),
    ...(result.errors > 0 ? [`${result.errors} connection errors (${result.timeouts} of them timeouts)`] : []),
    ...(unanswered > 0 ? [`${unanswered} requests sent and never answered`] : []),
    ...(successesAfter === 0 ? ['no 2xx after PostgreSQL came back'] : []),
    ...(resumed ? [] : ['a GET after the run was not answered 200']),
    ...(target.server.exitCode === null && target.server.signalCode === null
      ? []
      : [`the server exited (${target.server.signalCode ?? `code ${target.server.exitCode}`})`]),
  ];
  const out = [
    '',
    `outage: ${amount} requests sent (GET and PUT alternating, ${OUTAGE.rate}/s), ${answered} answered`,
    `  before:  ${show(counts.before)}`,
    `  down:    ${show(counts.down)}`,
    `  after:   ${show(counts.after)}` +
      (firstSuccessAfter === undefined
        ? ''
        : `; first answer ${firstAnswerAfter} ms, first 2xx ${firstSuccessAfter} ms after PostgreSQL was up (the load is paced per second)`),
    `  in all:  ${show(all)}; 503 without Retry-After: ${without}; connection errors: ${result.errors}`,
    ...(all.has(503) ? [] : ['  note: no 503 at all; the outage may have fallen between requests']),
    problems.length === 0
      ? 'outage: PASS (only 2xx and 503 with Retry-After, every request answered, service resumed)'
      : `outage: FAIL (${problems.join('; ')})`,
    '',
  ];
  process.stdout.write(out.join('\n'));
  return problems.length === 0;
}

/** Ends userplane's connections (application_name 'userplane', src/store/postgres.ts) again and again for `ms`. */
async function terminateConnections(databaseUrl: string, ms: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'userplane-bench' });
  await client.connect();
  try {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'userplane' AND pid <> pg_backend_pid()",
      );
      await delay(100);
    }
  } finally {
    await client.end();
  }
}

/** A GET answered 200 within ten seconds. */
async function answersAgain(url: string, headers: Record<string, string>): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const response = await fetch(url, { headers }).catch(() => undefined);
    await response?.arrayBuffer();
    if (response?.status === 200) return true;
    await delay(200);
  }
  return false;
}

/**
 * `--metrics`: a fixed number of property GETs (so none is left in flight
 * when the run ends), then the server's request counter for the route, read
 * from `/metrics` before and after, must have grown by exactly as many.
 */
async function countedRun(
  url: string,
  property: string,
  auth: Record<string, string>,
  connections: number,
): Promise<boolean> {
  process.stderr.write(`bench: metrics: ${COUNTED_REQUESTS} counted property GETs…\n`);
  const before = await routeCount(url);
  const result = await autocannon({ url: property, headers: auth, connections, amount: COUNTED_REQUESTS });
  const after = await routeCount(url);
  const counted = after - before;
  const sent = result.requests.sent;
  const matches = counted === sent && result.requests.total === sent;
  process.stdout.write(
    [
      '',
      `metrics: GET ${PROPERTY_ROUTE}: the load generator sent ${sent} (${result.requests.total} answered); ` +
        `userplane_http_requests_total grew by ${counted}`,
      matches ? 'metrics: PASS (the counts match)' : 'metrics: FAIL (the counts differ)',
      '',
    ].join('\n'),
  );
  return matches;
}

/** The sum of `userplane_http_requests_total` for GETs of the property route, over all statuses. */
async function routeCount(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`GET ${url}/metrics: ${response.status} (is the server run with --metrics?)`);
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^userplane_http_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    if (labels.method === 'GET' && labels.route === PROPERTY_ROUTE) total += Number(match[2]);
  }
  return total;
}

function positiveInteger(value: string, option: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`${option} must be a positive integer, not "${value}"`);
  return Number(value);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(kill);
}

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= Promise.all(children.map(stopChild)).then(async () => {
    await embedded?.stop();
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  });
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().then(() => process.exit(128 + constants.signals[signal])));
}

main()
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  )
  .finally(cleanUp);

/** `--rate-limits`: `off`, `atlassian`, or a JSON object of overrides. */
function rateLimitsArg(raw: string): unknown {
  return raw.trimStart().startsWith('{') ? JSON.parse(raw) : raw;
}
