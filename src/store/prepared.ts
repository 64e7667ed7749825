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
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Db } from './database.ts';
import type { Database } from './schema.ts';

type Slot = { param: string } | { value: unknown };

/** Runs a read synchronously, or answers undefined when it cannot right now. */
type DirectRead = (sql: string, parameters: readonly unknown[]) => unknown[] | undefined;
const directReads = new WeakMap<object, DirectRead>();

/**
 * Lets a database's prepared SELECTs skip Kysely's connection queue
 * (store/sqlite.ts). Only the database itself: its transactions run their
 * reads through Kysely, in order with their writes.
 */
export function readDirectly(db: Kysely<Database>, read: DirectRead): void {
  directReads.set(db, read);
}

export function preparedQuery<P extends object, R>(
  build: (db: Kysely<Database>, param: <K extends keyof P & string>(name: K) => P[K]) => Compilable<R>,
): (db: Db, params: P) => Promise<QueryResult<R>> {
  // Keyed by the dialect's adapter, which a database and its transactions share.
  const plans = new WeakMap<object, { sql: string; slots: Slot[]; select: boolean }>();
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
      const slots = compiled.parameters.map((value): Slot => (markers.has(value) ? { param: markers.get(value)! } : { value }));
      plan = { sql: compiled.sql, slots, select: compiled.query.kind === 'SelectQueryNode' };
      plans.set(adapter, plan);
    }
    const values = plan.slots.map((slot) => ('param' in slot ? params[slot.param as keyof P] : slot.value));
    const rows = plan.select ? directReads.get(db)?.(plan.sql, values) : undefined;
    if (rows) return Promise.resolve({ rows: rows as R[] });
    return db.executeQuery<R>(CompiledQuery.raw(plan.sql, values));
  };
}
