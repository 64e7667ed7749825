/**
 * The sites scenarios of `npm run bench` (docs/behaviour.md §10), over HTTP against the
 * bench's server, as the operator:
 *
 * - site cost (every throughput run): a site made from a 100-row seed
 *   (`costSeed`) and deleted, `samples` times each, one request at a time;
 *   median and p90 of `POST /admin/api/sites` and of
 *   `DELETE /admin/api/sites/{name}`, against the target of 50 ms median on
 *   SQLite.
 * - `--sites N`: N sites made one at a time from a small seed (a user with an
 *   API token and one property), the first 100 creations timed against the
 *   last 100; then property GETs on site #1 and site #N, same request shape
 *   (`/sites/{name}/wiki/rest/api/user/{id}/property/{key}`), against the
 *   target of at most 1.3× the first's cost.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const COST_TARGET_MS = 50;
const SCALE_TARGET = 1.3;
/** Creations timed at each end of `--sites N`. */
const ENDS = 100;
const USER = { accountId: '712020:site-bench', email: 'site-bench@example.com', token: 'site-bench-token-0123456789' };
const PROPERTY_KEY = 'bench-key';
/** Names of this run's sites carry it, so a rerun against the same DATABASE_URL or --url server makes new ones. */
const RUN = Date.now().toString(36);

/**
 * About 100 rows of §8: 5 groups, 40 users with an API token each (the first
 * a site admin, so no first-start admin is made), 5 apps (each with its bot
 * user) and 50 properties on 10 of the users.
 */
export function costSeed(): object {
  const groups = ['confluence-users', 'confluence-admins', 'team-a', 'team-b', 'team-c'];
  const users = Array.from({ length: 40 }, (_, i) => ({
    accountId: `712020:user-${i}`,
    email: `user-${i}@example.com`,
    displayName: `User ${i}`,
    groups: i === 0 ? ['confluence-admins'] : ['confluence-users'],
    apiTokens: [`token-of-user-${i}-0123456789`],
  }));
  const apps = Array.from({ length: 5 }, (_, i) => ({
    key: `bench-app-${i}`,
    name: `Bench app ${i}`,
    clientKey: `bench-client-${i}`,
    sharedSecret: `shared-secret-of-bench-app-${i}-0123456789`,
    scopes: ['READ', 'WRITE'],
  }));
  const properties = Array.from({ length: 50 }, (_, i) => ({
    product: i % 2 === 0 ? 'confluence' : 'jira',
    user: `712020:user-${i % 10}`,
    key: `key-${i}`,
    value: { i, dark: i % 3 === 0 },
  }));
  return { groups, users, apps, properties };
}

/** One user with an API token and one property: the seed of each of `--sites N`. */
function smallSeed(): object {
  return {
    users: [
      {
        accountId: USER.accountId,
        email: USER.email,
        displayName: 'Site bench',
        groups: ['confluence-users'],
        apiTokens: [USER.token],
      },
    ],
    properties: [{ product: 'confluence', user: USER.accountId, key: PROPERTY_KEY, value: { dark: true, size: 12 } }],
  };
}

export interface Operator {
  url: string;
  token: string;
}

/** Makes one site; answers the milliseconds the request took. */
export async function createSite(operator: Operator, name: string, seed: object): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${operator.url}/admin/api/sites`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operator.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, seed }),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 201) throw new Error(`POST /admin/api/sites (${name}): ${response.status} ${text}`);
  return ms;
}

export async function deleteSite(operator: Operator, name: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${operator.url}/admin/api/sites/${name}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${operator.token}` },
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 204) throw new Error(`DELETE /admin/api/sites/${name}: ${response.status} ${text}`);
  return ms;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const stats = (values: number[]) =>
  `median ${ms(percentile(values, 50))}, p90 ${ms(percentile(values, 90))}, mean ${ms(values.reduce((a, b) => a + b, 0) / values.length)}`;
const mark = (met: boolean) => (met ? 'met' : 'MISSED');

/** Linux's clock ticks a second (`getconf CLK_TCK`), the unit of /proc/PID/stat's times. */
const TICKS_PER_SECOND = 100;

/**
 * The CPU milliseconds (user and system) a process has used, from
 * /proc/PID/stat; undefined where there is none. Unlike wall time it does
 * not grow with what else the machine runs.
 */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // The fields after the command name, which is in parentheses and may hold spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * `samples` sites from `costSeed()`, made one after another and then deleted
 * one after another, after a few unmeasured ones. Answers the report lines.
 * With the server's pid, also the server's CPU time per creation and per
 * deletion: on a machine busy with other work, wall time measures the
 * machine as much as the server.
 */
export async function siteCost(
  operator: Operator,
  samples: number,
  store: string,
  serverPid?: number,
): Promise<string[]> {
  const seed = costSeed();
  const warmUp = 5;
  for (let i = 0; i < warmUp; i++) {
    await createSite(operator, `bench-${RUN}-warm-${i}`, seed);
    await deleteSite(operator, `bench-${RUN}-warm-${i}`);
  }
  const names = Array.from({ length: samples }, (_, i) => `bench-${RUN}-cost-${i}`);
  const created: number[] = [];
  const cpu0 = cpuMs(serverPid);
  for (const name of names) created.push(await createSite(operator, name, seed));
  const cpu1 = cpuMs(serverPid);
  const deleted: number[] = [];
  for (const name of names) deleted.push(await deleteSite(operator, name));
  const cpu2 = cpuMs(serverPid);
  const cpuEach = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? '' : `; server CPU ${((to - from) / samples).toFixed(1)} ms each`;
  const judged = store === 'sqlite';
  const line = (what: string, values: number[]) =>
    `  ${what}: ${stats(values)}` +
    (judged ? `; ≤ ${COST_TARGET_MS} ms median ${mark(percentile(values, 50) <= COST_TARGET_MS)}` : '');
  return [
    `site cost: ${samples} sites from a 100-row seed (5 groups, 40 users with a token each, 5 apps, 50 properties), one request at a time, over HTTP:`,
    line('create (POST /admin/api/sites)', created) + cpuEach(cpu0, cpu1),
    line('delete (DELETE /admin/api/sites/{name})', deleted) + cpuEach(cpu1, cpu2),
    ...(judged ? [] : [`  (the ${COST_TARGET_MS} ms target is SQLite's)`]),
  ];
}

/**
 * `count` sites from `smallSeed()`, one request at a time; then property GETs
 * on the first and the last, alternately, twice each. Answers the report
 * lines and whether both ratios are within the target.
 */
export async function manySites(
  operator: Operator,
  count: number,
  load: { connections: number; duration: number },
): Promise<{ lines: string[]; met: boolean }> {
  const name = (i: number) => `bench-${RUN}-${String(i).padStart(5, '0')}`;
  const seed = smallSeed();
  const times: number[] = [];
  const started = performance.now();
  let lastReport = started;
  for (let i = 1; i <= count; i++) {
    times.push(await createSite(operator, name(i), seed));
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      process.stderr.write(
        `bench: sites: ${i} of ${count} made, ${((lastReport - started) / 1000).toFixed(0)} s so far; the latest ${ENDS}: ${stats(times.slice(-ENDS))}\n`,
      );
    }
  }
  const totalSeconds = (performance.now() - started) / 1000;
  const ends = Math.min(ENDS, Math.floor(count / 2));
  const first = times.slice(0, ends);
  const last = times.slice(-ends);
  const creationRatio = percentile(last, 50) / percentile(first, 50);

  const auth = { authorization: `Basic ${Buffer.from(`${USER.email}:${USER.token}`).toString('base64')}` };
  const propertyUrl = (i: number) =>
    `${operator.url}/sites/${name(i)}/wiki/rest/api/user/${USER.accountId}/property/${PROPERTY_KEY}`;
  const runs: Record<'first' | 'last', autocannon.Result[]> = { first: [], last: [] };
  for (let round = 0; round < 2; round++) {
    for (const [which, i] of [
      ['first', 1],
      ['last', count],
    ] as const) {
      process.stderr.write(`bench: sites: property GET on site #${i} (round ${round + 1})…\n`);
      const options = { url: propertyUrl(i), headers: auth, connections: load.connections };
      await autocannon({ ...options, duration: 1 });
      const result = await autocannon({ ...options, duration: load.duration });
      if (result.errors + result.non2xx > 0)
        throw new Error(`property GET on site #${i}: ${result.errors} errors, ${result.non2xx} non-2xx`);
      runs[which].push(result);
    }
  }
  const mean = (results: autocannon.Result[], pick: (r: autocannon.Result) => number) =>
    results.reduce((sum, r) => sum + pick(r), 0) / results.length;
  const throughput = (which: 'first' | 'last') => mean(runs[which], (r) => r.requests.average);
  const p50 = (which: 'first' | 'last') => mean(runs[which], (r) => r.latency.p50);
  const p99 = (which: 'first' | 'last') => mean(runs[which], (r) => r.latency.p99);
  const getRatio = throughput('first') / throughput('last');
  const describe = (which: 'first' | 'last') =>
    `${throughput(which).toFixed(0)} req/s (runs: ${runs[which].map((r) => r.requests.average.toFixed(0)).join(', ')}), p50 ${p50(which).toFixed(1)} ms, p99 ${p99(which).toFixed(1)} ms`;
  const met = creationRatio <= SCALE_TARGET && getRatio <= SCALE_TARGET;
  return {
    met,
    lines: [
      `sites: ${count} sites made one at a time (each a user with an API token and one property) in ${totalSeconds.toFixed(1)} s (${((totalSeconds * 1000) / count).toFixed(1)} ms a site)`,
      `  creation, first ${ends}: ${stats(first)}`,
      `  creation, last ${ends}:  ${stats(last)}`,
      `  last/first (median): ${creationRatio.toFixed(2)}× ≤ ${SCALE_TARGET}× ${mark(creationRatio <= SCALE_TARGET)}`,
      `  property GET on site #1:     ${describe('first')}`,
      `  property GET on site #${count}: ${describe('last')}`,
      `  cost on #${count} / cost on #1 (req/s of #1 over #${count}): ${getRatio.toFixed(2)}× ≤ ${SCALE_TARGET}× ${mark(getRatio <= SCALE_TARGET)}`,
    ],
  };
}
