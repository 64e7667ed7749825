/**
 * The targets of `npm run bench` (docs/decisions.md), judged on rounds that
 * alternate: each property route and its counterpart (on PostgreSQL the
 * raw-pg route, on SQLite the yardstick; bench/yardstick.ts) run in turn, the order swapped every
 * round, so a change in what else the machine does falls on both alike. In
 * the table before it, the raw routes run first and userplane's a quarter of
 * a minute later, which on a shared machine moves a ratio by more than the
 * targets' margins. The ratio is of the mean req/s over the rounds; the p99
 * ratio of the mean p99s.
 */
import autocannon from 'autocannon';

export const POSTGRES_TARGETS = { getRatio: 0.8, putRatio: 0.8, p99Ratio: 1.5, connections: 50 };
const ROUNDS = 3;
const ROUND_SECONDS = 3;
const WARM_UP_SECONDS = 1;

export interface Pair {
  /** userplane's scenario, e.g. `property GET`. */
  name: string;
  /** Its raw-pg counterpart's, e.g. `raw pg point read`. */
  rawName: string;
  options: autocannon.Options;
  rawOptions: autocannon.Options;
  /** The least ratio of req/s to raw's, and the p99 ratio judged too; undefined: reported only. */
  target?: number;
}

interface Side {
  rates: number[];
  p99s: number[];
}

/** What the pairs are read against: raw pg (`--store postgres`, with p99 targets) or the yardstick (SQLite). */
export interface Against {
  name: string;
  judgeP99: boolean;
}

export async function rawPairs(
  pairs: Pair[],
  connections: number,
  against: Against = { name: 'raw pg', judgeP99: true },
): Promise<{ lines: string[]; failed: boolean }> {
  const lines = [
    `against ${against.name} in ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s each at ${connections} connections (the targets are judged here):`,
  ];
  const mark = (met: boolean) => (met ? 'met' : 'MISSED');
  let failed = false;
  for (const pair of pairs) {
    process.stderr.write(`bench: raw pg pairs: ${pair.name} against ${pair.rawName}…\n`);
    const sides = { userplane: { rates: [], p99s: [] } as Side, raw: { rates: [], p99s: [] } as Side };
    const options = { userplane: pair.options, raw: pair.rawOptions };
    for (const side of ['userplane', 'raw'] as const)
      await autocannon({ ...options[side], connections, duration: WARM_UP_SECONDS });
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['raw', 'userplane'] as const) : (['userplane', 'raw'] as const);
      for (const side of order) {
        const result = await autocannon({ ...options[side], connections, duration: ROUND_SECONDS });
        if (result.errors + result.non2xx > 0) failed = true;
        sides[side].rates.push(result.requests.average);
        sides[side].p99s.push(result.latency.p99);
      }
    }
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const ratio = mean(sides.userplane.rates) / mean(sides.raw.rates);
    const p99Ratio = mean(sides.userplane.p99s) / Math.max(1, mean(sides.raw.p99s));
    const rounds = (side: Side) => side.rates.map((rate) => rate.toFixed(0)).join(', ');
    lines.push(
      `  ${pair.name}: ${mean(sides.userplane.rates).toFixed(0)} req/s (rounds: ${rounds(sides.userplane)}), ` +
        `p99 ${mean(sides.userplane.p99s).toFixed(1)} ms; ${pair.rawName}: ${mean(sides.raw.rates).toFixed(0)} req/s ` +
        `(rounds: ${rounds(sides.raw)}), p99 ${mean(sides.raw.p99s).toFixed(1)} ms`,
    );
    if (pair.target === undefined) {
      lines.push(`    ${ratio.toFixed(2)}× ${pair.rawName}, p99 ${p99Ratio.toFixed(2)}× (no target)`);
      continue;
    }
    lines.push(
      `    ${pair.name} ≥ ${pair.target}× ${pair.rawName}: ${ratio.toFixed(2)}× ${mark(ratio >= pair.target)}`,
    );
    if (!against.judgeP99) continue;
    lines.push(
      `    p99 ≤ ${POSTGRES_TARGETS.p99Ratio}× ${pair.rawName}'s at ${POSTGRES_TARGETS.connections} connections: ` +
        `${p99Ratio.toFixed(2)}× ` +
        (connections === POSTGRES_TARGETS.connections
          ? mark(p99Ratio <= POSTGRES_TARGETS.p99Ratio)
          : `not judged (ran at ${connections})`),
    );
  }
  lines.push('  (a target is judged by the median of three runs of the bench)');
  return { lines, failed };
}
