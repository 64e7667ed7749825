/**
 * A user's properties are found through one index on PostgreSQL. Frozen:
 * later changes go in new migration files.
 *
 * Before, `properties` had two indexes a property's address matched: the
 * identity key (site_id, product, namespace, account_id, key) and
 * `properties_by_user` (site_id, account_id), for the cascade from users.
 * The hot queries run as named prepared statements (store/postgres.ts),
 * and the generic plan PostgreSQL settles on after five runs costs both
 * indexes the same while the table has no statistics: it chose
 * `properties_by_user` and filtered the user's properties one by one, so a
 * property read or update visited every property of its user (up to
 * `maxPropertiesPerUser`) instead of one. The identity key now leads with
 * the user, (site_id, account_id, product, namespace, key): it is the only
 * index an address can use, it still orders a user's keys for the list,
 * and its prefix serves the cascade, so `properties_by_user` goes.
 *
 * The table also leaves a tenth of each page free (fillfactor 90): a PUT
 * rewrites a whole row, and PostgreSQL can then keep the new version on the
 * same page without touching any index (a HOT update). With full pages, as
 * a bulk load or a long-lived table leaves them, every update inserted into
 * each index. It applies to pages filled from now on.
 *
 * SQLite is left as it is: its planner picks the unique index whenever
 * every column of it is given, and changing a table constraint there means
 * copying the table. test/store/query-plans.test.ts holds both stores to
 * one index probe per property statement.
 */
import { type Kysely, type Migration, sql } from 'kysely';

/** Percent of each heap page PostgreSQL fills on insert; the rest is for updates of its rows. */
const PROPERTIES_FILLFACTOR = 90;

export function propertyIdentityByUser(dialect: 'sqlite' | 'postgres'): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      // One transaction (PostgreSQL's DDL is transactional): no moment without the key.
      await db.schema.alterTable('properties').dropConstraint('properties_site_identity').execute();
      await db.schema
        .alterTable('properties')
        .addUniqueConstraint('properties_site_identity', ['site_id', 'account_id', 'product', 'namespace', 'key'])
        .execute();
      await db.schema.dropIndex('properties_by_user').execute();
      await sql`alter table properties set (fillfactor = ${sql.lit(PROPERTIES_FILLFACTOR)})`.execute(db);
    },
  };
}
