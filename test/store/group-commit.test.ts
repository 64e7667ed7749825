/**
 * SQLite's group commit when the batch cannot be rolled back
 * (store/sqlite.ts, docs/decisions.md "Group commit on SQLite"): every caller
 * of the batch is answered with an error, the process lives on, nothing of
 * the batch is kept, and writes succeed again once the connection is free.
 *
 * The connection is real. What blocks it is better-sqlite3's own rule: no
 * other statement runs on a connection while an iterator is open on it. A
 * named parameter's getter, read as the statement is bound, opens one in the
 * middle of the batch, so COMMIT and then ROLLBACK both fail.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { connectSqlite } from '../../src/store/sqlite.ts';

function exclusiveDatabase(): SQLite.Database {
  const database = new SQLite(join(mkdtempSync(join(tmpdir(), 'userplane-group-commit-')), 'test.db'));
  database.pragma('locking_mode = EXCLUSIVE');
  database.pragma('journal_mode = WAL');
  database.exec('create table t (x integer)');
  return database;
}

describe('SQLite group commit', () => {
  test('a batch whose ROLLBACK fails: every caller gets an error and the process survives', async () => {
    const database = exclusiveDatabase();
    const connection = connectSqlite(database);
    const insert = 'insert into t (x) values (@x)';
    let iterator: IterableIterator<unknown> | undefined;
    const blocking = {
      get x() {
        iterator = database.prepare('select 1 union all select 2').iterate();
        iterator.next();
        return 1;
      },
    };

    // Three writes in one turn: one batch.
    const batch = [
      connection.runNow(insert, [{ x: 0 }]),
      connection.runNow(insert, [blocking]),
      connection.runNow(insert, [{ x: 2 }]),
    ];
    const outcomes = await Promise.allSettled(batch);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected', 'every caller of the batch hears of the failure');
      assert.match(String((outcome as PromiseRejectedResult).reason), /busy/);
    }

    // While the connection is still blocked, writes are refused, not run inside the failed batch.
    assert.throws(() => connection.runNow(insert, [{ x: 3 }]), /could not roll back/);

    iterator!.return!();
    await connection.runNow(insert, [{ x: 4 }]);
    assert.equal(database.inTransaction, false);
    assert.deepEqual(database.prepare('select x from t order by x').all(), [{ x: 4 }], 'nothing of the failed batch');
    database.close();
  });

  test("watchBatches is told each batch's statement count, every watcher, until it stops watching", async () => {
    const database = exclusiveDatabase();
    const connection = connectSqlite(database);
    const insert = 'insert into t (x) values (?)';
    const sizes: number[] = [];
    const seen: number[] = [];
    const stop = connection.watchBatches((statements) => sizes.push(statements));
    const stopOther = connection.watchBatches((statements) => seen.push(statements));

    // Three writes in one turn: one batch; then one alone.
    await Promise.all([1, 2, 3].map((x) => connection.runNow(insert, [x])));
    await connection.runNow(insert, [4]);
    assert.deepEqual(sizes, [3, 1]);
    assert.deepEqual(seen, [3, 1]);

    stop();
    await connection.runNow(insert, [5]);
    assert.deepEqual(sizes, [3, 1], 'nothing once it stopped watching');
    assert.deepEqual(seen, [3, 1, 1]);
    stopOther();
    assert.equal((database.prepare('select count(*) as n from t').get() as { n: number }).n, 5);
    database.close();
  });
});
