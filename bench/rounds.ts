/**
 * Alternating rounds, shared by the cost scenarios of `npm run bench`
 * (bench/journal.ts, bench/rate-limits.ts): the same autocannon scenario
 * against two sides in turn, the order swapped every round, so a drift in
 * what else the machine does falls on both alike.
 */
import type autocannon from 'autocannon';

/** Runs `rounds` rounds of `run(side, round)` for both sides; a round with errors or non-2xx answers throws. */
export async function alternatingRounds<S extends string>(
  sides: readonly [S, S],
  rounds: number,
  run: (side: S, round: number) => Promise<autocannon.Result>,
): Promise<Record<S, autocannon.Result[]>> {
  const runs = { [sides[0]]: [], [sides[1]]: [] } as unknown as Record<S, autocannon.Result[]>;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : ([sides[1], sides[0]] as const);
    for (const side of order) {
      const result = await run(side, round);
      if (result.errors + result.non2xx > 0)
        throw new Error(`${side} (round ${round + 1}): ${result.errors} errors, ${result.non2xx} non-2xx`);
      runs[side].push(result);
    }
  }
  return runs;
}

/** The mean req/s of one side's rounds. */
export function throughput(results: autocannon.Result[]): number {
  return mean(results, (r) => r.requests.average);
}

/** `N req/s (rounds: …), p50 … ms, p99 … ms`, means over the rounds. */
export function describeRounds(results: autocannon.Result[]): string {
  const rates = results.map((r) => r.requests.average.toFixed(0)).join(', ');
  return `${throughput(results).toFixed(0)} req/s (rounds: ${rates}), p50 ${mean(results, (r) => r.latency.p50).toFixed(1)} ms, p99 ${mean(results, (r) => r.latency.p99).toFixed(1)} ms`;
}

function mean(results: autocannon.Result[], pick: (r: autocannon.Result) => number): number {
  return results.reduce((sum, r) => sum + pick(r), 0) / results.length;
}
