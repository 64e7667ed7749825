/**
 * The journal's cost in `npm run bench` (docs/behaviour.md §11):
 * property GET throughput on two sites of the bench's server that differ only
 * in `journalSize`, the default 1,000 and 0 (the journal off), made as the
 * operator from the same one-user seed. The same autocannon scenario runs
 * against each in alternating rounds, the order swapped every round, so a
 * drift in what else the machine does falls on both alike. Cost is
 * `1 − on/off` of the mean req/s, against the budget of 5 %.
 */
import autocannon from 'autocannon';
import { alternatingRounds, describeRounds, throughput } from './rounds.ts';
import { createSite, deleteSite, type Operator } from './sites.ts';

const BUDGET = 0.05;
const ROUNDS = 3;
const ROUND_SECONDS = 3;
const WARM_UP_SECONDS = 1;
const USER = {
  accountId: '712020:journal-bench',
  email: 'journal-bench@example.com',
  token: 'journal-bench-token-0123456789',
};
const PROPERTY_KEY = 'bench-key';
/** Names of this run's sites carry it, so a rerun against the same DATABASE_URL or --url server makes new ones. */
const RUN = Date.now().toString(36);

function seed(journalSize: number | undefined): object {
  return {
    ...(journalSize !== undefined && { site: { journalSize } }),
    groups: ['confluence-users'],
    users: [
      {
        accountId: USER.accountId,
        email: USER.email,
        displayName: 'Journal bench',
        groups: ['confluence-users'],
        apiTokens: [USER.token],
      },
    ],
    properties: [{ product: 'confluence', user: USER.accountId, key: PROPERTY_KEY, value: { dark: true, size: 12 } }],
  };
}

type Side = 'on' | 'off';

/** Answers the report lines and whether the cost is within the budget. */
export async function journalCost(operator: Operator, connections: number): Promise<{ lines: string[]; met: boolean }> {
  const sites: Record<Side, string> = { on: `bench-${RUN}-journal-on`, off: `bench-${RUN}-journal-off` };
  // "on" keeps the default journalSize (1,000), as a site made with no setting has.
  await createSite(operator, sites.on, seed(undefined));
  await createSite(operator, sites.off, seed(0));
  try {
    const auth = { authorization: `Basic ${Buffer.from(`${USER.email}:${USER.token}`).toString('base64')}` };
    const options = (side: Side) => ({
      url: `${operator.url}/sites/${sites[side]}/wiki/rest/api/user/${USER.accountId}/property/${PROPERTY_KEY}`,
      headers: auth,
      connections,
    });
    for (const side of ['on', 'off'] as const) await autocannon({ ...options(side), duration: WARM_UP_SECONDS });
    const runs = await alternatingRounds(['on', 'off'] as const, ROUNDS, (side, round) => {
      process.stderr.write(`bench: journal cost: property GET, journal ${side} (round ${round + 1} of ${ROUNDS})…\n`);
      return autocannon({ ...options(side), duration: ROUND_SECONDS });
    });
    const describe = (side: Side) => describeRounds(runs[side]);
    const ratio = throughput(runs.on) / throughput(runs.off);
    const cost = 1 - ratio;
    const met = cost <= BUDGET;
    const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
    return {
      met,
      lines: [
        `journal cost: property GET on two sites alike but for journalSize, ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s each at ${connections} connections:`,
        `  journal on (journalSize 1000): ${describe('on')}`,
        `  journal off (journalSize 0):   ${describe('off')}`,
        `  on/off ${ratio.toFixed(3)}; cost (1 − on/off) ${percent(cost)} ≤ ${percent(BUDGET)} ${met ? 'met' : 'MISSED'}`,
      ],
    };
  } finally {
    await deleteSite(operator, sites.on);
    await deleteSite(operator, sites.off);
  }
}
