/** The embedded store: better-sqlite3 in WAL mode. SQLite-specific code lives here only. */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { type QueryResult, SqliteDialect } from 'kysely';
import type { DirectRunner } from './database.ts';
import { type RawRows, ReadMemo } from './read-memo.ts';

export interface SqliteConnection {
  dialect: SqliteDialect;
  /**
   * Runs one statement outside Kysely's connection queue, or answers
   * undefined when a transaction is open on the connection, so the caller
   * queues behind it (through Kysely) instead of reading or joining its
   * uncommitted work. Reads run at once, through the read memo
   * (store/read-memo.ts); writes are group-committed.
   */
  runNow: DirectRunner;
  /**
   * Tells `listener` the number of statements in each group-commit batch,
   * until the function it returns is called (for `/metrics`; nothing is
   * counted while no one listens).
   */
  watchBatches(listener: BatchListener): () => void;
}

/** Told the number of statements in a group-commit batch, once its callers' promises are settled. Must not throw. */
export type BatchListener = (statements: number) => void;

/**
 * Folders this creates for the database, and the database file itself, are
 * for the server's user only (0700, 0600): they hold every user's data and
 * token digests. SQLite gives the WAL the database file's mode. Existing
 * files and folders keep theirs.
 */
export const DATA_FOLDER_MODE = 0o700;
export const DATABASE_FILE_MODE = 0o600;

/** SQLite's page cache per connection, in KiB. */
const CACHE_KIB = 65_536;

export function openSqlite(path: string): SqliteConnection {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: DATA_FOLDER_MODE });
    // Created here, before SQLite would create it with the umask's mode.
    closeSync(openSync(path, 'a', DATABASE_FILE_MODE));
  }
  const database = new SQLite(path);
  try {
    // The lock is never released by its holder, so waiting long is pointless.
    database.pragma('busy_timeout = 1000');
    // One server process owns the file: EXCLUSIVE locking takes the file lock
    // once instead of two fcntl calls around every statement, and keeps the
    // WAL index in process memory. A second process (another server, or the
    // CLI while the server runs) is refused.
    database.pragma('locking_mode = EXCLUSIVE');
    // WAL: a commit is one append. synchronous=NORMAL keeps every committed
    // transaction across a killed process (the WAL is in the OS page cache);
    // only a power loss can drop the last commits. FULL would cost an fsync
    // per write for that case alone.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    // SQLite's own page cache, 64 MiB instead of its default 2 MiB: at
    // millions of properties the B-tree pages that point reads and token
    // lookups touch stop fitting in 2 MiB, and every miss is a read from the
    // OS (docs/operations.md, "Scale"). A bound, not an allocation.
    database.pragma(`cache_size = -${CACHE_KIB}`);
  } catch (error) {
    database.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new Error(
        `the SQLite database ${path} is in use by another process, such as a running userplane server: stop it first, or load seed files with serve --seed`,
      );
    }
    throw error;
  }
  try {
    return connectSqlite(database);
  } catch (error) {
    database.close();
    throw error;
  }
}

/**
 * The store's connection over an open, configured database: the dialect for
 * Kysely, and the direct path with its read memo and group commit.
 *
 * The memo is coherent only because this connection is the only one that
 * can change the file (store/read-memo.ts), so it refuses to start unless
 * the connection reads `locking_mode=EXCLUSIVE` back for its main database.
 * `main.locking_mode` is that database's own mode; a bare `locking_mode`
 * reads the default for databases attached later, which can say
 * `exclusive` while the main database is `normal`.
 */
export function connectSqlite(database: SQLite.Database): SqliteConnection {
  const lockingMode = database.pragma('main.locking_mode', { simple: true });
  if (lockingMode !== 'exclusive') {
    throw new Error(
      `the SQLite read memo needs its connection to hold the database with locking_mode=EXCLUSIVE, but main.locking_mode reads back "${String(lockingMode)}": another connection could change the file behind the memo`,
    );
  }
  // Every statement that may write, on either path, first empties the memo.
  const memo = new ReadMemo();
  const prepare = statementCache(database, (statement) =>
    statement.readonly ? statement : forgettingFirst(statement, memo),
  );
  const prepareDirect = statementCache(
    database,
    (statement): DirectStatement => (statement.readonly ? { read: rowReader(statement, memo) } : { write: statement }),
  );
  const commits = new GroupCommit(database, memo);
  return {
    dialect: new SqliteDialect({
      database: {
        close: () => database.close(),
        prepare(sql) {
          commits.ensureClear();
          return prepare(sql);
        },
      },
    }),
    runNow(sql, parameters) {
      commits.ensureClear();
      if (database.inTransaction) return undefined;
      const statement = prepareDirect(sql);
      return 'read' in statement ? { rows: statement.read(parameters) } : commits.run(statement.write, parameters);
    },
    watchBatches: (listener) => commits.watch(listener),
  };
}

/** How runNow runs a statement: a read answers at once, a write is group-committed. */
type DirectStatement = { read: (parameters: readonly unknown[]) => unknown[] } | { write: SQLite.Statement };

/**
 * Rows of a read on the direct path, memoized. better-sqlite3 builds row
 * objects through V8's C++ API, looking every column name up in V8's string
 * table again for every row; in the server that cost as much as the point
 * query itself. The statement gives plain arrays of values instead, which is
 * also what the memo keeps. The row objects are built once per memoized
 * result, with the column names read once, and frozen, so every caller
 * shares them and none can change another's: a repeated read then builds
 * nothing (a page of 25 keys was 26 objects per request).
 */
function rowReader(statement: SQLite.Statement, memo: ReadMemo): (parameters: readonly unknown[]) => unknown[] {
  const columns = statement.columns().map((column) => column.name);
  const raw = statement.raw(true);
  const query = (parameters: readonly unknown[]) => raw.all(...parameters) as RawRows;
  const name = memo.register();
  const toRow = (values: unknown[]) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
    return Object.freeze(row);
  };
  // Keyed by the memo's result, which it hands out as the same array until it forgets it.
  const built = new WeakMap<RawRows, unknown[]>();
  return (parameters) => {
    const values = memo.read(name, parameters, query);
    let rows = built.get(values);
    if (rows === undefined) {
      rows = Object.freeze(values.map(toRow)) as unknown[];
      built.set(values, rows);
    }
    return rows;
  };
}

/**
 * A statement that may write, as Kysely's driver runs it (reader, all, run,
 * iterate), emptying the memo before each run. Transaction control (BEGIN,
 * COMMIT, ROLLBACK) counts as read-only, which is right: nothing is memoized
 * while a transaction is open, and a rolled-back write has already emptied it.
 */
function forgettingFirst(statement: SQLite.Statement, memo: ReadMemo): KyselyStatement {
  return {
    reader: statement.reader,
    all(parameters) {
      memo.forget();
      return statement.all(parameters);
    },
    run(parameters) {
      memo.forget();
      return statement.run(parameters);
    },
    iterate(parameters) {
      memo.forget();
      return statement.iterate(parameters);
    },
  };
}

type KyselyStatement = Pick<SQLite.Statement<readonly unknown[]>, 'reader' | 'all' | 'run' | 'iterate'>;

type Pending = {
  statement: SQLite.Statement;
  parameters: readonly unknown[];
  resolve(result: QueryResult<unknown>): void;
  reject(error: unknown): void;
};

/**
 * Group commit: single-statement writes that arrive in the same turn of the
 * event loop share one transaction, and each caller is answered only after
 * that COMMIT, so an acknowledged write is as durable as on its own. A
 * commit's WAL append costs several times the statement itself; sharing it
 * is what makes concurrent writes cheap. Each statement still succeeds or
 * fails on its own (SQLite rolls back only the failing statement).
 */
class GroupCommit {
  #pending: Pending[] = [];
  #scheduled = false;
  readonly #listeners = new Set<BatchListener>();
  /** One call for all listeners, or undefined while there are none: a batch then pays one property read. */
  #observe: BatchListener | undefined;

  constructor(
    private readonly database: SQLite.Database,
    private readonly memo: ReadMemo,
  ) {}

  watch(listener: BatchListener): () => void {
    this.#listeners.add(listener);
    this.#listenersChanged();
    return () => {
      this.#listeners.delete(listener);
      this.#listenersChanged();
    };
  }

  #listenersChanged(): void {
    const listeners = [...this.#listeners];
    this.#observe =
      listeners.length === 0
        ? undefined
        : (statements) => {
            for (const listener of listeners) listener(statements);
          };
  }

  run(statement: SQLite.Statement, parameters: readonly unknown[]): Promise<QueryResult<unknown>> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ statement, parameters, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  /**
   * Throws while a failed batch's transaction is still open on the
   * connection and cannot be rolled back, so no other statement runs (and
   * is later undone) inside it.
   */
  ensureClear(): void {
    if (this.#rollbackOwed && !this.#settleRollback()) throw this.#rollbackError;
  }

  #flush(): void {
    if (this.#rollbackOwed && !this.#settleRollback()) {
      // The connection still holds a batch it could not roll back: nothing
      // can commit on it until that succeeds.
      const batch = this.#pending;
      this.#pending = [];
      for (const pending of batch) pending.reject(this.#rollbackError);
      return;
    }
    // A transaction Kysely opened is still running: commit after it.
    if (this.database.inTransaction) {
      this.#schedule();
      return;
    }
    const batch = this.#pending;
    this.#pending = [];
    this.memo.forget();
    const outcomes: Array<{ ok: true; result: QueryResult<unknown> } | { ok: false; error: unknown }> = [];
    try {
      this.database.exec('BEGIN');
      for (const { statement, parameters } of batch) {
        try {
          outcomes.push({ ok: true, result: execute(statement, parameters) });
        } catch (error) {
          outcomes.push({ ok: false, error });
          // Some errors (I/O, a full disk) roll the whole transaction back.
          if (!this.database.inTransaction) throw error;
        }
      }
      this.database.exec('COMMIT');
    } catch (error) {
      // Every caller hears of the failure, even when ROLLBACK fails too:
      // this runs in a setImmediate callback, where an escaping error would
      // end the process and leave the batch's callers waiting forever.
      if (this.database.inTransaction) {
        this.#rollbackOwed = true;
        this.#settleRollback();
      }
      this.memo.forget();
      for (const pending of batch) pending.reject(error);
      this.#observe?.(batch.length);
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) pending.resolve(outcome.result);
      else pending.reject(outcome.error);
    });
    this.#observe?.(batch.length);
  }

  /** A failed batch's transaction still open on the connection. */
  #rollbackOwed = false;
  #rollbackError: Error | undefined;

  /**
   * Rolls back the failed batch's transaction; answers whether the
   * connection is clear of it. When ROLLBACK fails, the next batch tries
   * again before it begins, and is refused while it still fails.
   */
  #settleRollback(): boolean {
    try {
      if (this.database.inTransaction) this.database.exec('ROLLBACK');
      this.#rollbackOwed = false;
      this.#rollbackError = undefined;
      return true;
    } catch (error) {
      this.#rollbackError = new Error(
        `the SQLite connection could not roll back a failed group commit: ${(error as Error).message}`,
        { cause: error },
      );
      return false;
    } finally {
      this.memo.forget();
    }
  }
}

function execute(statement: SQLite.Statement, parameters: readonly unknown[]): QueryResult<unknown> {
  if (statement.reader) return { rows: statement.all(...parameters) };
  return { rows: [], numAffectedRows: BigInt(statement.run(...parameters).changes) };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; preparing costs more than running a
 * point query, so statements are kept by SQL text (with what `use` makes of
 * them). Each connection runs one statement at a time, so a statement is
 * never used twice at once.
 */
function statementCache<T>(database: SQLite.Database, use: (statement: SQLite.Statement) => T): (sql: string) => T {
  const statements = new Map<string, T>();
  return (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      statement = use(database.prepare(sql));
      statements.set(sql, statement);
    }
    return statement;
  };
}

/** SQLite's unique/primary-key violations, by driver code (never by message). */
export function isSqliteUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * SQLite cannot serve right now, as opposed to refusing one statement: by
 * better-sqlite3's error class and SQLite's result code (extended codes
 * included: `SQLITE_IOERR_WRITE`, `SQLITE_BUSY_SNAPSHOT`), never by message
 * (docs/operations.md, "Losing the database"). BUSY and LOCKED: the file or a
 * table is held by someone else; IOERR: the disk failed a read or a write;
 * FULL: the disk (or `max_page_count`) leaves no room to grow. CORRUPT,
 * READONLY and NOTADB are not here: retrying cannot help, so they stay 500s.
 */
export function isSqliteUnavailable(error: unknown): boolean {
  if (!(error instanceof SQLite.SqliteError)) return false;
  const primary = /^SQLITE_[A-Z]+/.exec(error.code)?.[0];
  return primary !== undefined && UNAVAILABLE_PRIMARY_CODES.has(primary);
}

const UNAVAILABLE_PRIMARY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL']);
