/** The shared store: PostgreSQL through `pg`. PostgreSQL-specific code lives here only. */

import { PostgresDialect } from 'kysely';
import pg from 'pg';

export function postgresDialect(connectionString: string): PostgresDialect {
  return new PostgresDialect({ pool: new pg.Pool({ connectionString, max: 10 }) });
}

/** PostgreSQL's unique_violation, by SQLSTATE. */
export function isPostgresUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}
