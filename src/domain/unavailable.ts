/**
 * A database that cannot serve right now (store/unavailable.ts) is a 503
 * that tells the client to retry in a second, whatever the route
 * (docs/operations.md); every other error is left as it is.
 */
import { isDatabaseUnavailable } from '../store/unavailable.ts';
import { ApiError } from './errors.ts';

/** Seconds a client waits before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

export function databaseUnavailable(error: unknown): ApiError | undefined {
  if (!isDatabaseUnavailable(error)) return undefined;
  return new ApiError('unavailable', 'The database is not answering: retry the request shortly', {
    'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS),
  });
}
