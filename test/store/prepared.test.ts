/**
 * Prepared queries and, on SQLite, the direct path and group commit
 * (store/prepared.ts, store/sqlite.ts), on both stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../../src/store/database.ts';
import { preparedQuery } from '../../src/store/prepared.ts';
import { deleteProperty, findProperty, insertProperty, replacePropertyValue } from '../../src/store/properties.ts';
import { upsertUser } from '../../src/store/users.ts';
import { confluencePropertiesOf, DEFAULT_SITE, freshStore, plainUser, STORE_KINDS } from '../helpers/stores.ts';

const USER = '712020:prepared';
const at = confluencePropertiesOf(USER);

const insertRaw = preparedQuery<{ key: string; now: string }, never>((db, param) =>
  db.insertInto('properties').values({
    site_id: DEFAULT_SITE,
    product: 'confluence',
    namespace: '',
    account_id: USER,
    key: param('key'),
    value: '{}',
    version: 1,
    created_at: param('now'),
    updated_at: param('now'),
  }),
);

for (const kind of STORE_KINDS) {
  describe(`prepared queries on ${kind}`, () => {
    let store: Store;
    before(async () => {
      store = await freshStore(kind);
      await upsertUser(store.db, DEFAULT_SITE, plainUser(USER, 'Prepared'));
    });
    after(() => store.close());

    test('parameters are bound by name on every call; fixed values stay fixed', async () => {
      await insertProperty(store.db, at('p-a'), '{"a":1}');
      await insertProperty(store.db, at('p-b'), '{"b":2}');
      assert.equal((await findProperty(store.db, at('p-a')))?.valueJson, '{"a":1}');
      assert.equal((await findProperty(store.db, at('p-b')))?.valueJson, '{"b":2}');
      assert.equal(await findProperty(store.db, { ...at('p-a'), namespace: 'other' }), undefined);
      assert.equal(await findProperty(store.db, { ...at('p-a'), product: 'jira' }), undefined);
    });

    test("the store's handle carries the direct runner; a transaction never does", async () => {
      assert.equal(typeof store.db.runDirect, 'function');
      await insertProperty(store.db, at('direct'), '{"d":1}');
      const read = findProperty(store.db, at('direct'));
      // SQLite answers a read outside a transaction at once, without a promise; PostgreSQL after its round trip.
      assert.equal(read instanceof Promise, kind === 'postgres');
      assert.equal((await read)?.valueJson, '{"d":1}');
      await store.db.transaction().execute(async (trx) => {
        assert.equal('runDirect' in trx, false);
        const inside = findProperty(trx, at('direct'));
        assert.ok(inside instanceof Promise, 'inside a transaction the query queues through Kysely');
        assert.equal((await inside)?.valueJson, '{"d":1}');
      });
    });

    test('concurrent single-statement writes each get their own answer', async () => {
      const keys = Array.from({ length: 40 }, (_, i) => `c-${i}`);
      for (const key of keys) await insertProperty(store.db, at(key), '{}');
      const updated = await Promise.all(
        keys.map((key, i) => replacePropertyValue(store.db, at(key), JSON.stringify({ i }))),
      );
      assert.deepEqual(
        updated,
        keys.map(() => 2),
      );
      const [gone, kept, missing] = await Promise.all([
        deleteProperty(store.db, at('c-0')),
        replacePropertyValue(store.db, at('c-1'), '{"again":true}'),
        replacePropertyValue(store.db, at('never-created'), '{}'),
      ]);
      assert.equal(gone, true);
      assert.equal(kept, 3);
      assert.equal(missing, undefined);
      for (const [i, key] of keys.entries()) {
        const found = await findProperty(store.db, at(key));
        if (i === 0) assert.equal(found, undefined);
        else assert.equal(found?.valueJson, i === 1 ? '{"again":true}' : JSON.stringify({ i }));
      }
    });

    test('a failing write fails alone; the writes committed with it stand', async () => {
      await insertProperty(store.db, at('dup'), '{}');
      const now = new Date().toISOString();
      const outcomes = await Promise.allSettled([
        insertRaw(store.db, { key: 'g-1', now }),
        insertRaw(store.db, { key: 'dup', now }),
        insertRaw(store.db, { key: 'g-2', now }),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.ok(await findProperty(store.db, at('g-1')));
      assert.ok(await findProperty(store.db, at('g-2')));
    });

    test('inside a transaction, prepared queries see its writes; outside, nothing until it commits', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inserted!: () => void;
      const didInsert = new Promise<void>((resolve) => (inserted = resolve));
      const transaction = store.db.transaction().execute(async (trx) => {
        await insertProperty(trx, at('t-1'), '{"t":1}');
        assert.equal((await findProperty(trx, at('t-1')))?.valueJson, '{"t":1}');
        inserted();
        await held;
        throw new Error('roll back');
      });
      await didInsert;
      const outside = findProperty(store.db, at('t-1'));
      release();
      await assert.rejects(transaction, /roll back/);
      assert.equal(await outside, undefined, 'the rolled-back row was never visible outside');
      assert.equal(await findProperty(store.db, at('t-1')), undefined);
    });
  });
}
