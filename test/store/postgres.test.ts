/**
 * The PostgreSQL pool under trouble (docs/decisions.md, "The PostgreSQL pool"):
 * connections ended from outside are replaced without ending the process,
 * the server-side timeouts are set, the queue for connections is bounded,
 * and the readiness ping has a path of its own.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { isUniqueViolation, openStore, ping, type Store } from '../../src/store/database.ts';
import {
  connectPostgres,
  DatabaseBusyError,
  IDLE_IN_TRANSACTION_TIMEOUT_MS,
  PG_INTERNALS_AS_EXPECTED,
  POOL_MAX_WAITING,
  POOL_SIZE,
  STATEMENT_TIMEOUT_MS,
} from '../../src/store/postgres.ts';
import { freshLocation, postgresServerUrl, STORE_KINDS } from '../helpers/stores.ts';

/** Holds each of the pool's connections in a transaction of its own; the answer lets them all go. */
async function holdEveryConnection(store: Store): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started = 0;
  let allStarted!: () => void;
  const busy = new Promise<void>((resolve) => {
    allStarted = resolve;
  });
  const holders = Array.from({ length: POOL_SIZE }, () =>
    store.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      if (++started === POOL_SIZE) allStarted();
      await released;
    }),
  );
  await busy;
  return async () => {
    release();
    await Promise.all(holders);
  };
}

if (STORE_KINDS.includes('postgres')) {
  describe('the PostgreSQL pool', () => {
    const stores: Store[] = [];
    after(async () => {
      for (const store of stores) await store.close();
    });

    test('every connection terminated from outside: the process lives on and the next query succeeds', async () => {
      const location = await freshLocation('postgres');
      if (location.dialect !== 'postgres') throw new Error('expected PostgreSQL');
      const lost: Error[] = [];
      let terminated = Number.POSITIVE_INFINITY;
      let allLost!: () => void;
      const everyLoss = new Promise<void>((resolve) => {
        allLost = resolve;
      });
      const store = await openStore(location, {
        onConnectionError: (error) => {
          lost.push(error);
          if (lost.length >= terminated) allLost();
        },
      });
      stores.push(store);
      // Several idle connections in the pool.
      await Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.05)`.execute(store.db)));

      const admin = new pg.Client({ connectionString: postgresServerUrl() });
      await admin.connect();
      try {
        const database = new URL(location.url).pathname.slice(1);
        const ended = await admin.query(
          // Only the pool's own connections: autovacuum workers also show the
          // database's name, and ending one reports nothing to the pool.
          `select pg_terminate_backend(pid) from pg_stat_activity
            where datname = $1 and backend_type = 'client backend' and application_name = 'userplane'`,
          [database],
        );
        terminated = ended.rowCount!;
        assert.ok(terminated > 0, 'there were connections to end');
        if (lost.length >= terminated) allLost();
      } finally {
        await admin.end();
      }
      // Each idle connection reports its loss; none is handed out afterwards.
      await everyLoss;
      for (const error of lost) assert.equal((error as { code?: string }).code, '57P01');

      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(store.db);
      assert.deepEqual(rows, [{ one: 1 }]);
    });

    test('connections ended again and again under load: queries fail or succeed, and the process lives on', async () => {
      const location = await freshLocation('postgres');
      if (location.dialect !== 'postgres') throw new Error('expected PostgreSQL');
      const store = await openStore(location, { onConnectionError: () => {} });
      stores.push(store);
      const database = new URL(location.url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: postgresServerUrl() });
      await admin.connect();
      const outcomes = { ok: 0, failed: 0 };
      const until = Date.now() + 1500;
      const load = async () => {
        while (Date.now() < until) {
          try {
            await sql`select 1`.execute(store.db);
            outcomes.ok++;
          } catch {
            outcomes.failed++;
          }
        }
      };
      const terminate = async () => {
        while (Date.now() < until) {
          await admin.query(
            `select pg_terminate_backend(pid) from pg_stat_activity
              where datname = $1 and backend_type = 'client backend' and application_name = 'userplane'`,
            [database],
          );
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      try {
        // An 'error' event nobody listens for would end this process, and the test run with it.
        await Promise.all([...Array.from({ length: 8 }, load), terminate()]);
      } finally {
        await admin.end();
      }
      assert.ok(outcomes.ok > 0, 'queries succeeded between the terminations');
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(store.db);
      assert.deepEqual(rows, [{ one: 1 }]);
    });

    test('statements and idle transactions have server-side timeouts', async () => {
      const store = await openStore(await freshLocation('postgres'));
      stores.push(store);
      const { rows } = await sql<{
        statement: string;
        idle: string;
      }>`select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`.execute(
        store.db,
      );
      assert.deepEqual(rows, [
        { statement: `${STATEMENT_TIMEOUT_MS / 1000}s`, idle: `${IDLE_IN_TRANSACTION_TIMEOUT_MS / 1000}s` },
      ]);
    });

    test('a statement past its timeout fails with a clear error, and the store works on', async () => {
      const store = await openStore(await freshLocation('postgres'));
      stores.push(store);
      // The same server-side mechanism as STATEMENT_TIMEOUT_MS, shortened for this one transaction.
      await assert.rejects(
        store.db.transaction().execute(async (trx) => {
          await sql`set local statement_timeout = '50ms'`.execute(trx);
          await sql`select pg_sleep(5)`.execute(trx);
        }),
        (error: { code?: string; message: string }) =>
          error.code === '57014' && /canceling statement due to statement timeout/.test(error.message),
      );
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(store.db);
      assert.deepEqual(rows, [{ one: 1 }]);
    });

    test('with every connection busy and the queue full, a request is refused at once, and the ping still answers', async () => {
      const store = await openStore(await freshLocation('postgres'));
      stores.push(store);
      const release = await holdEveryConnection(store);
      const waiting = Array.from({ length: POOL_MAX_WAITING }, () => sql`select 1`.execute(store.db));
      await assert.rejects(sql`select 1`.execute(store.db), DatabaseBusyError);
      await ping(store.db);

      await release();
      assert.equal((await Promise.all(waiting)).length, POOL_MAX_WAITING, 'the queued requests are served');
      await sql`select 1`.execute(store.db);
    });

    test("the installed pg has the internals the direct runner's PreparedQuery reaches", () => {
      // False after a pg upgrade: the runner falls back to plain named queries; look at PreparedQuery again.
      assert.equal(PG_INTERNALS_AS_EXPECTED, true);
    });

    test('the direct runner prepares a statement once per connection by name, and answers as Kysely does', async () => {
      const store = await openStore(await freshLocation('postgres'));
      stores.push(store);
      const run = async (text: string, parameters: unknown[] = []) => (await store.db.runDirect!(text, parameters))!;
      // One at a time, so the pool opens one connection and every statement below runs on it.
      const first = 'select min(name) as name from kysely_migration';
      const read = 'select name from kysely_migration where name = $1';
      const write = "update kysely_migration set timestamp = timestamp where name like '2026-%'";
      const listed = "select statement from pg_prepared_statements where name like 'userplane_%' order by name";
      const [{ name }] = (await run(first)).rows as [{ name: string }];
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await run(read, [name]), { numAffectedRows: undefined, rows: [{ name }] });
      }
      const updated = await run(write);
      assert.ok((updated.numAffectedRows ?? 0n) > 0n, 'a write counts its rows, as a bigint');
      assert.deepEqual(updated.rows, []);
      const { rows } = await run(listed);
      assert.deepEqual(
        (rows as Array<{ statement: string }>).map((row) => row.statement),
        [first, read, write, listed],
        'each text prepared once, under a name of its own',
      );
    });

    test("the direct runner's errors are PostgreSQL's own, or the store's for a busy pool", async () => {
      const store = await openStore(await freshLocation('postgres'));
      stores.push(store);
      const run = store.db.runDirect!;
      await assert.rejects(
        Promise.resolve(run('insert into kysely_migration (name, timestamp) values ($1, $2)', ['dup', 'x'])).then(() =>
          run('insert into kysely_migration (name, timestamp) values ($1, $2)', ['dup', 'x']),
        ),
        (error) => isUniqueViolation(error) && error instanceof pg.DatabaseError,
      );
      const release = await holdEveryConnection(store);
      const waiting = Array.from({ length: POOL_MAX_WAITING }, () => run('select 1', []));
      await assert.rejects(Promise.resolve(run('select 1', [])), DatabaseBusyError);
      await release();
      assert.equal((await Promise.all(waiting)).length, POOL_MAX_WAITING, 'the queued statements are served');
    });

    test('the ping fails, rather than hangs, when the server accepts connections but never answers', async () => {
      const sockets: Socket[] = [];
      const silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as { port: number };
      try {
        const connection = connectPostgres(`postgres://nobody:nothing@127.0.0.1:${port}/none`, () => {});
        await assert.rejects(connection.ping());
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });
  });
}
