/**
 * The snapshot tables (store/snapshots.ts) against the database, on both
 * stores: every table of a site's rows is copied, every column of it, and
 * its `snapshot_` twin has the same columns; so a column added later
 * without a twin fails here rather than vanishing at the next restore.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../../src/store/database.ts';
import { SNAPSHOT_TABLES, snapshotTableOf } from '../../src/store/snapshots.ts';
import { freshStore, STORE_KINDS } from '../helpers/stores.ts';

/** Tables that are not a site's rows. */
const NOT_SITE_ROWS = new Set(['sites', 'server', 'snapshots']);

for (const kind of STORE_KINDS) {
  describe(`snapshot tables on ${kind}`, () => {
    let store: Store;
    before(async () => {
      store = await freshStore(kind);
    });
    after(() => store.close());

    test('every table with a site_id is copied whole, into a twin of the same columns', async () => {
      const tables = new Map(
        (await store.db.introspection.getTables()).map((t) => [t.name, t.columns.map((c) => c.name).sort()]),
      );
      const siteTables = [...tables]
        .filter(([name, columns]) => columns.includes('site_id') && !NOT_SITE_ROWS.has(name))
        .map(([name]) => name)
        .sort();
      assert.deepEqual(SNAPSHOT_TABLES.map((t) => t.name).sort(), siteTables);
      for (const { name, columns } of SNAPSHOT_TABLES) {
        const live = tables.get(name)!.filter((c) => c !== 'site_id');
        assert.deepEqual([...columns].sort(), live, `${name}: every column but site_id`);
        assert.deepEqual(
          tables.get(snapshotTableOf(name)),
          [...live, 'snapshot_id'].sort(),
          `${snapshotTableOf(name)}: the same columns and snapshot_id`,
        );
      }
    });
  });
}
