/**
 * `npm run bench -- --control-plane [--store postgres]`: how long reset and
 * restore take (docs/behaviour.md §11) for a site with 100 users and 1,000
 * properties. Measured in process, through the app's own routes with
 * `app.inject` (routing, auth, the transaction; no TCP), on a fresh
 * database: SQLite in a temporary file, or a new database on the given
 * PostgreSQL server. Each round of reset and restore first adds a user, so
 * there is something to undo; the worst case, restores alternating between
 * two snapshots that differ in every user (so every row of the site goes
 * and comes back), is measured too. A report only: no test asserts
 * timings. Targets: median at most 25 ms on SQLite, 150 ms on PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { Secrets } from '../src/domain/secrets.ts';
import { type DatabaseLocation, openStore } from '../src/store/database.ts';
import { ensureDefaultSite } from '../src/store/site.ts';

const ROUNDS = 40;
const WARM_UP_ROUNDS = 3;
const USERS = 100;
const PROPERTIES_PER_USER = 10;
const TARGET_MS = { sqlite: 25, postgres: 150 };
const OPERATOR_TOKEN = 'bench-operator-token-of-at-least-32-characters';
const SECRET_KEY = 'bench-secret-key-0123456789abcdefghijklmnopqrstuv';
const OPERATOR = { authorization: `Bearer ${OPERATOR_TOKEN}` };

function seed() {
  const users = Array.from({ length: USERS }, (_, i) => ({
    accountId: `712020:user-${i}`,
    email: `user-${i}@example.com`,
    displayName: `User ${i}`,
    groups: i === 0 ? ['confluence-admins', 'confluence-users'] : ['confluence-users'],
    apiTokens: [`user-${i}-token-0123456789`],
  }));
  const properties = users.flatMap((user) =>
    Array.from({ length: PROPERTIES_PER_USER }, (_, k) => ({
      product: k % 2 === 0 ? ('confluence' as const) : ('jira' as const),
      user: user.accountId,
      key: `key-${k}`,
      value: { n: k, user: user.accountId, settings: { dark: k % 3 === 0, size: 12 + k } },
    })),
  );
  return { groups: ['confluence-users', 'confluence-admins'], users, properties };
}

async function location(postgresUrl: string | undefined): Promise<{ at: DatabaseLocation; drop(): Promise<void> }> {
  if (postgresUrl === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'userplane-bench-cp-'));
    return {
      at: { dialect: 'sqlite', path: join(dir, 'userplane.db') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `userplane_bench_cp_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return { at: { dialect: 'postgres', url: url.toString() }, drop: () => admin(`drop database ${name}`) };
}

interface Figures {
  median: number;
  p90: number;
  min: number;
  max: number;
}

function figures(samples: number[]): Figures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p90: at(0.9), min: sorted[0]!, max: sorted.at(-1)! };
}

/** Runs the scenario; answers the exit code (1 when a request failed). */
export async function controlPlaneBench(postgresUrl: string | undefined): Promise<number> {
  const storeKind = postgresUrl === undefined ? 'sqlite' : 'postgres';
  const db = await location(postgresUrl);
  const store = await openStore(db.at);
  await ensureDefaultSite(store.db);
  const app = await buildApp({
    db: store.db,
    secrets: new Secrets(SECRET_KEY),
    logLevel: 'silent',
    operatorToken: OPERATOR_TOKEN,
  });
  const call = async (method: 'POST' | 'PATCH', url: string, body?: unknown, expected = 204) => {
    const response = await app.inject({
      method,
      url,
      headers: body === undefined ? OPERATOR : { ...OPERATOR, 'content-type': 'application/json' },
      ...(body !== undefined && { payload: JSON.stringify(body) }),
    });
    if (response.statusCode !== expected)
      throw new Error(`${method} ${url} answered ${response.statusCode}: ${response.body}`);
  };
  try {
    process.stderr.write(
      `bench: control plane on ${storeKind}: a site of ${USERS} users and ${USERS * PROPERTIES_PER_USER} properties…\n`,
    );
    await call('POST', '/admin/api/sites', { name: 'bench', seed: seed() }, 201);
    await call('POST', '/sites/bench/admin/api/snapshots', { name: 'bench' }, 201);
    const change = async (round: number) => {
      await call(
        'POST',
        '/sites/bench/admin/api/users',
        { email: `new-${round}@example.com`, displayName: 'New' },
        201,
      );
    };
    const timed = async (work: () => Promise<void>) => {
      const start = performance.now();
      await work();
      return performance.now() - start;
    };
    // The worst case: every user changed, so every row of the site goes and comes back.
    const rewrites: number[] = [];
    for (let i = 0; i < USERS; i++) {
      await call('PATCH', `/sites/bench/admin/api/users/712020:user-${i}`, { displayName: `Renamed ${i}` }, 200);
    }
    await call('POST', '/sites/bench/admin/api/snapshots', { name: 'renamed' }, 201);
    for (let round = 0; round < WARM_UP_ROUNDS + ROUNDS; round++) {
      const name = round % 2 === 0 ? 'bench' : 'renamed';
      const restore = await timed(() => call('POST', `/sites/bench/admin/api/snapshots/${name}/restore`));
      if (round >= WARM_UP_ROUNDS) rewrites.push(restore);
    }
    const resets: number[] = [];
    const restores: number[] = [];
    for (let round = 0; round < WARM_UP_ROUNDS + ROUNDS; round++) {
      await change(round);
      const reset = await timed(() => call('POST', '/sites/bench/admin/api/reset'));
      await change(round);
      const restore = await timed(() => call('POST', '/sites/bench/admin/api/snapshots/bench/restore'));
      if (round >= WARM_UP_ROUNDS) {
        resets.push(reset);
        restores.push(restore);
      }
    }
    const target = TARGET_MS[storeKind];
    const line = (name: string, f: Figures) =>
      `  ${name.padEnd(30)} median ${f.median.toFixed(1).padStart(6)} ms   p90 ${f.p90.toFixed(1).padStart(6)} ms   min ${f.min.toFixed(1).padStart(6)} ms   max ${f.max.toFixed(1).padStart(6)} ms   ${f.median <= target ? 'within' : 'OVER'} the ${target} ms target`;
    process.stdout.write(
      [
        `reset and restore on ${storeKind}, ${USERS} users and ${USERS * PROPERTIES_PER_USER} properties, ${ROUNDS} rounds each (in process, app.inject):`,
        line('reset', figures(resets)),
        line('restore', figures(restores)),
        line('restore, every row differing', figures(rewrites)),
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await app.close();
    await store.close();
    await db.drop();
  }
}
