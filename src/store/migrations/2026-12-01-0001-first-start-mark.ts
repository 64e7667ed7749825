/**
 * The site remembers that first start has run (docs/behaviour.md §7), so a
 * later start never creates an admin, whatever became of the first one.
 * Frozen: later changes go in new migration files.
 * - A database that has a user was served by an earlier version, which ran
 *   first start on every start: it counts as started.
 */
import { type Kysely, type Migration, sql } from 'kysely';

export function firstStartMark(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('site').addColumn('first_started_at', 'text').execute();
      await sql`update site set first_started_at = created_at where exists (select 1 from users)`.execute(db);
    },
  };
}
