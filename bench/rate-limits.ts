/**
 * The rate limits' cost in `npm run bench` (docs/behaviour.md §12, docs/rate-limits.md "Cost"):
 * an app's property GET (its own property, with a Connect JWT, as run.ts's
 * 'app property GET') on two sites of the bench's server that differ only in
 * `rateLimits`, made as the operator from the same seed:
 *
 * - `off`, the default;
 * - `atlassian` with the burst limit off (every request would otherwise be
 *   refused past 100 a second) and the quota raised to 100,000,000 points an
 *   hour in each ledger, so that it never runs out during the bench: each read
 *   costs 2 points (1, plus 1 for the property), and Atlassian's 65,000 would
 *   be spent in seconds. The quota's path is the one measured: the check of
 *   both ledgers before the answer, the charge and its headers after.
 *
 * The same autocannon scenario runs against each in alternating rounds, the
 * order swapped every round, so a drift in what else the machine does falls
 * on both alike. The target: atlassian/off ≥ 0.9. With the server's pid
 * (the bench's own server), also the server's CPU time per request on each
 * side, which a busy machine disturbs less than throughput.
 *
 * "With `off`, nothing measurable": `off` is not a code path that can be
 * switched off to compare with. What `off` costs a request is two reads of
 * the site's settings, already in hand, and a comparison: `rateLimits !==
 * 'off'` in the auth hook before `limiter.check`, and the same in the onSend
 * hook before `limiter.charge` (src/http/auth.ts). No allocation, no clock
 * read, no Map lookup. It is shown by the regular scenarios of `npm run
 * bench`, run with the default site's `rateLimits` off: their ratios to the
 * yardstick stay within the figures of docs/decisions.md from before the
 * rate limits.
 */
import autocannon from 'autocannon';
import { connectJwt } from '../test/helpers/credentials.ts';
import { alternatingRounds, describeRounds, throughput } from './rounds.ts';
import { cpuMs, createSite, deleteSite, type Operator } from './sites.ts';

const TARGET = 0.9;
/** Even, so each site goes first in as many rounds as the other. */
const ROUNDS = 4;
const ROUND_SECONDS = 3;
const WARM_UP_SECONDS = 1;
/** Points an hour in each ledger: far more than any bench sends (each read costs 2). */
const BENCH_QUOTA = 100_000_000;
const USER = { accountId: '712020:rate-limit-bench', email: 'rate-limit-bench@example.com' };
const PROPERTY_KEY = 'bench-app-key';
/** Names of this run's sites and app carry it, so a rerun against the same server makes new ones. */
const RUN = Date.now().toString(36);
/** The quota's global ledger is per app key across sites: this run's own key. */
const APP = {
  key: `com.example.rate-limit-bench-${RUN}`,
  name: 'Rate-limit bench',
  clientKey: 'rate-limit-bench-client',
  sharedSecret: 'rate-limit-bench-shared-secret-of-32-chars',
  scopes: ['READ'],
};

type Side = 'atlassian' | 'off';

const SETTINGS: Record<Side, unknown> = {
  off: 'off',
  atlassian: { burst: false, quota: { globalPerHour: BENCH_QUOTA, sitePerHour: BENCH_QUOTA } },
};

function seed(side: Side): object {
  return {
    site: { rateLimits: SETTINGS[side] },
    groups: ['confluence-users'],
    users: [
      { accountId: USER.accountId, email: USER.email, displayName: 'Rate-limit bench', groups: ['confluence-users'] },
    ],
    apps: [APP],
    // The app's own property, in its namespace.
    properties: [{ product: 'confluence', app: APP.key, user: USER.accountId, key: PROPERTY_KEY, value: { n: 1 } }],
  };
}

/** Answers the report lines and whether atlassian/off meets the target. */
export async function rateLimitCost(
  operator: Operator,
  connections: number,
  serverPid?: number,
): Promise<{ lines: string[]; met: boolean }> {
  const sites: Record<Side, string> = {
    atlassian: `bench-${RUN}-rate-limits-atlassian`,
    off: `bench-${RUN}-rate-limits-off`,
  };
  for (const side of ['atlassian', 'off'] as const) await createSite(operator, sites[side], seed(side));
  try {
    const path = `/wiki/rest/api/user/${USER.accountId}/property/${PROPERTY_KEY}`;
    // One JWT good for 15 minutes: its query-string hash names the path without the site's prefix.
    const headers = connectJwt(APP, 'GET', path, { exp: Math.floor(Date.now() / 1000) + 900 });
    const options = (side: Side) => ({ url: `${operator.url}/sites/${sites[side]}${path}`, headers, connections });
    for (const side of ['atlassian', 'off'] as const) await autocannon({ ...options(side), duration: WARM_UP_SECONDS });
    const cpu: Record<Side, number> = { atlassian: 0, off: 0 };
    const runs = await alternatingRounds(['atlassian', 'off'] as const, ROUNDS, async (side, round) => {
      process.stderr.write(
        `bench: rate-limit cost: app property GET, rateLimits ${side} (round ${round + 1} of ${ROUNDS})…\n`,
      );
      const before = cpuMs(serverPid);
      const result = await autocannon({ ...options(side), duration: ROUND_SECONDS });
      const after = cpuMs(serverPid);
      if (before !== undefined && after !== undefined) cpu[side] += after - before;
      return result;
    });
    const describe = (side: Side) => describeRounds(runs[side]);
    const ratio = throughput(runs.atlassian) / throughput(runs.off);
    const answered = (side: Side) => runs[side].reduce((sum, r) => sum + r.requests.total, 0);
    const cpuPerRequest = (side: Side) => (cpu[side] * 1000) / answered(side);
    const cpuLine =
      cpuMs(serverPid) === undefined
        ? []
        : [
            `  server CPU per request: atlassian ${cpuPerRequest('atlassian').toFixed(0)} µs, off ${cpuPerRequest('off').toFixed(0)} µs (atlassian/off ${(cpuPerRequest('atlassian') / cpuPerRequest('off')).toFixed(2)}x)`,
          ];
    const met = ratio >= TARGET;
    return {
      met,
      lines: [
        `rate-limit cost: app property GET (Connect JWT) on two sites alike but for rateLimits, ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s each at ${connections} connections:`,
        `  atlassian (burst off, quota ${BENCH_QUOTA.toLocaleString('en')} points/h): ${describe('atlassian')}`,
        `  off:                                                   ${describe('off')}`,
        ...cpuLine,
        `  rate limits atlassian/off: ${ratio.toFixed(2)}x (target ≥ ${TARGET}x) ${met ? 'met' : 'MISSED'}`,
      ],
    };
  } finally {
    await deleteSite(operator, sites.atlassian);
    await deleteSite(operator, sites.off);
  }
}
