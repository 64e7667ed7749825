/**
 * Queries on the hot path, compiled once per database and then run with
 * fresh parameters. Building and compiling a Kysely query costs several
 * times more than SQLite's point lookup itself (bench: a property read went
 * from about 15 µs to 4.5 µs). The query is still written with Kysely's
 * builder, so it stays typed and dialect-agnostic.
 *
 * Build the query with `param(name)` wherever a per-call value goes; every
 * other value is fixed at compile time. Only scalar values can be params (a
 * list for `in` compiles to one placeholder per item).
 *
 * A query the store ran at once (a SQLite read outside a transaction) is
 * answered without a promise, so a hot read can reach the response in the
 * same turn; `await` takes either answer.
 */
import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { Db } from './database.ts';
import type { Database } from './schema.ts';

type Slot = { param: string } | { value: unknown };

/** Runs a statement outside Kysely, or answers undefined when it cannot right now. */
type DirectRun = (
  sql: string,
  parameters: readonly unknown[],
) => QueryResult<unknown> | Promise<QueryResult<unknown>> | undefined;
const directRuns = new WeakMap<object, DirectRun>();

/**
 * Lets a database's prepared queries skip Kysely's connection queue
 * (store/sqlite.ts): each is one statement, atomic on its own. Only the
 * database itself: its transactions run their statements through Kysely, in
 * order.
 */
export function runDirectly(db: Kysely<Database>, run: DirectRun): void {
  directRuns.set(db, run);
}

export function preparedQuery<P extends object, R>(
  build: (db: Kysely<Database>, param: <K extends keyof P & string>(name: K) => P[K]) => Compilable<R>,
): (db: Db, params: P) => QueryResult<R> | Promise<QueryResult<R>> {
  // Keyed by the dialect's adapter, which a database and its transactions share.
  const plans = new WeakMap<object, { sql: string; slots: Slot[] }>();
  return (db, params) => {
    const adapter = db.getExecutor().adapter;
    let plan = plans.get(adapter);
    if (!plan) {
      const markers = new Map<unknown, string>();
      const param = <K extends keyof P & string>(name: K) => {
        const marker = `\u0000param:${name}\u0000`;
        markers.set(marker, name);
        return marker as P[K];
      };
      const compiled = build(db as Kysely<Database>, param).compile();
      const slots = compiled.parameters.map(
        (value): Slot => (markers.has(value) ? { param: markers.get(value)! } : { value }),
      );
      plan = { sql: compiled.sql, slots };
      plans.set(adapter, plan);
    }
    const values = plan.slots.map((slot) => ('param' in slot ? params[slot.param as keyof P] : slot.value));
    const result = directRuns.get(db)?.(plan.sql, values);
    if (result) return result as QueryResult<R> | Promise<QueryResult<R>>;
    return db.executeQuery<R>(CompiledQuery.raw(plan.sql, values));
  };
}
