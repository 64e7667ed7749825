/** The shared store: PostgreSQL through `pg`. PostgreSQL-specific code lives here only. */

import { PostgresDialect, type PostgresPool, type PostgresPoolClient, type QueryResult } from 'kysely';
import pg from 'pg';

/** Connections per instance. */
export const POOL_SIZE = 10;
/**
 * Requests that may wait for a connection once all are busy; one more is
 * refused at once (`DatabaseBusyError`) instead of queueing without bound
 * (docs/decisions.md, "The PostgreSQL pool").
 */
export const POOL_MAX_WAITING = 200;
/** How long a request waits for a connection, a new one included, before it fails. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** The longest any one statement may run on the server (`statement_timeout`). */
export const STATEMENT_TIMEOUT_MS = 10_000;
/** A transaction left idle this long is ended by the server (`idle_in_transaction_session_timeout`). */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
/** `/readyz`'s own connection: connect, `select 1` and all, within this. */
export const PING_TIMEOUT_MS = 2_000;

/** The pool is full and its queue too: the request is refused rather than left waiting. */
export class DatabaseBusyError extends Error {
  readonly code = 'USERPLANE_DATABASE_BUSY';
  constructor() {
    super(`the database is busy: all ${POOL_SIZE} connections are in use and ${POOL_MAX_WAITING} requests wait`);
    this.name = 'DatabaseBusyError';
  }
}

/**
 * Called when an idle connection fails (the server restarted or failed over,
 * or `pg_terminate_backend` ended it). The pool drops that connection and
 * opens another when one is next needed; the default writes one line,
 * without the connection string.
 */
export type ConnectionErrorListener = (error: Error) => void;

const logConnectionError: ConnectionErrorListener = (error) => {
  const code = (error as { code?: unknown }).code;
  process.stderr.write(
    `userplane: a PostgreSQL connection was lost${typeof code === 'string' ? ` (${code})` : ''}: ${error.message}; it will be replaced\n`,
  );
};

/** The serving pool's connections at one moment, for `/metrics`. */
export interface PoolUse {
  /** Connections open, idle or in use. */
  total: number;
  idle: number;
  /** Requests waiting for a connection. */
  waiting: number;
  /** The most connections the pool opens (`POOL_SIZE`). */
  max: number;
}

export interface PostgresConnection {
  dialect: PostgresDialect;
  /** Read from `pg`'s own counts when asked: nothing is counted per query. */
  poolUse(): PoolUse;
  /** A round trip on a connection of its own, outside the pool's queue, failing within `PING_TIMEOUT_MS`. */
  ping(): Promise<void>;
  /**
   * Runs one compiled statement on a pooled connection as a named prepared
   * statement, answering what Kysely's driver would (store/prepared.ts). See
   * `preparedRunner`.
   */
  runPrepared(sql: string, parameters: readonly unknown[], lockOrder?: string): Promise<QueryResult<unknown>>;
}

/**
 * `statementTimeoutMs`: 0 for none, for migrations only, which may rewrite
 * a large table once (store/database.ts).
 */
export function connectPostgres(
  connectionString: string,
  onConnectionError: ConnectionErrorListener = logConnectionError,
  statementTimeoutMs = STATEMENT_TIMEOUT_MS,
): PostgresConnection {
  const pool = new pg.Pool({
    connectionString,
    // Names the connections in pg_stat_activity; an application_name in the
    // URL wins.
    application_name: 'userplane',
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
  // Without a listener, an idle client's error is an unhandled 'error'
  // event, which ends the process.
  pool.on('error', onConnectionError);
  // A new connection is handed over without pg-pool's listener, and an error
  // arriving with its first message (a backend ended at that moment) would
  // find none before the caller resumes: every connection has one for life.
  // The query under way fails on its own; an idle one still reaches
  // onConnectionError through pg-pool.
  pool.on('connect', (client) => client.on('error', ignore));
  let closed = false;
  const bounded: PostgresPool = {
    async connect() {
      if (pool.waitingCount >= POOL_MAX_WAITING) throw new DatabaseBusyError();
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw named(error);
      }
      return inUse(client);
    },
    end() {
      closed = true;
      return pool.end();
    },
  };
  return {
    dialect: new PostgresDialect({ pool: bounded }),
    runPrepared: preparedRunner(pool),
    poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: POOL_SIZE }),
    // A closed store is not ready, however well the server answers.
    ping: () => (closed ? Promise.reject(new Error('the store is closed')) : pingOnce(connectionString)),
  };
}

/**
 * The hot queries' way past Kysely (store/prepared.ts: `StoreDb.runDirect`):
 * each statement text gets a name once per process, and `pg` prepares it
 * once per connection (Parse), then only binds and executes it. PostgreSQL
 * so neither parses nor plans the statement again on that connection (after
 * five runs it keeps a generic plan), which halved its CPU per property GET;
 * skipping Kysely's connection provider saves a few promises per query too
 * (docs/decisions.md, "PostgreSQL at the speed of raw pg"). The pool's
 * bounds hold as for every other query: the same waiting limit, the same
 * errors. The number of names is bounded by the prepared queries in the
 * code, each compiled once per database.
 */
function preparedRunner(
  pool: pg.Pool,
): (sql: string, parameters: readonly unknown[], lockOrder?: string) => Promise<QueryResult<unknown>> {
  const names = new Map<string, string>();
  const nameOf = (sql: string) => {
    let name = names.get(sql);
    if (name === undefined) {
      name = `userplane_${names.size + 1}`;
      names.set(sql, name);
    }
    return name;
  };
  const pipeline = writePipeline(pool);
  // Callbacks rather than pg's and pg-pool's promises: one promise per statement instead of four.
  return (sql, parameters, lockOrder) =>
    new Promise((resolve, reject) => {
      const statement = nameOf(sql);
      if (lockOrder !== undefined) {
        pipeline({ statement, sql, parameters, lockOrder, resolve, reject });
        return;
      }
      if (pool.waitingCount >= POOL_MAX_WAITING) {
        reject(new DatabaseBusyError());
        return;
      }
      pool.connect((connectError, client, release) => {
        if (connectError || client === undefined) {
          reject(named(connectError));
          return;
        }
        runOn(client, { statement, sql, parameters, resolve, reject }, release);
      });
    });
}

/** One run of a named prepared statement, and who waits for its answer. */
interface Run {
  statement: string;
  sql: string;
  parameters: readonly unknown[];
  resolve(result: QueryResult<unknown>): void;
  reject(error: unknown): void;
}

/** Runs one statement on a pooled client, then calls `done` (the client's release). */
function runOn(client: pg.PoolClient, run: Run, done: () => void): void {
  const answer = (error: Error | null, result: pg.QueryResult) => {
    done();
    if (error) run.reject(named(error));
    else run.resolve(queryResult(result));
  };
  try {
    if (PG_INTERNALS_AS_EXPECTED)
      client.query(new PreparedQuery(run.statement, run.sql, run.parameters as unknown[], answer));
    else client.query({ name: run.statement, text: run.sql, values: run.parameters as unknown[] }, answer);
  } catch (error) {
    // Thrown here, it would escape as an uncaught exception.
    done();
    run.reject(named(error));
  }
}

/** As Kysely's PostgreSQL driver answers a statement. */
function queryResult(result: pg.QueryResult): QueryResult<unknown> {
  return {
    // As Kysely's PostgreSQL driver counts them.
    numAffectedRows: WRITE_COMMANDS.has(result.command) ? BigInt(result.rowCount ?? 0) : undefined,
    rows: result.rows ?? [],
  };
}

/** The most writes one pipeline carries. */
const PIPELINE_MAX = 64;

interface PipelinedWrite extends Run {
  lockOrder: string;
}

/**
 * Single-row writes share round trips and commits (docs/decisions.md,
 * "PostgreSQL at the speed of raw pg"), as SQLite's group commit shares
 * commits. A write waits for a connection as any statement does; the
 * connection that comes free takes every write then waiting and sends them
 * as one pipeline: a Bind and an Execute each, then a single Sync. PostgreSQL
 * runs them in order in one implicit transaction and commits once, and each
 * caller is answered after that commit, as durable as alone. With the pool
 * idle a write goes at once, alone.
 *
 * - **Lock order.** A pipeline's writes go in their rows' lock order, so two
 *   pipelines (of this instance or another) never wait for each other in a
 *   cycle; writes to one row keep the order they came in.
 * - **One answer each.** Any error rolls the whole pipeline back; its writes
 *   are then run again one at a time on the same connection, each with its
 *   own answer (a lost connection fails each of them with its error).
 * - **Prepared first.** A pipeline sends no Parse: a batch with a
 *   statement not yet prepared on its connection runs one write at a time,
 *   which prepares it, so an error can never leave the connection unsure
 *   which names exist.
 */
function writePipeline(pool: pg.Pool): (write: PipelinedWrite) => void {
  const waiting: PipelinedWrite[] = [];
  // Connections asked of the pool for waiting writes and not yet given.
  let asked = 0;
  const ask = () => {
    asked++;
    pool.connect((connectError, client, release) => {
      asked--;
      const writes = waiting.splice(0, PIPELINE_MAX);
      // More than one pipeline's worth was waiting.
      if (waiting.length > 0 && asked === 0) ask();
      if (connectError || client === undefined) {
        for (const write of writes) write.reject(named(connectError));
        return;
      }
      if (writes.length === 0) {
        release();
        return;
      }
      runPipeline(client, writes, release);
    });
  };
  return (write) => {
    if (waiting.length >= POOL_MAX_WAITING) {
      write.reject(new DatabaseBusyError());
      return;
    }
    waiting.push(write);
    if (asked < waiting.length && asked < POOL_SIZE) ask();
  };
}

/** Sends the writes as one pipeline, or one at a time when they cannot go as one. */
function runPipeline(client: pg.PoolClient, writes: PipelinedWrite[], release: () => void): void {
  if (writes.length === 1 || !PG_INTERNALS_AS_EXPECTED || !writes.every((w) => isPrepared(client, w.statement))) {
    oneAtATime(client, writes, release);
    return;
  }
  // A stable sort: writes to one row keep their order.
  writes.sort((a, b) => (a.lockOrder < b.lockOrder ? -1 : a.lockOrder > b.lockOrder ? 1 : 0));
  try {
    client.query(
      new PipelineQuery(writes, (error, results) => {
        if (error) {
          oneAtATime(client, writes, release);
          return;
        }
        release();
        if (!Array.isArray(results) || results.length !== writes.length) {
          // Committed, but not answered write by write: never run again.
          const unread = new Error(`PostgreSQL answered a pipeline of ${writes.length} writes unreadably`);
          for (const write of writes) write.reject(unread);
          return;
        }
        for (let i = 0; i < writes.length; i++) writes[i]!.resolve(queryResult(results[i] as pg.QueryResult));
      }),
    );
  } catch {
    oneAtATime(client, writes, release);
  }
}

/** Runs each write alone, in order, on the client, each once the one before is answered, then releases it. */
function oneAtATime(client: pg.PoolClient, writes: readonly Run[], release: () => void): void {
  let next = 0;
  const step = () => {
    if (next === writes.length) release();
    else runOn(client, writes[next++]!, step);
  };
  step();
}

/** Whether the client's connection has the statement prepared (pg's own bookkeeping). */
function isPrepared(client: pg.PoolClient, statement: string): boolean {
  const connection = (client as unknown as { connection?: ConnectionInternals }).connection;
  return connection?.parsedStatements?.[statement] !== undefined;
}

const WRITE_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** What `PreparedQuery` reaches of `pg`'s `Query` and `Result` beyond their typings (pg 8). */
interface QueryInternals {
  name: string;
  values: unknown[];
  callback: (error: Error | null, result: pg.QueryResult) => void;
  _result: ResultInternals;
  _results: unknown;
  _canceledDueToError: Error | false;
  _checkForMultirow(): void;
  handleError(error: Error, connection: unknown): void;
}
interface ResultInternals {
  fields: FieldDescription[];
  _parsers: Array<(raw: unknown) => unknown> | undefined;
  _prebuiltEmptyResultObject: Record<string, null> | null;
  parseRow(raw: unknown[]): unknown;
  addFields(fields: FieldDescription[]): void;
  rows: unknown[];
}
interface FieldDescription {
  name: string;
  dataTypeID: number;
  format: string;
}
type RowShape = Pick<ResultInternals, 'fields' | '_parsers' | '_prebuiltEmptyResultObject'>;

/**
 * Whether this `pg` has the internals `PreparedQuery` and `PipelineQuery`
 * reach (those of pg 8.23, checked once on a probe); a `pg` without them
 * gets plain named queries, one at a time, slower but not broken.
 */
export const PG_INTERNALS_AS_EXPECTED = ((): boolean => {
  const probe = new pg.Query('select 1') as unknown as Partial<QueryInternals>;
  const result = probe._result as Partial<ResultInternals> | undefined;
  return (
    typeof probe._checkForMultirow === 'function' &&
    typeof probe.handleError === 'function' &&
    probe._canceledDueToError === false &&
    typeof result?.parseRow === 'function' &&
    typeof result.addFields === 'function' &&
    Array.isArray(result.rows) &&
    '_parsers' in result &&
    '_prebuiltEmptyResultObject' in result &&
    pipelineReady()
  );
})();

/** Whether `pg`'s Connection has what `PipelineQuery` writes with and `isPrepared` reads. */
function pipelineReady(): boolean {
  const connection = new pg.Connection() as unknown as Partial<ConnectionInternals>;
  return (
    typeof connection.parsedStatements === 'object' &&
    typeof connection.stream?.cork === 'function' &&
    typeof connection.bind === 'function' &&
    typeof connection.describe === 'function' &&
    typeof connection.execute === 'function' &&
    typeof connection.sync === 'function'
  );
}

/** Each prepared statement's row shape, as `pg` last described it, by statement name. */
const rowShapes = new Map<string, RowShape>();

/**
 * `pg`'s `Query` for one run of a named prepared statement, which does per
 * run what `pg` repeats for every query without need (docs/decisions.md,
 * "PostgreSQL at the speed of raw pg"): it is made from the statement's text
 * (a config object would be copied property by property, descriptors and
 * all), its row description is mapped to type parsers and an empty row once
 * per statement and shape rather than once per run (`pg` builds the empty row
 * as a dictionary object and copies it), and with no listener to hear them it
 * emits no `row` and `end` events. Errors, a parser's failure included, take
 * `pg`'s own way.
 */
class PreparedQuery extends pg.Query {
  constructor(name: string, text: string, values: unknown[], callback: QueryInternals['callback']) {
    super(text);
    const self = this as unknown as QueryInternals;
    self.name = name;
    self.values = values;
    self.callback = callback;
  }

  handleRowDescription(message: { fields: FieldDescription[] }): void {
    const self = this as unknown as QueryInternals;
    self._checkForMultirow();
    const result = self._result;
    const { fields } = message;
    const known = rowShapes.get(self.name);
    if (known !== undefined && sameFields(known.fields, fields)) {
      result.fields = known.fields;
      result._parsers = known._parsers;
      result._prebuiltEmptyResultObject = known._prebuiltEmptyResultObject;
      return;
    }
    result.addFields(fields);
    rowShapes.set(self.name, {
      fields,
      _parsers: result._parsers,
      _prebuiltEmptyResultObject: result._prebuiltEmptyResultObject,
    });
  }

  handleDataRow(message: { fields: unknown[] }): void {
    const self = this as unknown as QueryInternals;
    if (self._canceledDueToError) return;
    try {
      self._result.rows.push(self._result.parseRow(message.fields));
    } catch (error) {
      self._canceledDueToError = error as Error;
    }
  }

  handleReadyForQuery(connection: unknown): void {
    const self = this as unknown as QueryInternals;
    if (self._canceledDueToError) {
      self.handleError(self._canceledDueToError, connection);
      return;
    }
    try {
      self.callback(null, self._results as pg.QueryResult);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
}

/** What `PipelineQuery` reaches of `pg`'s `Connection` (pg 8). */
interface ConnectionInternals {
  parsedStatements?: Record<string, string>;
  stream: { cork?(): void; uncork?(): void };
  bind(message: {
    portal: string;
    statement: string;
    values: readonly unknown[];
    valueMapper(value: unknown): string | null;
  }): void;
  describe(message: { type: 'P'; name: string }): void;
  execute(message: { portal: string; rows: undefined }): void;
  sync(): void;
}

/** A pipelined write's parameters as text: the property writes bind strings and numbers only. */
const asText = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/**
 * Several runs of prepared statements as one pipeline (`writePipeline`): a
 * Bind, Describe and Execute for each, then one Sync. `pg` reads the answers
 * as a multi-statement query's: one result per statement, in order, and the
 * callback after ReadyForQuery, that is after the commit.
 */
class PipelineQuery extends pg.Query {
  readonly #writes: readonly Run[];

  constructor(writes: readonly Run[], callback: (error: Error | null, results: unknown) => void) {
    super(writes[0]!.sql);
    this.#writes = writes;
    (this as unknown as QueryInternals).callback = callback;
  }

  override submit = (pgConnection: unknown): null => {
    const connection = pgConnection as ConnectionInternals;
    connection.stream.cork?.();
    try {
      for (const write of this.#writes) {
        connection.bind({ portal: '', statement: write.statement, values: write.parameters, valueMapper: asText });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: undefined });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  };
}

function sameFields(a: FieldDescription[], b: FieldDescription[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.dataTypeID !== y.dataTypeID || x.format !== y.format) return false;
  }
  return true;
}

/**
 * Opens a connection of its own, runs `select 1` and closes it. A hung
 * server or a full pool cannot hold it past the deadline.
 */
async function pingOnce(connectionString: string): Promise<void> {
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: PING_TIMEOUT_MS,
    query_timeout: PING_TIMEOUT_MS,
    statement_timeout: PING_TIMEOUT_MS,
  });
  // A connection lost while pinging is reported by the ping's own rejection.
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`PostgreSQL did not answer within ${PING_TIMEOUT_MS} ms`)),
      PING_TIMEOUT_MS,
    );
  });
  try {
    const roundTrip = (async () => {
      await client.connect();
      await client.query('select 1');
    })();
    // Past the deadline its failure has no one left to hear it.
    roundTrip.catch(() => {});
    await Promise.race([roundTrip, deadline]);
  } finally {
    clearTimeout(timer);
    client.end().catch(() => {});
  }
}

/** PostgreSQL's unique_violation, by SQLSTATE. */
export function isPostgresUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/**
 * The database could not be reached, or the connection a statement ran on
 * was lost: no connection could be had, or `pg` failed the statement itself
 * rather than PostgreSQL answering it (docs/operations.md).
 */
export class PostgresConnectionError extends Error {
  readonly code = 'USERPLANE_DATABASE_UNREACHABLE';
  constructor(cause: unknown) {
    super(`PostgreSQL cannot be reached: ${(cause as Error | null)?.message ?? String(cause)}`, { cause });
    this.name = 'PostgresConnectionError';
  }
}

/**
 * SQLSTATEs that say the server, not the statement, is the problem: class 08
 * (connection exception), shutting down or starting up (57P01-57P03), out of
 * connections (53300), a statement cancelled by its timeout (57014).
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

/** PostgreSQL cannot serve right now: by class or SQLSTATE, never by message text. */
export function isPostgresUnavailable(error: unknown): boolean {
  if (error instanceof PostgresConnectionError || error instanceof DatabaseBusyError) return true;
  if (!(error instanceof pg.DatabaseError)) return false;
  const code = error.code ?? '';
  return code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code);
}

/**
 * An error PostgreSQL reported (a `DatabaseError`, with its SQLSTATE: a
 * wrong password, a missing database, or one of UNAVAILABLE_SQLSTATES) as
 * it is; any other is `pg`'s own, about the connection.
 */
function named(error: unknown): Error {
  return error instanceof pg.DatabaseError ? error : new PostgresConnectionError(error);
}

const ignore = () => {};

function inUse(client: pg.PoolClient): PostgresPoolClient {
  return {
    query: ((sqlOrCursor: unknown, parameters?: readonly unknown[]) => {
      // A cursor (Kysely's streaming) is handed through as it is.
      if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as pg.Submittable);
      return client.query(sqlOrCursor, parameters as unknown[]).catch((error: unknown) => {
        throw named(error);
      });
    }) as unknown as PostgresPoolClient['query'],
    release() {
      client.release();
    },
  };
}
