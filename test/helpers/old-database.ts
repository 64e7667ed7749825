/**
 * A database as an earlier release left it, for the migration tests: a fresh
 * location on the given store, migrated up to and including the named
 * migration and no further, then handed to `fill` to write rows in that
 * schema. Opening it with `openStore` then runs the migrations after it.
 */
import { Kysely, Migrator } from 'kysely';
import { type DatabaseLocation, migrations } from '../../src/store/database.ts';
import { connectPostgres } from '../../src/store/postgres.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import { freshLocation, type StoreKind } from './stores.ts';

export async function databaseAsOf(
  kind: StoreKind,
  lastMigration: string,
  /** Written in the schema of that release, which no type of this one describes: hence `any`. */
  fill: (db: Kysely<any>) => Promise<void>,
): Promise<DatabaseLocation> {
  const location = await freshLocation(kind);
  const all = migrations(location.dialect);
  if (!(lastMigration in all)) throw new Error(`no migration named ${lastMigration}`);
  const upTo = Object.fromEntries(Object.entries(all).filter(([name]) => name <= lastMigration));
  const dialect =
    location.dialect === 'sqlite' ? openSqlite(location.path).dialect : connectPostgres(location.url).dialect;
  const db = new Kysely<any>({ dialect });
  try {
    const { error } = await new Migrator({ db, provider: { getMigrations: async () => upTo } }).migrateToLatest();
    if (error) throw error;
    await fill(db);
  } finally {
    await db.destroy();
  }
  return location;
}
