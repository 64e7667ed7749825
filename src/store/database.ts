/**
 * Opens a store from a database URL and migrates it. Everything outside
 * `sqlite.ts` and `postgres.ts` works on the `StoreDb` it returns (a
 * `Kysely<Database>`), whichever dialect is behind it.
 */
import {
  Kysely,
  type KyselyConfig,
  type Logger,
  type Migration,
  Migrator,
  type QueryResult,
  sql,
  type Transaction,
} from 'kysely';
import type { MaybePromise } from '../lib/maybe-promise.ts';
import { initial } from './migrations/2026-11-24-0001-initial.ts';
import { oauthTokens } from './migrations/2026-11-24-0002-oauth-tokens.ts';
import { spacesContentWatches } from './migrations/2026-11-24-0003-spaces-content-watches.ts';
import { firstStartMark } from './migrations/2026-12-01-0001-first-start-mark.ts';
import { sites } from './migrations/2026-12-01-0002-sites.ts';
import { siteSeeds } from './migrations/2026-12-01-0003-site-seeds.ts';
import { appKind } from './migrations/2026-12-01-0004-app-kind.ts';
import { propertyIdentityByUser } from './migrations/2026-12-01-0005-property-identity-by-user.ts';
import { type ConnectionErrorListener, connectPostgres, isPostgresUniqueViolation, type PoolUse } from './postgres.ts';
import type { Database } from './schema.ts';
import { type BatchListener, isSqliteUniqueViolation, openSqlite } from './sqlite.ts';

export type Db = Kysely<Database> | Transaction<Database>;

/**
 * Runs one compiled statement outside Kysely's connection queue and answers
 * its result (a read, at once; a write, once committed), or answers
 * undefined when it cannot right now (a transaction holds the connection),
 * and the caller then queues through Kysely instead.
 */
export type DirectRunner = (
  sql: string,
  parameters: readonly unknown[],
  /**
   * Given for a write of one row, the row's place in the lock order: such
   * writes may share a round trip and a commit with others (PostgreSQL's
   * write pipeline, store/postgres.ts). SQLite's group commit shares commits
   * without it.
   */
  lockOrder?: string,
) => MaybePromise<QueryResult<unknown>> | undefined;

/**
 * What the store lets an operator's figures read (`/metrics`, wired in
 * app.ts): plain numbers and callbacks, no metrics library. Each dialect
 * offers what it has: PostgreSQL its pool, SQLite its group commit (one
 * connection, no pool).
 */
export interface StoreObservations {
  /** PostgreSQL: the serving pool's connections now. */
  poolUse?(): PoolUse;
  /** SQLite: each group-commit batch's statement count, until the returned function is called. */
  watchBatches?(listener: BatchListener): () => void;
}

/**
 * The database handle `openStore` hands out: Kysely, plus the store's
 * direct runner (SQLite's outside its connection queue, store/sqlite.ts;
 * PostgreSQL's as named prepared statements on the pool, store/postgres.ts).
 * Prepared queries (store/prepared.ts) run through `runDirect` when they are
 * given this handle. Its transactions are plain Kysely `Transaction`s and
 * carry no runner, so statements inside one run in order through Kysely, on
 * the transaction's connection; so does any handle derived from it
 * (`withPlugin` and the like), which is merely slower.
 */
export class StoreDb extends Kysely<Database> {
  constructor(
    config: KyselyConfig,
    readonly runDirect?: DirectRunner,
    /** The readiness check's own path to the database, where it has one (PostgreSQL). */
    readonly pingDirect?: () => Promise<void>,
    readonly observations: StoreObservations = {},
  ) {
    super(config);
  }
}

export interface StoreOptions {
  /** PostgreSQL: told when an idle pooled connection is lost; it is replaced (store/postgres.ts). */
  onConnectionError?: ConnectionErrorListener;
  /**
   * Told of every statement the serving handle runs, once it has finished
   * (tracing, docs/operations.md "Traces"). Only given when something
   * listens: without it no statement pays for being watched.
   */
  observeStatements?: StatementObserver;
}

/**
 * A statement that ran: on which database, its SQL as compiled, with
 * placeholders (the values are never passed on), when it started and ended
 * (`performance.now()` milliseconds), and what it threw, if it failed.
 */
export interface StatementEvent {
  dialect: DatabaseLocation['dialect'];
  sql: string;
  startTime: number;
  endTime: number;
  error?: unknown;
}

export type StatementObserver = (event: StatementEvent) => void;

export type DatabaseLocation =
  | { dialect: 'sqlite'; path: string } // ':memory:' for an in-memory database
  | { dialect: 'postgres'; url: string };

export interface Store {
  db: StoreDb;
  location: DatabaseLocation;
  close(): Promise<void>;
}

/** `sqlite:PATH`, `sqlite::memory:`, a bare file path, or `postgres://…` (docs/behaviour.md §7). */
export function parseDatabaseUrl(value: string): DatabaseLocation {
  if (/^postgres(ql)?:\/\//.test(value)) return { dialect: 'postgres', url: value };
  const path = value.startsWith('sqlite:') ? value.slice('sqlite:'.length) : value;
  if (path === '') throw new Error(`database "${value}": the SQLite file path is empty`);
  return { dialect: 'sqlite', path };
}

export async function openStore(location: DatabaseLocation, options: StoreOptions = {}): Promise<Store> {
  let db: StoreDb;
  const observe = options.observeStatements;
  // Kysely's query log is its one hook around every statement it runs,
  // transactions' included; the direct runner is the other way in.
  const log = observe && kyselyLogTo(location.dialect, observe);
  if (location.dialect === 'sqlite') {
    const sqlite = openSqlite(location.path);
    const runDirect = observe ? observed(location.dialect, sqlite.runNow, observe) : sqlite.runNow;
    db = new StoreDb({ dialect: sqlite.dialect, log }, runDirect, undefined, { watchBatches: sqlite.watchBatches });
  } else {
    const postgres = connectPostgres(location.url, options.onConnectionError);
    const runDirect = observe ? observed(location.dialect, postgres.runPrepared, observe) : postgres.runPrepared;
    db = new StoreDb({ dialect: postgres.dialect, log }, runDirect, postgres.ping, { poolUse: postgres.poolUse });
  }
  try {
    if (location.dialect === 'sqlite') await migrate(db, location.dialect);
    else {
      // Migrations run without the serving pool's statement timeout: one may
      // rewrite a large table once. Their own pool closes when they are done.
      const migrating = new Kysely<Database>({
        dialect: connectPostgres(location.url, options.onConnectionError, 0).dialect,
      });
      try {
        await migrate(migrating, location.dialect);
      } finally {
        await migrating.destroy();
      }
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, location, close: () => db.destroy() };
}

function kyselyLogTo(dialect: DatabaseLocation['dialect'], observe: StatementObserver): Logger {
  return (event) => {
    const endTime = performance.now();
    observe({
      dialect,
      sql: event.query.sql,
      startTime: endTime - event.queryDurationMillis,
      endTime,
      ...(event.level === 'error' ? { error: event.error } : {}),
    });
  };
}

/** The direct runner, telling `observe` of each statement it ran (not of those it handed back to Kysely). */
function observed(dialect: DatabaseLocation['dialect'], run: DirectRunner, observe: StatementObserver): DirectRunner {
  return (sql, parameters, lockOrder) => {
    const startTime = performance.now();
    let result: ReturnType<DirectRunner>;
    try {
      result = run(sql, parameters, lockOrder);
    } catch (error) {
      observe({ dialect, sql, startTime, endTime: performance.now(), error });
      throw error;
    }
    if (result === undefined) return undefined;
    if (!(result instanceof Promise)) {
      observe({ dialect, sql, startTime, endTime: performance.now() });
      return result;
    }
    return result.then(
      (value) => {
        observe({ dialect, sql, startTime, endTime: performance.now() });
        return value;
      },
      (error: unknown) => {
        observe({ dialect, sql, startTime, endTime: performance.now(), error });
        throw error;
      },
    );
  };
}

/** Every migration, by name; names sort in the order they run. */
export function migrations(dialect: DatabaseLocation['dialect']): Record<string, Migration> {
  return {
    '2026-11-24-0001-initial': initial(dialect),
    '2026-11-24-0002-oauth-tokens': oauthTokens(),
    '2026-11-24-0003-spaces-content-watches': spacesContentWatches(dialect),
    '2026-12-01-0001-first-start-mark': firstStartMark(),
    '2026-12-01-0002-sites': sites(dialect),
    '2026-12-01-0003-site-seeds': siteSeeds(dialect),
    '2026-12-01-0004-app-kind': appKind(),
    '2026-12-01-0005-property-identity-by-user': propertyIdentityByUser(dialect),
  };
}

async function migrate(db: Kysely<Database>, dialect: DatabaseLocation['dialect']): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** Ids per `IN (…)` list: far below SQLite's and PostgreSQL's parameter limits. */
const IN_LIST_CHUNK = 500;

/** `items` cut into lists short enough for one `IN (…)` each. */
export function inListChunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += IN_LIST_CHUNK) out.push(items.slice(i, i + IN_LIST_CHUNK));
  return out;
}

export function isUniqueViolation(error: unknown): boolean {
  return isSqliteUniqueViolation(error) || isPostgresUniqueViolation(error);
}

/**
 * A cheap round trip, for /readyz. On PostgreSQL it takes a connection of
 * its own with a short deadline (store/postgres.ts), so it neither waits in
 * the pool's queue behind requests nor hangs with a hung server.
 */
export async function ping(db: Kysely<Database>): Promise<void> {
  if (db instanceof StoreDb && db.pingDirect) return db.pingDirect();
  await sql`select 1`.execute(db);
}

/**
 * Serialises writers on one user: an UPDATE that changes nothing still takes
 * PostgreSQL's row lock until the transaction ends (SQLite has one writer
 * anyway). Returns false when the user does not exist.
 */
export async function lockUser(trx: Transaction<Database>, siteId: number, accountId: string): Promise<boolean> {
  const result = await trx
    .updateTable('users')
    .set((eb) => ({ active: eb.ref('active') }))
    .where('site_id', '=', siteId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
