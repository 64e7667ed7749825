/**
 * The hot property statements each find their rows through the identity key
 * and nothing else, on both stores: a property read, update or delete probes
 * one index entry, and a page of keys is read in the index's order, never
 * by filtering a user's properties one by one or sorting them. PostgreSQL is
 * asked for the generic plan, the one a named prepared statement runs after
 * its fifth run (store/postgres.ts); SQLite for its query plan. The plans
 * are read from the database, not timed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import { openStore, type Store } from '../../src/store/database.ts';
import {
  deleteProperty,
  findProperty,
  insertProperty,
  listPropertyKeys,
  replacePropertyValue,
} from '../../src/store/properties.ts';
import { ensureDefaultSite } from '../../src/store/site.ts';
import { upsertUser } from '../../src/store/users.ts';
import { confluencePropertiesOf, DEFAULT_SITE, freshLocation, plainUser, STORE_KINDS } from '../helpers/stores.ts';

const USER = '712020:plans';
const at = confluencePropertiesOf(USER);

/** The identity key's columns as SQLite names them in a plan, in the order the key lists them. */
const SQLITE_ADDRESS = 'site_id=? AND product=? AND namespace=? AND account_id=?';

for (const kind of STORE_KINDS) {
  describe(`the property statements' plans on ${kind}`, () => {
    let store: Store;
    const statements = new Set<string>();
    let watching = false;

    before(async () => {
      store = await openStore(await freshLocation(kind), {
        observeStatements: ({ sql }) => {
          if (watching) statements.add(sql);
        },
      });
      await ensureDefaultSite(store.db);
      await upsertUser(store.db, DEFAULT_SITE, plainUser(USER, 'Plans'));
      // A user with many properties: a plan that filters them would visit them all.
      for (let i = 0; i < 40; i++) await insertProperty(store.db, at(`key-${i}`), '{}');
    });
    after(() => store.close());

    /** The plan of each statement the calls ran, as one text per statement. */
    async function plansOf(calls: () => Promise<unknown>): Promise<string[]> {
      statements.clear();
      watching = true;
      try {
        await calls();
      } finally {
        watching = false;
      }
      assert.ok(statements.size > 0, 'no statement was observed');
      const plans: string[] = [];
      for (const text of statements) {
        const placeholders = text.match(kind === 'postgres' ? /\$\d+/g : /\?/g)?.length ?? 0;
        const query =
          kind === 'postgres'
            ? CompiledQuery.raw(`explain (generic_plan) ${text}`)
            : CompiledQuery.raw(`explain query plan ${text}`, new Array(placeholders).fill(null));
        const { rows } = await store.db.executeQuery<Record<string, string>>(query);
        plans.push(rows.map((row) => (kind === 'postgres' ? row['QUERY PLAN'] : row.detail)).join('\n'));
      }
      return plans;
    }

    function assertOneProbe(plan: string, { ordered = false } = {}): void {
      if (kind === 'postgres') {
        assert.match(plan, /Index (Only )?Scan using properties_site_identity on properties/, plan);
        assert.doesNotMatch(plan, /Filter:|Seq Scan|Sort|Bitmap/, plan);
        // Every column of the address is an index condition.
        for (const column of ['site_id', 'account_id', 'product', 'namespace', ...(ordered ? [] : ['key'])])
          assert.match(plan, new RegExp(`Index Cond: .*\\b${column} = \\$\\d+`), plan);
      } else {
        const probe = ordered ? `(${SQLITE_ADDRESS})` : `(${SQLITE_ADDRESS} AND key=?)`;
        assert.match(plan, /^SEARCH properties USING (COVERING )?INDEX sqlite_autoindex_properties_1 /, plan);
        assert.ok(plan.endsWith(probe), plan);
        assert.doesNotMatch(plan, /SCAN|TEMP B-TREE/, plan);
      }
    }

    test('a property read probes the identity key for the whole address', async () => {
      const [plan, ...more] = await plansOf(() => Promise.resolve(findProperty(store.db, at('key-7'))));
      assert.equal(more.length, 0);
      assertOneProbe(plan!);
    });

    test('an update and a delete probe it too', async () => {
      const plans = await plansOf(async () => {
        assert.ok(await replacePropertyValue(store.db, at('key-8'), '{"a":1}'));
        assert.ok(await deleteProperty(store.db, at('key-9')));
      });
      assert.equal(plans.length, 2);
      for (const plan of plans) assertOneProbe(plan);
    });

    if (kind === 'postgres') {
      test('pages of properties leave room for an update to stay on its page (fillfactor 90)', async () => {
        const { rows } = await store.db.executeQuery<{ reloptions: string[] | null }>(
          CompiledQuery.raw(`select reloptions from pg_class where relname = 'properties'`),
        );
        assert.deepEqual(rows[0]?.reloptions, ['fillfactor=90']);
      });
    }

    test("a page of keys is read in the key's order, without a sort", async () => {
      const [plan, ...more] = await plansOf(async () => {
        const owner = { siteId: DEFAULT_SITE, product: 'confluence' as const, namespace: '', accountId: USER };
        const page = await listPropertyKeys(store.db, owner, { start: 0, limit: 25 });
        assert.equal(page.keys.length, 25);
      });
      assert.equal(more.length, 0);
      assertOneProbe(plan!, { ordered: true });
    });
  });
}
