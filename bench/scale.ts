/**
 * `npm run bench -- --scale N [--store postgres]`: the hot property routes
 * with N properties in the store (docs/operations.md, "Scale").
 *
 * 1. The bench's server starts once on an empty database with the bench's
 *    seed (the default site, its groups), and the operator makes the other
 *    sites (one per SITE_SHARE properties, at least one: the default site is
 *    always among them and is the one measured); then it stops.
 * 2. The load goes straight into the store's own tables, streamed in batches
 *    and never held in memory: N/10 users spread round-robin over the sites,
 *    each in confluence-users with one API token, stored as the product
 *    stores it (the HMAC digest of domain/secrets.ts, under the key the
 *    server is given), and 10 properties each. SQLite: prepared inserts
 *    through better-sqlite3, one transaction per batch, with the server
 *    stopped (it holds the file under an exclusive lock). PostgreSQL: one
 *    INSERT … SELECT FROM unnest(…) per table and batch, each column one
 *    array parameter (pg-copy-streams, for COPY, is not a dependency).
 * 3. The server starts again on the loaded database, and autocannon measures
 *    property GET, PUT and list (`?limit=25`), each request for a random
 *    property of a random user out of a sample of SAMPLE_USERS users of the
 *    default site, with that user's own Basic credential. The sample is the
 *    same size at every N, so the one-second credential cache sees the same
 *    hit rate and only the size of the data differs between runs.
 *
 * Reported: load time, database size on disk (the SQLite file and its WAL;
 * PostgreSQL's pg_database_size), the server's resident memory (VmRSS) after
 * start and after the runs, and each route's req/s, p50 and p99.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Secrets } from '../src/domain/secrets.ts';
import { basicAuth } from '../test/helpers/credentials.ts';
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
const WARM_UP_SECONDS = 1;
const GROUP = 'confluence-users';

export interface ScaleServer {
  url: string;
  child: ChildProcess;
}

export interface ScaleOptions {
  count: number;
  /** The PostgreSQL URL, or undefined for SQLite at `sqlitePath`. */
  databaseUrl: string | undefined;
  sqlitePath: string;
  secretKey: string;
  operatorToken: string;
  connections: number;
  duration: number;
  /** Starts `userplane serve` on the bench's database, with the seed file when given, and waits until ready. */
  serve(seed: object | undefined): Promise<ScaleServer>;
  stop(child: ChildProcess): Promise<void>;
}

interface Site {
  id: number;
  groupId: string;
}

/** The n-th loaded user (0-based): ids zero-padded, so insertion order is index order. */
const accountId = (n: number) => `712020:scale-${String(n).padStart(9, '0')}`;
const email = (n: number) => `scale-${n}@example.com`;
const token = (n: number) => `scale-token-${n}-0123456789`;
const propertyKey = (k: number) => `key-${k}`;
const propertyValue = (n: number, k: number) => `{"theme":"dark","n":${n},"k":${k},"tags":["a","b"]}`;

export async function scaleBench(options: ScaleOptions): Promise<number> {
  const { count } = options;
  if (count % PER_USER !== 0) throw new Error(`--scale must be a multiple of ${PER_USER}`);
  const users = count / PER_USER;
  const siteCount = Math.max(1, Math.ceil(count / SITE_SHARE));
  const postgres = options.databaseUrl !== undefined;

  process.stderr.write('bench: scale: preparing the sites…\n');
  let server = await options.serve({ site: { maxPropertiesPerUser: 1000 }, groups: [GROUP, 'confluence-admins'] });
  const operator = { url: server.url, token: options.operatorToken };
  const run = Date.now().toString(36);
  const siteNames = Array.from({ length: siteCount - 1 }, (_, i) => `scale-${run}-${i + 1}`);
  for (const name of siteNames) await createSite(operator, name, { groups: [GROUP] });
  await options.stop(server.child);

  const secrets = new Secrets(options.secretKey);
  const started = performance.now();
  const loader = postgres ? await postgresLoader(options.databaseUrl!) : sqliteLoader(options.sqlitePath);
  try {
    const sites = await loader.sites(siteNames);
    process.stderr.write(`bench: scale: loading ${count} properties for ${users} users over ${siteCount} site(s)…\n`);
    let lastReport = started;
    for (let first = 0; first < users; first += BATCH) {
      const last = Math.min(users, first + BATCH);
      await loader.users(first, last, sites, secrets);
      await loader.properties(first, last, sites);
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
  const loadSeconds = (performance.now() - started) / 1000;
  const size = postgres ? await postgresSize(options.databaseUrl!) : sqliteSize(options.sqlitePath);

  server = await options.serve(undefined);
  const rssAtStart = rss(server.child);
  // The sample: users of the default site (index ≡ 0 mod siteCount), spread over the whole range.
  const onDefault = Math.ceil(users / siteCount);
  const sample = Array.from({ length: Math.min(SAMPLE_USERS, onDefault) }, (_, i) => {
    const n = Math.floor((i * onDefault) / Math.min(SAMPLE_USERS, onDefault)) * siteCount;
    return { id: accountId(n), auth: basicAuth(email(n), token(n)).authorization! };
  });
  const pick = () => sample[Math.floor(Math.random() * sample.length)]!;
  const property = (request: autocannon.Request, body?: string) => {
    const user = pick();
    return {
      ...request,
      path: `/wiki/rest/api/user/${user.id}/property/${propertyKey(Math.floor(Math.random() * PER_USER))}`,
      headers: { ...request.headers, authorization: user.auth },
      ...(body !== undefined && { body }),
    };
  };
  const putBody = JSON.stringify({ value: { theme: 'light', n: 1, tags: ['c'] } });
  const scenarios: Array<{ name: string; request: autocannon.Request }> = [
    { name: 'property GET', request: { method: 'GET', setupRequest: (request) => property(request) } },
    {
      name: 'property PUT',
      request: {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => property(request, putBody),
      },
    },
    {
      name: 'list',
      request: {
        method: 'GET',
        setupRequest: (request) => {
          const user = pick();
          return {
            ...request,
            path: `/wiki/rest/api/user/${user.id}/property?limit=${LIST_LIMIT}`,
            headers: { ...request.headers, authorization: user.auth },
          };
        },
      },
    },
  ];
  const results: Array<{ name: string; result: autocannon.Result }> = [];
  for (const { name, request } of scenarios) {
    process.stderr.write(`bench: scale: ${name}…\n`);
    const run = { url: server.url, connections: options.connections, requests: [request] };
    await autocannon({ ...run, duration: WARM_UP_SECONDS });
    results.push({ name, result: await autocannon({ ...run, duration: options.duration }) });
  }
  const rssAfter = rss(server.child);

  const rows = [
    ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors/non-2xx'],
    ...results.map(({ name, result }) => [
      name,
      result.requests.average.toFixed(0),
      String(result.latency.p50),
      String(result.latency.p99),
      `${result.errors}/${result.non2xx}`,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  process.stdout.write(
    [
      '',
      `machine: ${cpus().length} cores, node ${process.version}; store: ${postgres ? 'PostgreSQL' : 'SQLite'}; ` +
        `${options.connections} connections, ${options.duration} s per run`,
      `scale: ${count} properties, ${users} users, ${siteCount} site(s); requests spread over ${sample.length} users of the default site`,
      `load: ${loadSeconds.toFixed(1)} s (${Math.round(count / loadSeconds)} properties/s, users and tokens included)`,
      `database on disk: ${mebibytes(size)}`,
      `server memory (VmRSS): ${mebibytes(rssAtStart)} after start, ${mebibytes(rssAfter)} after the runs`,
      '',
      ...rows.map(line),
      '',
    ].join('\n'),
  );
  const failed = results.filter(({ result }) => result.errors + result.non2xx > 0);
  for (const { name, result } of failed) {
    process.stderr.write(`bench: WARNING ${name} had ${result.errors} errors and ${result.non2xx} non-2xx responses\n`);
  }
  return failed.length > 0 ? 1 : 0;
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
