/**
 * `npm run bench`: throughput and latency of the hot user-property routes,
 * loaded with autocannon over loopback against a real server process (the
 * compiled one that production runs: the bench runs `npm run build` first), and
 * read against a yardstick (bench/yardstick.ts, bare Fastify) measured in the
 * same run, so the ratios mean something on any machine. A report only: no
 * test asserts timings. Exits non-zero when a run saw connection
 * errors or non-2xx responses, since its figures then measure the wrong thing.
 *
 *   npm run bench [-- --duration SECONDS --connections N]
 *   npm run bench -- --url URL [--email E --token T --account-id ID]   bench a running server
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { basicAuth } from '../test/helpers/credentials.ts';
import { freePort } from '../test/helpers/net.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_USER = { accountId: '712020:bench', email: 'bench@example.com', token: 'bench-token-0123456789' };
const WARM_UP_SECONDS = 1;
const READY_TIMEOUT_MS = 30_000;
const LIST_KEYS = 25;

const TARGETS = { getRatio: 0.5, putRatio: 0.35, p99Ms: 10, p99Connections: 50 };

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    url: { type: 'string' },
    email: { type: 'string', default: BENCH_USER.email },
    token: { type: 'string', default: BENCH_USER.token },
    'account-id': { type: 'string', default: BENCH_USER.accountId },
  },
});

const children: ChildProcess[] = [];
let tmpDir: string | undefined;

interface Run {
  name: string;
  result: autocannon.Result;
}

async function main(): Promise<number> {
  const duration = positiveInteger(args.duration, '--duration');
  const connections = positiveInteger(args.connections, '--connections');

  const yardstickPort = await freePort();
  const yardstick = startChild(['--import', 'tsx', 'bench/yardstick.ts', String(yardstickPort)]);
  const yardstickUrl = `http://127.0.0.1:${yardstickPort}`;
  const userplane = args.url === undefined ? await startUserplane() : undefined;
  const url = userplane?.url ?? args.url!;
  await waitUntilReady(`${yardstickUrl}/fixed`, yardstick);
  await waitUntilReady(`${url}/readyz`, userplane?.child);

  const auth = basicAuth(args.email, args.token);
  const json = { ...auth, 'content-type': 'application/json' };
  // accountIds are [A-Za-z0-9:_-] (src/schemas/seed.ts), so they need no percent-encoding.
  const properties = `${url}/wiki/rest/api/user/${args['account-id']}/property`;
  await createProperty(`${properties}/bench-key`, json, { dark: true, size: 12 });
  for (let i = 0; i < LIST_KEYS; i++) await createProperty(`${properties}/bench-list-${i}`, json, { i });

  const putBody = JSON.stringify({ value: { dark: false, size: 13 } });
  const scenarios: Array<{ name: string; options: autocannon.Options }> = [
    { name: 'yardstick', options: { url: `${yardstickUrl}/fixed` } },
    { name: 'property GET', options: { url: `${properties}/bench-key`, headers: auth } },
    { name: 'property PUT', options: { url: `${properties}/bench-key`, method: 'PUT', headers: json, body: putBody } },
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

  report(runs, connections);
  const failed = runs.filter(({ result }) => result.errors + result.non2xx > 0);
  for (const { name, result } of failed) {
    process.stderr.write(`bench: WARNING ${name} had ${result.errors} errors and ${result.non2xx} non-2xx responses\n`);
  }
  return failed.length > 0 ? 1 : 0;
}

/** Writes the seed into a temporary directory and starts `userplane serve` on it. */
async function startUserplane(): Promise<{ url: string; child: ChildProcess }> {
  tmpDir = mkdtempSync(join(tmpdir(), 'userplane-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const seed = join(tmpDir, 'seed.json');
  writeFileSync(
    seed,
    JSON.stringify({
      site: { baseUrl: url, maxPropertiesPerUser: 1000 },
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
    }),
  );
  build();
  const child = startChild([
    'dist/cli.js',
    'serve',
    ...['--port', String(port), '--host', '127.0.0.1', '--base-url', url, '--log-level', 'warn'],
    ...['--database', `sqlite:${join(tmpDir, 'bench.db')}`, '--seed', seed],
  ]);
  return { url, child };
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
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) process.stderr.write(`${line}\n`);
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

function report(runs: Run[], connections: number): void {
  const yardstick = runs[0]!.result.requests.average;
  const ratio = (name: string) => (runs.find((run) => run.name === name)?.result.requests.average ?? 0) / yardstick;
  const rows = [
    ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'vs yardstick'],
    ...runs.map(({ name, result }) => [
      name,
      result.requests.average.toFixed(0),
      String(result.latency.p50),
      String(result.latency.p99),
      `${result.errors}/${result.non2xx}`,
      `${(result.requests.average / yardstick).toFixed(2)}×`,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');

  const worstP99 = Math.max(...runs.slice(1).map(({ result }) => result.latency.p99));
  const mark = (met: boolean) => (met ? 'met' : 'MISSED');
  const out = [
    '',
    `machine: ${cpus().length} cores, node ${process.version}; ${connections} connections, ${runs[0]!.result.duration} s per run`,
    '',
    ...rows.map(line),
    '',
    'targets:',
    `  property GET ≥ ${TARGETS.getRatio}× yardstick: ${ratio('property GET').toFixed(2)}× ${mark(ratio('property GET') >= TARGETS.getRatio)}`,
    `  property PUT ≥ ${TARGETS.putRatio}× yardstick: ${ratio('property PUT').toFixed(2)}× ${mark(ratio('property PUT') >= TARGETS.putRatio)}`,
    `  p99 ≤ ${TARGETS.p99Ms} ms at ${TARGETS.p99Connections} connections: worst of all scenarios ${worstP99} ms ` +
      (connections === TARGETS.p99Connections ? mark(worstP99 <= TARGETS.p99Ms) : `not judged (ran at ${connections})`),
    '',
  ];
  process.stdout.write(out.join('\n'));
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
  cleaning ??= Promise.all(children.map(stopChild)).then(() => {
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
