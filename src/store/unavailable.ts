/**
 * Whether an error means the database cannot serve right now, as opposed to
 * refusing one statement: the one place such errors are recognised, by
 * driver class and error code, never by message text (docs/operations.md).
 */
import { isPostgresUnavailable } from './postgres.ts';

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

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (isPostgresUnavailable(e)) return true;
    if (NETWORK_CODES.has((e as { code?: unknown }).code as string)) return true;
  }
  return false;
}
