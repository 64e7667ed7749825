/** The shared store: PostgreSQL through `pg`. PostgreSQL-specific code lives here only. */
import pg from 'pg';
import { PostgresDialect } from 'kysely';

export function postgresDialect(connectionString: string): PostgresDialect {
  return new PostgresDialect({ pool: new pg.Pool({ connectionString, max: 10 }) });
}

/** PostgreSQL's unique_violation, by SQLSTATE. */
export function isPostgresUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}
