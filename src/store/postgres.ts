/** The shared store: PostgreSQL through `pg`. PostgreSQL-specific code lives here only. */

import { PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';

export function postgresDialect(connectionString: string): PostgresDialect {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // An idle connection the server ends is dropped by the pool and replaced
  // when next needed; without a listener its 'error' would end the process.
  pool.on('error', () => {});
  return new PostgresDialect({ pool: reportingLostConnections(pool) });
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
  if (error instanceof PostgresConnectionError) return true;
  if (!(error instanceof pg.DatabaseError)) return false;
  const code = error.code ?? '';
  return code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code);
}

/**
 * The pool as Kysely sees it, with `pg`'s own failures named: a failure to
 * connect or of a statement that PostgreSQL did not report itself (`pg`'s
 * "connection terminated", "timeout", "not queryable" carry no code) becomes
 * a `PostgresConnectionError`. A
 * connection in use also gets an 'error' listener: the pool listens only
 * to idle ones, and a lost connection reports through the statement's
 * failure.
 */
function reportingLostConnections(pool: pg.Pool): PostgresPool {
  return {
    async connect() {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw named(error);
      }
      return inUse(client);
    },
    end: () => pool.end(),
  };
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
  client.on('error', ignore);
  return {
    query: ((sqlOrCursor: unknown, parameters?: readonly unknown[]) => {
      // A cursor (Kysely's streaming) is handed through as it is.
      if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as pg.Submittable);
      return client.query(sqlOrCursor, parameters as unknown[]).catch((error: unknown) => {
        throw named(error);
      });
    }) as unknown as PostgresPoolClient['query'],
    release() {
      client.off('error', ignore);
      client.release();
    },
  };
}
