/**
 * Opens a store from a database URL and migrates it. Everything outside
 * `sqlite.ts` and `postgres.ts` works on the `Kysely<Database>` it returns,
 * whichever dialect is behind it.
 */
import { Kysely, type Migration, Migrator, sql, type Transaction } from 'kysely';
import { initial } from './migrations/2026-11-24-0001-initial.ts';
import { oauthTokens } from './migrations/2026-11-24-0002-oauth-tokens.ts';
import { spacesContentWatches } from './migrations/2026-11-24-0003-spaces-content-watches.ts';
import { isPostgresUniqueViolation, postgresDialect } from './postgres.ts';
import { runDirectly } from './prepared.ts';
import type { Database } from './schema.ts';
import { isSqliteUniqueViolation, openSqlite } from './sqlite.ts';

export type Db = Kysely<Database> | Transaction<Database>;

export type DatabaseLocation =
  | { dialect: 'sqlite'; path: string } // ':memory:' for an in-memory database
  | { dialect: 'postgres'; url: string };

export interface Store {
  db: Kysely<Database>;
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

export async function openStore(location: DatabaseLocation): Promise<Store> {
  const sqlite = location.dialect === 'sqlite' ? openSqlite(location.path) : undefined;
  const db = new Kysely<Database>({ dialect: sqlite?.dialect ?? postgresDialect((location as { url: string }).url) });
  try {
    await migrate(db, location.dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  if (sqlite) runDirectly(db, sqlite.runNow);
  return { db, location, close: () => db.destroy() };
}

function migrations(dialect: DatabaseLocation['dialect']): Record<string, Migration> {
  return {
    '2026-11-24-0001-initial': initial(dialect),
    '2026-11-24-0002-oauth-tokens': oauthTokens(),
    '2026-11-24-0003-spaces-content-watches': spacesContentWatches(dialect),
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
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`);
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

/** A cheap round trip, for /readyz. */
export async function ping(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

/**
 * Serialises writers on one user: an UPDATE that changes nothing still takes
 * PostgreSQL's row lock until the transaction ends (SQLite has one writer
 * anyway). Returns false when the user does not exist.
 */
export async function lockUser(trx: Transaction<Database>, accountId: string): Promise<boolean> {
  const result = await trx
    .updateTable('users')
    .set((eb) => ({ active: eb.ref('active') }))
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
