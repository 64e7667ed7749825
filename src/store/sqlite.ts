/** The embedded store: better-sqlite3 in WAL mode. SQLite-specific code lives here only. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { SqliteDialect } from 'kysely';

export interface SqliteConnection {
  dialect: SqliteDialect;
  /**
   * Runs a read at once, on the same connection, when no transaction is open
   * on it; undefined when one is, so the caller queues behind it (through
   * Kysely) instead of reading its uncommitted rows.
   */
  readNow(sql: string, parameters: readonly unknown[]): unknown[] | undefined;
}

export function openSqlite(path: string): SqliteConnection {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new SQLite(path);
  database.pragma('busy_timeout = 5000');
  // One server process owns the file: EXCLUSIVE locking takes the file lock
  // once instead of two fcntl calls around every statement, and keeps the
  // WAL index in process memory. A second process (another server, or the
  // CLI while the server runs) is refused with "database is locked".
  database.pragma('locking_mode = EXCLUSIVE');
  // WAL: a commit is one append. synchronous=NORMAL keeps every committed
  // transaction across a killed process (the WAL is in the OS page cache);
  // only a power loss can drop the last commits. FULL would cost an fsync
  // per write for that case alone.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  const prepare = statementCache(database);
  return {
    dialect: new SqliteDialect({ database: { close: () => database.close(), prepare } }),
    readNow: (sql, parameters) => (database.inTransaction ? undefined : prepare(sql).all(...parameters)),
  };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; preparing costs more than running a
 * point query, so statements are kept by SQL text. Each connection runs one
 * statement at a time, so a statement is never used twice at once.
 */
function statementCache(database: SQLite.Database): (sql: string) => SQLite.Statement {
  const statements = new Map<string, SQLite.Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      statement = database.prepare(sql);
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
