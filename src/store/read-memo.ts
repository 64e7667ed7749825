/**
 * The embedded store's read memo: results of the direct path's reads
 * (store/sqlite.ts), kept until the next write on the connection.
 *
 * It is coherent by construction, not by expiry. The server holds the SQLite
 * file under an exclusive lock (store/sqlite.ts refuses to start the memo on
 * a connection that does not read `locking_mode=EXCLUSIVE` back), so every
 * change to it goes through the one connection, and that connection forgets every memoized result before any
 * statement that may write runs (store/sqlite.ts). A result is only ever
 * memoized outside a transaction, so it is always committed state.
 * PostgreSQL has no memo: instances share it, and only the database knows
 * what another instance wrote.
 *
 * Why: a repeated point read then costs a map lookup instead of binding,
 * stepping and copying values out of SQLite, which was about a sixth of a
 * property GET's time (docs/decisions.md, "Store").
 */

/** Roughly what the memo may hold; past it, it starts over empty. */
const READ_MEMO_BUDGET_BYTES = 16 * 1024 * 1024;
/** A result larger than this share of the budget is not memoized (a very large property, say). */
const LARGEST_SHARE = 16;
/** What one entry costs beyond its values: the map slot, the key, the arrays. */
const ENTRY_OVERHEAD_BYTES = 128;

/** A statement's rows, each an array of column values. */
export type RawRows = unknown[][];

export class ReadMemo {
  readonly #results = new Map<string, RawRows>();
  #bytes = 0;
  #statements = 0;

  constructor(private readonly budgetBytes = READ_MEMO_BUDGET_BYTES) {}

  /** A name for one prepared read, to key its results by. */
  register(): string {
    return `${this.#statements++}:`;
  }

  /**
   * The rows `query` gives for `parameters`, memoized. The arrays returned
   * are shared: callers copy values out and never change them.
   */
  read(statement: string, parameters: readonly unknown[], query: (parameters: readonly unknown[]) => RawRows): RawRows {
    const key = memoKey(statement, parameters);
    if (key === undefined) return query(parameters);
    const memoized = this.#results.get(key);
    if (memoized !== undefined) return memoized;
    const rows = query(parameters);
    const size = sizeOf(rows);
    if (size === undefined || size > this.budgetBytes / LARGEST_SHARE) return rows;
    const cost = size + key.length * 2;
    if (this.#bytes + cost > this.budgetBytes) this.forget();
    this.#results.set(key, rows);
    this.#bytes += cost;
    return rows;
  }

  /** Before anything that may write. */
  forget(): void {
    if (this.#results.size === 0) return;
    this.#results.clear();
    this.#bytes = 0;
  }

  get size(): number {
    return this.#results.size;
  }
}

/**
 * One string per statement and parameters, unambiguous: each string is
 * length-prefixed, and a number or null is marked as such, so `[1]`,
 * `["1"]` and `[null]` stay apart. Undefined for any other kind of value,
 * which is then not memoized.
 */
function memoKey(statement: string, parameters: readonly unknown[]): string | undefined {
  let key = statement;
  for (const value of parameters) {
    if (typeof value === 'string') key += `s${value.length}:${value}`;
    else if (typeof value === 'number' || typeof value === 'bigint') key += `n${value};`;
    else if (value === null) key += 'z';
    else return undefined;
  }
  return key;
}

/** Approximate bytes held, or undefined when a value is not a string, number or null (a Buffer, say). */
function sizeOf(rows: RawRows): number | undefined {
  let bytes = ENTRY_OVERHEAD_BYTES;
  for (const row of rows) {
    for (const value of row) {
      if (typeof value === 'string') bytes += 16 + value.length * 2;
      else if (typeof value === 'number' || typeof value === 'bigint' || value === null) bytes += 16;
      else return undefined;
    }
  }
  return bytes;
}
