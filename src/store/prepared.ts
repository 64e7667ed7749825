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
 * Where the store has a direct runner (`StoreDb.runDirect`, from
 * `openStore`), a prepared query given the store's own handle runs through
 * it: on SQLite skipping Kysely's one-query-at-a-time connection queue, on
 * PostgreSQL as a named prepared statement on a pooled connection, parsed
 * and planned once per connection. Each prepared query is one statement,
 * atomic on its own. A read the store ran at once (a
 * SQLite read outside a transaction) is answered without a promise, so a hot
 * read can reach the response in the same turn; `await` takes either answer.
 * Given a transaction, or when the runner declines (a transaction holds the
 * connection), the query goes through Kysely like any other.
 *
 * The runner travels on the handle rather than as another argument so that
 * store functions keep the executor as their one first argument (a
 * `Kysely` or a `Transaction`, so transactions compose) and their callers
 * need not know which path a query takes. A transaction cannot carry the
 * runner by construction, which is exactly the rule: its statements must
 * run in order on its connection.
 */
import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { MaybePromise } from '../lib/maybe-promise.ts';
import { type Db, StoreDb } from './database.ts';
import type { Database } from './schema.ts';

type Slot = { param: string } | { value: unknown };

export function preparedQuery<P extends object, R>(
  build: (db: Kysely<Database>, param: <K extends keyof P & string>(name: K) => P[K]) => Compilable<R>,
  /** For a write of one row: the row's place in the lock order (`DirectRunner`'s `lockOrder`). */
  lockOrder?: (params: P) => string,
): (db: Db, params: P) => MaybePromise<QueryResult<R>> {
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
    const result = db instanceof StoreDb ? db.runDirect?.(plan.sql, values, lockOrder?.(params)) : undefined;
    if (result) return result as MaybePromise<QueryResult<R>>;
    return db.executeQuery<R>(CompiledQuery.raw(plan.sql, values));
  };
}
