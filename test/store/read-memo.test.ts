/**
 * The embedded store's read memo (store/read-memo.ts): what it keeps, and
 * that no write, on any path, leaves a stale answer behind (store/sqlite.ts).
 * The last suite holds the HTTP API to the same promise on both stores, under
 * concurrent writes: a read never goes back in time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import type { Store } from '../../src/store/database.ts';
import { preparedQuery } from '../../src/store/prepared.ts';
import {
  deleteProperty,
  findProperty,
  insertProperty,
  listPropertyKeys,
  replacePropertyValue,
} from '../../src/store/properties.ts';
import { type RawRows, ReadMemo } from '../../src/store/read-memo.ts';
import { connectSqlite } from '../../src/store/sqlite.ts';
import { deleteUser, upsertUser, userExists } from '../../src/store/users.ts';
import { basic, type Fixture, startFixture } from '../helpers/fixture.ts';
import { confluencePropertiesOf, DEFAULT_SITE, freshStore, plainUser, STORE_KINDS } from '../helpers/stores.ts';

/** A query that answers `rows` and counts how often it ran. */
function counting(rows: RawRows) {
  const calls: unknown[][] = [];
  return {
    calls,
    query: (parameters: readonly unknown[]) => {
      calls.push([...parameters]);
      return rows;
    },
  };
}

describe('ReadMemo', () => {
  test('a repeated read is answered from the memo until forget()', () => {
    const memo = new ReadMemo();
    const statement = memo.register();
    const { calls, query } = counting([['a', 1]]);
    assert.deepEqual(memo.read(statement, ['x'], query), [['a', 1]]);
    assert.deepEqual(memo.read(statement, ['x'], query), [['a', 1]]);
    assert.equal(calls.length, 1);
    memo.forget();
    memo.read(statement, ['x'], query);
    assert.equal(calls.length, 2);
  });

  test('parameters are told apart by kind and boundary, and statements by name', () => {
    const memo = new ReadMemo();
    const [first, second] = [memo.register(), memo.register()];
    const { calls, query } = counting([]);
    const distinct: unknown[][] = [[1], ['1'], [null], [''], [], ['a', 'bc'], ['ab', 'c'], ['n1;'], ['s1:a'], [2.5]];
    for (const parameters of distinct) memo.read(first, parameters, query);
    for (const parameters of distinct) memo.read(first, parameters, query);
    assert.equal(calls.length, distinct.length);
    // SQLite binds both as the integer 2, so they ask the same.
    memo.read(first, [2], query);
    memo.read(first, [2n], query);
    assert.equal(calls.length, distinct.length + 1);
    memo.read(second, [1], query);
    assert.equal(calls.length, distinct.length + 2);
  });

  test('results holding other values (a Buffer) and very large results are not kept', () => {
    const memo = new ReadMemo(16 * 1024);
    const statement = memo.register();
    const blob = counting([[Buffer.from('x')]]);
    memo.read(statement, ['blob'], blob.query);
    memo.read(statement, ['blob'], blob.query);
    assert.equal(blob.calls.length, 2);
    const large = counting([['y'.repeat(1024)]]);
    memo.read(statement, ['large'], large.query);
    memo.read(statement, ['large'], large.query);
    assert.equal(large.calls.length, 2);
    assert.equal(memo.size, 0);
    const other = counting([]);
    memo.read(statement, [{ not: 'a parameter' }], other.query);
    memo.read(statement, [{ not: 'a parameter' }], other.query);
    assert.equal(other.calls.length, 2);
  });

  test('past its budget it starts over, so it never holds much more', () => {
    const memo = new ReadMemo(64 * 1024);
    const statement = memo.register();
    const { query } = counting([['z'.repeat(1000)]]);
    let most = 0;
    for (let i = 0; i < 500; i++) {
      memo.read(statement, [i], query);
      most = Math.max(most, memo.size);
    }
    assert.ok(most > 1 && most < 40, `held at most ${most} results of about 2 KB in a 64 KiB budget`);
  });
});

describe('the read memo starts only on a connection that holds the file exclusively', () => {
  /** A real SQLite database on a fresh file, in SQLite's default locking mode (normal). */
  function openFile(): SQLite.Database {
    return new SQLite(join(mkdtempSync(join(tmpdir(), 'userplane-memo-')), 'memo.db'));
  }
  const refusal =
    /read memo needs its connection to hold the database with locking_mode=EXCLUSIVE.*reads back "normal"/;

  test('a connection in normal locking mode is refused', () => {
    const database = openFile();
    try {
      assert.throws(() => connectSqlite(database), refusal);
    } finally {
      database.close();
    }
  });

  test("only the main database's own mode counts, not the default for attached ones", () => {
    const database = openFile();
    try {
      // A bare `locking_mode` then reads back exclusive, but the main database is not held.
      database.pragma('locking_mode = EXCLUSIVE');
      database.pragma('main.locking_mode = NORMAL');
      assert.equal(database.pragma('locking_mode', { simple: true }), 'exclusive');
      assert.throws(() => connectSqlite(database), refusal);
    } finally {
      database.close();
    }
  });

  test('in exclusive locking mode it starts, and answers reads at once', () => {
    const database = openFile();
    try {
      database.pragma('locking_mode = EXCLUSIVE');
      const connection = connectSqlite(database);
      assert.deepEqual(connection.runNow('select 1 as one', []), { rows: [{ one: 1 }] });
    } finally {
      database.close();
    }
  });
});

const USER = '712020:memo';
const at = confluencePropertiesOf(USER);
const user = plainUser(USER, 'Memo');

const selectValue = preparedQuery<{ key: string }, { value: string }>((db, param) =>
  db.selectFrom('properties').select('value').where('account_id', '=', USER).where('key', '=', param('key')),
);

describe('the SQLite read memo stays coherent with every write', () => {
  let store: Store;
  before(async () => {
    store = await freshStore('sqlite');
    await upsertUser(store.db, DEFAULT_SITE, user);
  });
  after(() => store.close());

  /** Reads twice (the second from the memo, where one is kept) and returns the value. */
  async function read(key: string): Promise<string | undefined> {
    await findProperty(store.db, at(key));
    return (await findProperty(store.db, at(key)))?.valueJson;
  }

  test('direct writes (group commit): update and delete', async () => {
    await insertProperty(store.db, at('direct'), '{"v":1}');
    assert.equal(await read('direct'), '{"v":1}');
    await replacePropertyValue(store.db, at('direct'), '{"v":2}');
    assert.equal(await read('direct'), '{"v":2}');
    await deleteProperty(store.db, at('direct'));
    assert.equal(await read('direct'), undefined);
  });

  test('writes through Kysely: insert, conditional update and conditional delete', async () => {
    assert.equal(await read('kysely'), undefined);
    await insertProperty(store.db, at('kysely'), '{"v":1}');
    assert.equal(await read('kysely'), '{"v":1}');
    await replacePropertyValue(store.db, at('kysely'), '{"v":2}', [1]);
    assert.equal(await read('kysely'), '{"v":2}');
    await deleteProperty(store.db, at('kysely'), [2]);
    assert.equal(await read('kysely'), undefined);
  });

  test('a committed transaction is seen; a rolled-back one is not', async () => {
    await insertProperty(store.db, at('trx'), '{"v":1}');
    assert.equal(await read('trx'), '{"v":1}');
    await store.db.transaction().execute(async (trx) => {
      await replacePropertyValue(trx, at('trx'), '{"v":2}');
    });
    assert.equal(await read('trx'), '{"v":2}');
    await assert.rejects(
      store.db.transaction().execute(async (trx) => {
        await replacePropertyValue(trx, at('trx'), '{"v":3}');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await read('trx'), '{"v":2}');
  });

  test('a foreign-key cascade: deleting the user removes what was memoized of their properties', async () => {
    await insertProperty(store.db, at('cascade'), '{"v":1}');
    assert.equal(await read('cascade'), '{"v":1}');
    assert.equal(await userExists(store.db, DEFAULT_SITE, USER), true);
    await deleteUser(store.db, DEFAULT_SITE, USER);
    assert.equal(await userExists(store.db, DEFAULT_SITE, USER), false);
    assert.equal(await read('cascade'), undefined);
    await upsertUser(store.db, DEFAULT_SITE, user);
  });

  test('the rows a read shares cannot be changed by a caller, so the next answer is the same', async () => {
    await insertProperty(store.db, at('shared'), '{"v":1}');
    const first = await selectValue(store.db, { key: 'shared' });
    assert.throws(() => {
      (first.rows[0] as { value: string }).value = 'changed';
    }, TypeError);
    assert.throws(() => {
      (first.rows as unknown[]).length = 0;
    }, TypeError);
    const again = await selectValue(store.db, { key: 'shared' });
    assert.equal(again.rows, first.rows, 'the same rows, built once');
    assert.deepEqual(again.rows, [{ value: '{"v":1}' }]);
  });

  test('a page of keys read again is the same frozen page until a write, then a new one', async () => {
    const pages = confluencePropertiesOf('712020:memo-pages');
    await upsertUser(store.db, DEFAULT_SITE, plainUser('712020:memo-pages', 'Pages'));
    await insertProperty(store.db, pages('b'), '{}');
    await insertProperty(store.db, pages('c'), '{}');
    const page = { start: 0, limit: 2 };
    const first = await listPropertyKeys(store.db, pages(''), page);
    assert.deepEqual(first, { keys: ['b', 'c'], more: false });
    assert.equal(await listPropertyKeys(store.db, pages(''), page), first, 'made once from the kept result');
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.keys));
    await insertProperty(store.db, pages('a'), '{}');
    assert.deepEqual(await listPropertyKeys(store.db, pages(''), page), { keys: ['a', 'b'], more: true });
  });
});

for (const kind of STORE_KINDS) {
  describe(`property reads under concurrent writes on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());

    const url = (key: string) => `/wiki/rest/api/user/712020:mia/property/${key}`;
    const headers = { ...basic('mia'), 'content-type': 'application/json' };
    const send = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', key: string, value?: object) =>
      fx.app.inject({ method, url: url(key), headers, payload: value && JSON.stringify({ value }) });
    const version = (etag: unknown) => Number(String(etag).replaceAll('"', ''));

    test('a read never shows less than what was acknowledged before it began, and shows what that version wrote', async () => {
      const keys = ['race-a', 'race-b', 'race-c'];
      /** Per key: the highest version a PUT has acknowledged, and what each version holds. */
      const acknowledged = new Map(keys.map((key) => [key, 1]));
      const written = new Map(keys.map((key) => [key, new Map([[1, JSON.stringify({ n: 0 })]])]));
      for (const key of keys) assert.equal((await send('POST', key, { n: 0 })).statusCode, 201);

      let random = 7;
      const next = () => (random = (random * 48271) % 2147483647);
      let n = 0;
      for (let round = 0; round < 25; round++) {
        const reads: Array<{
          key: string;
          floor: number;
          response: Promise<{ statusCode: number; headers: Record<string, unknown>; json(): any }>;
        }> = [];
        const writes: Array<Promise<void>> = [];
        for (let i = 0; i < 12; i++) {
          const key = keys[next() % keys.length]!;
          if (next() % 2 === 0) {
            reads.push({ key, floor: acknowledged.get(key)!, response: send('GET', key) });
          } else {
            const value = { n: ++n };
            writes.push(
              send('PUT', key, value).then((response) => {
                assert.equal(response.statusCode, 204);
                const at = version(response.headers.etag);
                written.get(key)!.set(at, JSON.stringify(value));
                acknowledged.set(key, Math.max(acknowledged.get(key)!, at));
              }),
            );
          }
        }
        await Promise.all(writes);
        for (const { key, floor, response } of reads) {
          const read = await response;
          assert.equal(read.statusCode, 200);
          const at = version(read.headers.etag);
          assert.ok(at >= floor, `${key}: read version ${at} after version ${floor} was acknowledged`);
          assert.equal(
            JSON.stringify(read.json().value),
            written.get(key)!.get(at),
            `${key}: version ${at} holds what its PUT wrote`,
          );
        }
      }
      for (const key of keys) {
        const latest = await send('GET', key);
        assert.equal(version(latest.headers.etag), acknowledged.get(key));
        assert.equal((await send('DELETE', key)).statusCode, 204);
        assert.equal((await send('GET', key)).statusCode, 404);
        assert.equal((await send('POST', key, { again: true })).statusCode, 201);
        const recreated = await send('GET', key);
        assert.deepEqual([version(recreated.headers.etag), recreated.json().value], [1, { again: true }]);
      }
    });
  });
}
