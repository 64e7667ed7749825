/**
 * PostgreSQL's write pipeline (store/postgres.ts `writePipeline`,
 * docs/decisions.md "PostgreSQL at the speed of raw pg"): single-row writes
 * waiting for a connection go together, in one transaction, and each caller
 * still gets its own answer. The pool is made busy with real sleeps, so the
 * writes queue as they do under load.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  connectPostgres,
  DatabaseBusyError,
  POOL_MAX_WAITING,
  POOL_SIZE,
  type PostgresConnection,
} from '../../src/store/postgres.ts';
import { freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const BUMP = 'update counters set n = n + 1 where k = $1 returning n, txid_current()::text as tx';

if (STORE_KINDS.includes('postgres')) {
  describe('the PostgreSQL write pipeline', () => {
    let url: string;
    let connection: PostgresConnection;
    let admin: pg.Client;
    before(async () => {
      const location = await freshLocation('postgres');
      if (location.dialect !== 'postgres') throw new Error('expected PostgreSQL');
      url = location.url;
      admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query('create table counters (k text primary key, n integer not null)');
      // A write the database refuses, for one key only.
      await admin.query(`create function refuse_bad() returns trigger language plpgsql as $$
        begin if new.k = 'bad' then raise exception 'counter bad is refused'; end if; return new; end $$`);
      await admin.query(
        'create trigger refuse_bad before update on counters for each row execute function refuse_bad()',
      );
      connection = connectPostgres(url);
      // The statement prepared on every connection, as a busy server's are: a
      // pipeline sends no Parse. The pool is empty, so each of these opens a
      // connection of its own.
      await Promise.all(Array.from({ length: POOL_SIZE }, () => connection.runPrepared(BUMP, ['none'])));
    });
    after(async () => {
      await admin.end();
      // The driver ends the pool it was given.
      const driver = connection.dialect.createDriver();
      await driver.init();
      await driver.destroy();
    });

    const reset = async (keys: string[]) => {
      await admin.query('delete from counters');
      for (const k of keys) await admin.query('insert into counters (k, n) values ($1, 0)', [k]);
    };
    /** Every connection of the pool asleep for a moment, so the writes sent meanwhile wait, as under load. */
    const busyPool = () =>
      Promise.all(Array.from({ length: POOL_SIZE }, () => connection.runPrepared('select pg_sleep(0.3)', [])));
    const bump = (k: string) =>
      connection.runPrepared(BUMP, [k], `counters\u0000${k}`) as Promise<{ rows: Array<{ n: number; tx: string }> }>;

    test('writes waiting for a connection share transactions, and each caller gets its own row', async () => {
      await reset(['a', 'b']);
      const sleeping = busyPool();
      const keys = Array.from({ length: 40 }, (_, i) => (i % 4 === 3 ? 'b' : 'a'));
      const answers = await Promise.all(keys.map(bump));
      await sleeping;

      const seen = (key: string) =>
        answers
          .filter((_, i) => keys[i] === key)
          .map((answer) => answer.rows[0]!.n)
          .sort((x, y) => x - y);
      assert.deepEqual(
        seen('a'),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        seen('b'),
        Array.from({ length: 10 }, (_, i) => i + 1),
      );
      const { rows } = await admin.query('select k, n from counters order by k');
      assert.deepEqual(rows, [
        { k: 'a', n: 30 },
        { k: 'b', n: 10 },
      ]);
      const transactions = new Set(answers.map((answer) => answer.rows[0]!.tx));
      assert.ok(transactions.size < answers.length, `40 writes in ${transactions.size} transactions: some shared one`);
    });

    test('a write the database refuses fails alone: the others of its pipeline are applied once each', async () => {
      await reset(['ok', 'bad']);
      const warnings: Error[] = [];
      const warned = (warning: Error) => warnings.push(warning);
      process.on('warning', warned);
      const sleeping = busyPool();
      const keys = ['ok', 'ok', 'bad', 'ok', 'bad', 'ok'];
      const outcomes = await Promise.allSettled(keys.map(bump));
      await sleeping;
      process.off('warning', warned);
      // Run again one at a time, each after the one before: pg warns when a client is handed a second query meanwhile.
      assert.deepEqual(
        warnings.map((warning) => warning.message),
        [],
      );

      keys.forEach((key, i) => {
        const outcome = outcomes[i]!;
        if (key === 'bad') {
          assert.equal(outcome.status, 'rejected');
          assert.match(String((outcome as PromiseRejectedResult).reason), /counter bad is refused/);
        } else assert.equal(outcome.status, 'fulfilled');
      });
      const { rows } = await admin.query('select k, n from counters order by k');
      assert.deepEqual(rows, [
        { k: 'bad', n: 0 },
        { k: 'ok', n: 4 },
      ]);
    });

    test('with the pool busy and as many writes waiting as it allows, one more is refused at once', async () => {
      await reset(['q']);
      const sleeping = busyPool();
      const queued = Array.from({ length: POOL_MAX_WAITING }, () => bump('q'));
      await assert.rejects(bump('q'), DatabaseBusyError);
      await Promise.all(queued);
      await sleeping;
      const { rows } = await admin.query("select n from counters where k = 'q'");
      assert.deepEqual(rows, [{ n: POOL_MAX_WAITING }], 'every write that waited was applied, once');
    });
  });
}
