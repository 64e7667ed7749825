/**
 * The yardsticks for `npm run bench`: bare Fastify, no logger. userplane's
 * figures are read as a fraction of these, measured on the same machine in
 * the same run, so they compare across machines.
 *
 * - `GET /fixed`: one fixed JSON answer, no database.
 * - With a PostgreSQL URL (`--store postgres`): raw `pg` through a `pg.Pool`
 *   of userplane's size (POOL_SIZE), on a two-column table `bench_kv` in the
 *   same database. `GET /pg/kv/:k` is one point read by a named prepared
 *   statement; `PUT /pg/kv/:k` one upsert of the body's `value`.
 *
 *   node --import tsx bench/yardstick.ts PORT [POSTGRES_URL]
 */
import Fastify from 'fastify';
import pg from 'pg';
import { POOL_SIZE } from '../src/store/postgres.ts';

const [, , port, postgresUrl] = process.argv;
const app = Fastify();
app.get('/fixed', async () => ({ key: 'theme', value: { dark: true } }));

if (postgresUrl !== undefined) {
  const pool = new pg.Pool({ connectionString: postgresUrl, application_name: 'userplane-bench', max: POOL_SIZE });
  // An idle connection lost (the outage scenario stops PostgreSQL) is replaced when next needed, not fatal.
  pool.on('error', () => {});
  await pool.query('CREATE TABLE IF NOT EXISTS bench_kv (k text PRIMARY KEY, v text NOT NULL)');
  await pool.query(
    `INSERT INTO bench_kv (k, v) VALUES ('bench-key', '{"dark":true,"size":12}') ON CONFLICT (k) DO NOTHING`,
  );
  const read = { name: 'bench-read', text: 'SELECT v FROM bench_kv WHERE k = $1' };
  const upsert = {
    name: 'bench-upsert',
    text: 'INSERT INTO bench_kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v',
  };

  app.get<{ Params: { k: string } }>('/pg/kv/:k', async (request, reply) => {
    const { rows } = await pool.query<{ v: string }>({ ...read, values: [request.params.k] });
    if (rows.length === 0) return reply.code(404).send();
    // The stored JSON text, embedded as it is, as userplane does.
    return reply.type('application/json').send(`{"key":${JSON.stringify(request.params.k)},"value":${rows[0]!.v}}`);
  });
  app.put<{ Params: { k: string }; Body: { value: unknown } }>('/pg/kv/:k', async (request, reply) => {
    await pool.query({ ...upsert, values: [request.params.k, JSON.stringify(request.body.value)] });
    return reply.code(204).send();
  });

  // The table is the bench's own: leave the database as it was found.
  process.once('SIGTERM', () => {
    void (async () => {
      await app.close();
      await pool.query('DROP TABLE IF EXISTS bench_kv').catch(() => {});
      await pool.end();
      process.exit(0);
    })();
  });
}

await app.listen({ port: Number(port), host: '127.0.0.1' });
