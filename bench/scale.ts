/**
 * `npm run bench -- --scale N[,M…] [--store postgres]`: the hot property
 * routes with N properties in the store (docs/operations.md, "Scale").
 * Several sizes, such as `--scale 10000,10000000`, are each loaded into a
 * database of their own and served by a server of their own, and every
 * scenario then runs in alternating rounds over them, so other work on the
 * machine falls on every size alike; the last size is read against the first.
 *
 * For each size:
 * 1. A server starts on an empty database with the bench's seed (the default
 *    site, its groups), and the operator makes the other sites (one per
 *    SITE_SHARE properties, at least one: the default site is always among
 *    them and is the one measured); then it stops.
 * 2. The load goes straight into the store's own tables, generated a batch at
 *    a time and never held whole in memory: N/10 users spread round-robin
 *    over the sites, each in confluence-users with one API token, stored as
 *    the product stores it (the HMAC digest of domain/secrets.ts, under the
 *    key the server is given), and 10 properties each. SQLite: prepared
 *    inserts through better-sqlite3, one transaction per 100 batches, with
 *    the server stopped (it holds the file under an exclusive lock).
 *    PostgreSQL (a database per size, made on the server and dropped at the
 *    end): one INSERT … SELECT FROM unnest(…) per table and batch, each column
 *    one array parameter (pg-copy-streams, for COPY, is not a dependency).
 * 3. The server starts again on the loaded database, and autocannon measures
 *    property GET, PUT and list (`?limit=25`), each request for a random
 *    property of a random user out of a sample of SAMPLE_USERS users of the
 *    default site, with that user's own Basic credential. The sample is the
 *    same size at every N, so the one-second credential cache sees the same
 *    hit rate and only the size of the data differs.
 *
 * Reported: load time, database size on disk (the SQLite file and its WAL;
 * PostgreSQL's pg_database_size), the server's resident memory (VmRSS) after
 * start and after the runs, and each route's req/s, p50 and p99 (with
 * several sizes, the median of the rounds), and the last size against the
 * first with the scale targets (docs/operations.md, "Scale").
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Secrets } from '../src/domain/secrets.ts';
import { basicAuth } from '../test/helpers/credentials.ts';
import { freePort } from '../test/helpers/net.ts';
import { createSite } from './sites.ts';

/** Properties per user: N/10 users. */
const PER_USER = 10;
/** Users per batch: their tokens and memberships, and their properties (PER_USER × BATCH), in one statement each on PostgreSQL. */
const BATCH = 1000;
/** Batches per transaction on SQLite. */
const SQLITE_BATCHES_PER_TRANSACTION = 100;
/** One site per this many properties, at least one. */
const SITE_SHARE = 2_500_000;
/** Users whose properties the load reads and writes: the same number at every N. */
const SAMPLE_USERS = 1000;
const LIST_LIMIT = 25;
/** Alternating rounds per scenario when several sizes are measured. */
const ROUNDS = 3;
const WARM_UP_SECONDS = 1;
const GROUP = 'confluence-users';

export interface ScaleServer {
  url: string;
  child: ChildProcess;
}

export interface ScaleOptions {
  /** The sizes, each in a database of its own; with several, the first is the baseline the others are read against. */
  counts: number[];
  /** PostgreSQL: the server's URL, each size getting a database of its own on it; undefined for SQLite files in `folder`. */
  databaseUrl: string | undefined;
  folder: string;
  secretKey: string;
  operatorToken: string;
  connections: number;
  duration: number;
  /** Starts `userplane serve` on `database` at `port`, with the seed when given, and waits until it is ready. */
  serve(database: string, port: number, seed: object | undefined): Promise<ScaleServer>;
  stop(child: ChildProcess): Promise<void>;
}

interface Site {
  id: number;
  groupId: string;
}

/** One size: its database, its server and its figures. */
interface Size {
  count: number;
  users: number;
  siteCount: number;
  /** `--database` for the server. */
  database: string;
  /** The database's own URL (PostgreSQL) or file (SQLite). */
  location: string;
  port: number;
  loadSeconds: number;
  bytes: number;
  server?: ScaleServer;
  rss: number[];
  results: Map<string, autocannon.Result[]>;
}

/**
 * The load written through to the disk before anything is measured: the
 * SQLite load runs with synchronous=OFF and PostgreSQL's may too, leaving
 * gigabytes of dirty pages in the OS's cache, and their writeback (the
 * kernel's, on the same two cores and disk) fell into the first rounds at ten
 * million and moved the GET's p50 by up to 1.7×. Counted in the load time.
 * `sync(1)` flushes the whole machine; where there is none, nothing is done.
 */
function flushToDisk(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

/** The n-th loaded user (0-based): ids zero-padded, so insertion order is index order. */
const accountId = (n: number) => `712020:scale-${String(n).padStart(9, '0')}`;
const email = (n: number) => `scale-${n}@example.com`;
const token = (n: number) => `scale-token-${n}-0123456789`;
const propertyKey = (k: number) => `key-${k}`;
const propertyValue = (n: number, k: number) => `{"theme":"dark","n":${n},"k":${k},"tags":["a","b"]}`;
const SCENARIOS = ['property GET', 'property PUT', 'list'] as const;
/** How far each route may slow down from the first size to the last (docs/operations.md, "Scale"): p50 and p99. */
const TARGETS: Record<(typeof SCENARIOS)[number], number> = { 'property GET': 1.3, 'property PUT': 1.3, list: 1.5 };

export async function scaleBench(options: ScaleOptions): Promise<number> {
  const postgres = options.databaseUrl !== undefined;
  const stamp = Date.now().toString(36);
  const sizes: Size[] = [];
  for (const count of options.counts) sizes.push(await loadSize(options, count, stamp));

  for (const size of sizes) {
    size.server = await options.serve(size.database, size.port, undefined);
    size.rss.push(rss(size.server.child));
  }
  // With several sizes, each scenario runs in alternating rounds over them, so
  // other work on the machine falls on every size alike; the figures are each round's median.
  const rounds = sizes.length > 1 ? ROUNDS : 1;
  for (const scenario of SCENARIOS) {
    for (let round = 0; round < rounds; round++) {
      for (const size of sizes) {
        process.stderr.write(
          `bench: scale: ${scenario}, ${size.count} properties${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ''}…\n`,
        );
        const run = {
          url: size.server!.url,
          connections: options.connections,
          requests: [scenarioRequest(scenario, sampleOf(size))],
        };
        await autocannon({ ...run, duration: WARM_UP_SECONDS });
        const result = await autocannon({ ...run, duration: options.duration });
        size.results.set(scenario, [...(size.results.get(scenario) ?? []), result]);
      }
    }
  }
  for (const size of sizes) size.rss.push(rss(size.server!.child));

  const table = [
    ['properties', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors/non-2xx'],
    ...sizes.flatMap((size) =>
      SCENARIOS.map((scenario) => {
        const results = size.results.get(scenario)!;
        return [
          String(size.count),
          scenario,
          median(results.map((r) => r.requests.average)).toFixed(0),
          String(median(results.map((r) => r.latency.p50))),
          String(median(results.map((r) => r.latency.p99))),
          `${sum(results.map((r) => r.errors))}/${sum(results.map((r) => r.non2xx))}`,
        ];
      }),
    ),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  const [first, last] = [sizes[0]!, sizes.at(-1)!];
  const figure = (size: Size, scenario: string, pick: (r: autocannon.Result) => number) =>
    median(size.results.get(scenario)!.map(pick));
  const judged =
    sizes.length > 1
      ? [
          `${last.count} against ${first.count} (median of ${rounds} alternating rounds; targets: GET and PUT p50 and p99 within 1.3×, list within 1.5×):`,
          ...SCENARIOS.map((scenario) => {
            const ratio = (pick: (r: autocannon.Result) => number) =>
              figure(last, scenario, pick) / Math.max(figure(first, scenario, pick), 1);
            const p50 = ratio((r) => r.latency.p50);
            const p99 = ratio((r) => r.latency.p99);
            const met = p50 <= TARGETS[scenario] && p99 <= TARGETS[scenario];
            return `  ${scenario}: p50 ${p50.toFixed(2)}×, p99 ${p99.toFixed(2)}×, req/s ${ratio((r) => r.requests.average).toFixed(2)}× ${met ? 'met' : 'MISSED'}`;
          }),
        ]
      : [];
  process.stdout.write(
    [
      '',
      `machine: ${cpus().length} cores, node ${process.version}; store: ${postgres ? 'PostgreSQL' : 'SQLite'}; ` +
        `${options.connections} connections, ${options.duration} s per run`,
      ...sizes.map(
        (size) =>
          `${size.count} properties: ${size.users} users, ${size.siteCount} site(s); ` +
          `load ${size.loadSeconds.toFixed(1)} s (${Math.round(size.count / size.loadSeconds)} properties/s, users and tokens included); ` +
          `on disk ${mebibytes(size.bytes)}; server VmRSS ${mebibytes(size.rss[0]!)} after start, ${mebibytes(size.rss[1]!)} after the runs`,
      ),
      `requests spread over ${SAMPLE_USERS} users of the default site (all of them when it has fewer)`,
      '',
      ...table.map(line),
      '',
      ...judged,
      ...(judged.length > 0 ? [''] : []),
    ].join('\n'),
  );
  for (const size of sizes) await options.stop(size.server!.child);
  if (postgres) await dropDatabases(options.databaseUrl!, sizes);
  const failed = sizes.flatMap((size) =>
    [...size.results]
      .filter(([, results]) => results.some((r) => r.errors + r.non2xx > 0))
      .map(([name]) => `${name} at ${size.count}`),
  );
  for (const name of failed) process.stderr.write(`bench: WARNING ${name} had errors or non-2xx responses\n`);
  return failed.length > 0 ? 1 : 0;
}

/** Makes the size's database, its sites, and loads it; the server is stopped again afterwards. */
async function loadSize(options: ScaleOptions, count: number, stamp: string): Promise<Size> {
  if (count % PER_USER !== 0) throw new Error(`--scale: ${count} is not a multiple of ${PER_USER}`);
  const users = count / PER_USER;
  const siteCount = Math.max(1, Math.ceil(count / SITE_SHARE));
  const postgres = options.databaseUrl !== undefined;
  const location = postgres
    ? await createDatabase(options.databaseUrl!, `userplane_scale_${count}_${stamp}`)
    : join(options.folder, `scale-${count}.db`);
  const size: Size = {
    count,
    users,
    siteCount,
    database: postgres ? location : `sqlite:${location}`,
    location,
    port: await freePort(),
    loadSeconds: 0,
    bytes: 0,
    rss: [],
    results: new Map(),
  };

  process.stderr.write(`bench: scale: ${count}: preparing the sites…\n`);
  const server = await options.serve(size.database, size.port, {
    site: { maxPropertiesPerUser: 1000 },
    groups: [GROUP, 'confluence-admins'],
  });
  const operator = { url: server.url, token: options.operatorToken };
  const siteNames = Array.from({ length: siteCount - 1 }, (_, i) => `scale-${stamp}-${i + 1}`);
  for (const name of siteNames) await createSite(operator, name, { groups: [GROUP] });
  await options.stop(server.child);

  const secrets = new Secrets(options.secretKey);
  const started = performance.now();
  const loader = postgres ? await postgresLoader(location) : sqliteLoader(location);
  try {
    const sites = await loader.sites(siteNames);
    process.stderr.write(`bench: scale: loading ${count} properties for ${users} users over ${siteCount} site(s)…\n`);
    let lastReport = started;
    for (let first = 0; first < users; first += BATCH) {
      const last = Math.min(users, first + BATCH);
      await loader.users(first, last, sites, secrets);
      await loader.properties(first, last, sites);
      // A turn of the event loop per batch, so a Ctrl-C is heard during a long load.
      await new Promise((resolve) => setImmediate(resolve));
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        process.stderr.write(
          `bench: scale: ${last * PER_USER} of ${count} properties, ${((lastReport - started) / 1000).toFixed(0)} s\n`,
        );
      }
    }
    await loader.finish();
  } finally {
    await loader.close();
  }
  size.loadSeconds = (performance.now() - started) / 1000;
  size.bytes = postgres ? await postgresSize(location) : sqliteSize(location);
  return size;
}

/** The users requests go to: up to SAMPLE_USERS of the default site's (index ≡ 0 mod siteCount), spread over its whole range. */
function sampleOf(size: Size): Array<{ id: string; auth: string }> {
  const onDefault = Math.ceil(size.users / size.siteCount);
  const length = Math.min(SAMPLE_USERS, onDefault);
  return Array.from({ length }, (_, i) => {
    const n = Math.floor((i * onDefault) / length) * size.siteCount;
    return { id: accountId(n), auth: basicAuth(email(n), token(n)).authorization! };
  });
}

const PUT_BODY = JSON.stringify({ value: { theme: 'light', n: 1, tags: ['c'] } });

/** One scenario's request, each for a random user of the sample (and a random one of their keys), with their credential. */
function scenarioRequest(
  scenario: (typeof SCENARIOS)[number],
  sample: Array<{ id: string; auth: string }>,
): autocannon.Request {
  const pick = () => sample[Math.floor(Math.random() * sample.length)]!;
  const to = (request: autocannon.Request, path: string, auth: string) => ({
    ...request,
    path,
    headers: { ...request.headers, authorization: auth },
  });
  const property = (request: autocannon.Request) => {
    const user = pick();
    const key = propertyKey(Math.floor(Math.random() * PER_USER));
    return to(request, `/wiki/rest/api/user/${user.id}/property/${key}`, user.auth);
  };
  if (scenario === 'property GET') return { method: 'GET', setupRequest: property };
  if (scenario === 'property PUT') {
    return {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: PUT_BODY,
      setupRequest: property,
    };
  }
  return {
    method: 'GET',
    setupRequest: (request) => {
      const user = pick();
      return to(request, `/wiki/rest/api/user/${user.id}/property?limit=${LIST_LIMIT}`, user.auth);
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

interface Loader {
  /** The default site first, then `names` in order. */
  sites(names: string[]): Promise<Site[]>;
  /** Users [first, last), with their group membership and token. */
  users(first: number, last: number, sites: Site[], secrets: Secrets): Promise<void>;
  /** The properties of users [first, last). */
  properties(first: number, last: number, sites: Site[]): Promise<void>;
  finish(): Promise<void>;
  close(): Promise<void>;
}

function userRow(n: number, site: Site, now: string) {
  return [
    site.id,
    accountId(n),
    'atlassian',
    email(n),
    email(n),
    `Scale user ${n}`,
    `Scale user ${n}`,
    'UTC',
    'anyone',
    null,
    null,
    0,
    1,
    now,
  ];
}
const USER_COLUMNS =
  'site_id, account_id, account_type, email, email_lower, display_name, public_name, time_zone, email_visibility, username, user_key, external_collaborator, active, created_at';
const TOKEN_COLUMNS = 'site_id, id, account_id, name, digest, created_at, expires_at';
const MEMBER_COLUMNS = 'site_id, group_id, account_id';
const PROPERTY_COLUMNS = 'site_id, product, namespace, account_id, key, value, version, created_at, updated_at';

const tokenRow = (n: number, site: Site, secrets: Secrets, now: string) => [
  site.id,
  `scale-token-id-${n}`,
  accountId(n),
  'scale',
  secrets.digest(token(n)),
  now,
  null,
];

function sqliteLoader(path: string): Loader {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // A bulk load into a fresh file: a crash means loading again, so no fsync per transaction.
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = ON');
  const placeholders = (n: number) => `(${Array(n).fill('?').join(', ')})`;
  const insertUser = db.prepare(`INSERT INTO users (${USER_COLUMNS}) VALUES ${placeholders(14)}`);
  const insertMember = db.prepare(`INSERT INTO group_members (${MEMBER_COLUMNS}) VALUES ${placeholders(3)}`);
  const insertToken = db.prepare(`INSERT INTO api_tokens (${TOKEN_COLUMNS}) VALUES ${placeholders(7)}`);
  const insertProperty = db.prepare(`INSERT INTO properties (${PROPERTY_COLUMNS}) VALUES ${placeholders(9)}`);
  let batches = 0;
  const commitNow = () => {
    if (++batches % SQLITE_BATCHES_PER_TRANSACTION === 0 && db.inTransaction) db.exec('COMMIT');
  };
  const begin = () => {
    if (!db.inTransaction) db.exec('BEGIN');
  };
  return {
    async sites(names) {
      return sitesOf(names, (sql, params) => db.prepare(sql).all(...params) as Array<Record<string, unknown>>);
    },
    async users(first, last, sites, secrets) {
      begin();
      const now = new Date().toISOString();
      for (let n = first; n < last; n++) {
        const site = sites[n % sites.length]!;
        insertUser.run(...userRow(n, site, now));
        insertMember.run(site.id, site.groupId, accountId(n));
        insertToken.run(...tokenRow(n, site, secrets, now));
      }
    },
    async properties(first, last, sites) {
      const now = new Date().toISOString();
      for (let n = first; n < last; n++) {
        const site = sites[n % sites.length]!;
        for (let k = 0; k < PER_USER; k++) {
          insertProperty.run(site.id, 'confluence', '', accountId(n), propertyKey(k), propertyValue(n, k), 1, now, now);
        }
      }
      commitNow();
    },
    async finish() {
      if (db.inTransaction) db.exec('COMMIT');
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.exec('ANALYZE');
      flushToDisk();
    },
    async close() {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
    },
  };
}

async function postgresLoader(url: string): Promise<Loader> {
  const client = new pg.Client({ connectionString: url, application_name: 'userplane-bench' });
  await client.connect();
  /**
   * One multi-row INSERT of `rows`, generated for this statement only: each
   * column goes as one array parameter, unnested into rows by PostgreSQL, so
   * the statement's text and parameter count stay the same at any batch size.
   */
  const insert = async (table: string, columns: string, types: string[], rows: unknown[][]) => {
    if (rows.length === 0) return;
    const arrays = types.map((_, c) => rows.map((row) => row[c]));
    const unnest = types.map((type, c) => `$${c + 1}::${type}[]`).join(', ');
    await client.query(`INSERT INTO ${table} (${columns}) SELECT * FROM unnest(${unnest})`, arrays);
  };
  return {
    async sites(names) {
      return sitesOf(names, async (text, params) => {
        let i = 0;
        return (
          await client.query(
            text.replace(/\?/g, () => `$${++i}`),
            params,
          )
        ).rows;
      });
    },
    async users(first, last, sites, secrets) {
      const now = new Date().toISOString();
      const range = Array.from({ length: last - first }, (_, i) => first + i);
      const site = (n: number) => sites[n % sites.length]!;
      await insert(
        'users',
        USER_COLUMNS,
        ['int', ...Array(8).fill('text'), 'text', 'text', 'int', 'int', 'text'],
        range.map((n) => userRow(n, site(n), now)),
      );
      await insert(
        'group_members',
        MEMBER_COLUMNS,
        ['int', 'text', 'text'],
        range.map((n) => [site(n).id, site(n).groupId, accountId(n)]),
      );
      await insert(
        'api_tokens',
        TOKEN_COLUMNS,
        ['int', 'text', 'text', 'text', 'text', 'text', 'text'],
        range.map((n) => tokenRow(n, site(n), secrets, now)),
      );
    },
    async properties(first, last, sites) {
      const now = new Date().toISOString();
      const rows: unknown[][] = [];
      for (let n = first; n < last; n++) {
        const site = sites[n % sites.length]!;
        for (let k = 0; k < PER_USER; k++) {
          rows.push([site.id, 'confluence', '', accountId(n), propertyKey(k), propertyValue(n, k), 1, now, now]);
        }
      }
      await insert(
        'properties',
        PROPERTY_COLUMNS,
        ['int', 'text', 'text', 'text', 'text', 'text', 'int', 'text', 'text'],
        rows,
      );
    },
    async finish() {
      await client.query('ANALYZE');
      // Its dirty shared buffers out to the OS now, not in the checkpointer's
      // next round during the measurement; a role without the right skips it.
      await client.query('CHECKPOINT').catch(() => {});
      flushToDisk();
    },
    async close() {
      await client.end();
    },
  };
}

/** The default site and the named ones, each with its confluence-users group. */
async function sitesOf(
  names: string[],
  query: (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>> | Array<Record<string, unknown>>,
): Promise<Site[]> {
  const [server] = await query('SELECT default_site_id FROM server', []);
  const ids = [Number(server!.default_site_id)];
  for (const name of names) {
    const [row] = await query('SELECT id FROM sites WHERE name = ?', [name]);
    ids.push(Number(row!.id));
  }
  const sites: Site[] = [];
  for (const id of ids) {
    const [group] = await query('SELECT id FROM groups WHERE site_id = ? AND name = ?', [id, GROUP]);
    if (!group) throw new Error(`site ${id} has no ${GROUP} group`);
    sites.push({ id, groupId: String(group.id) });
  }
  return sites;
}

/** A new database on the server of `url`, answered as its own URL. */
async function createDatabase(url: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, application_name: 'userplane-bench' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const own = new URL(url);
  own.pathname = `/${name}`;
  return own.toString();
}

/** The sizes' databases, once their servers have stopped: the server is left as it was found. */
async function dropDatabases(url: string, sizes: Size[]): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'userplane-bench' });
  await client.connect();
  try {
    for (const size of sizes) await client.query(`DROP DATABASE IF EXISTS ${new URL(size.location).pathname.slice(1)}`);
  } finally {
    await client.end();
  }
}

function sqliteSize(path: string): number {
  return [path, `${path}-wal`].filter(existsSync).reduce((sum, file) => sum + statSync(file).size, 0);
}

async function postgresSize(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: 'userplane-bench' });
  await client.connect();
  try {
    const { rows } = await client.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size');
    return Number(rows[0]!.size);
  } finally {
    await client.end();
  }
}

/** The process's resident set, in bytes, from /proc (Linux). */
function rss(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}
