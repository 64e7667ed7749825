/**
 * Whether an error means the database cannot serve right now, as opposed to
 * refusing one statement: the one place such errors are recognised, by
 * driver class and error code, never by message text (docs/operations.md).
 */
import { isPostgresUnavailable } from './postgres.ts';
import { isSqliteUnavailable } from './sqlite.ts';

/** Node's codes for a network path to the database that failed. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * The database cannot serve right now: unreachable (below), or SQLite busy,
 * failing its I/O or full (store/sqlite.ts). A request meeting one is a 503
 * with `Retry-After` (domain/unavailable.ts).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return someCause(error, (e) => isPostgresUnavailable(e) || isSqliteUnavailable(e) || isNetworkError(e));
}

/**
 * The database cannot be reached at all: what start-up waits for
 * (`--database-wait`, server.ts). A SQLite file that is busy, failing or full
 * at start-up is not waited for: another server holds it, or the disk needs
 * an operator, and the start fails at once saying so.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  return someCause(error, (e) => isPostgresUnavailable(e) || isNetworkError(e));
}

function isNetworkError(error: Error): boolean {
  return NETWORK_CODES.has((error as { code?: unknown }).code as string);
}

/** The error or one of its causes, up to five deep. */
function someCause(error: unknown, test: (error: Error) => boolean): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (test(e)) return true;
  }
  return false;
}
