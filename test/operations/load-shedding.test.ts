/**
 * Load shedding (docs/decisions.md, "Operations"): under sustained overload,
 * 503 in the path's envelope with `Retry-After`, before credentials are read;
 * `/healthz` still answers; service resumes once the event loop is calm. The
 * overload is real: the test blocks the event loop in bounded stretches, with
 * a threshold far below them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setImmediate as nextTurn, setTimeout as timersPhase } from 'node:timers/promises';
import { loadConfig } from '../../src/config.ts';
import { DEFAULT_LOAD_SHEDDING } from '../../src/http/load-shedding.ts';
import { startServer } from '../../src/server.ts';
import { serveInProcess } from '../helpers/cli.ts';
import { basic } from '../helpers/fixture.ts';
import { assertConfluenceError, assertJiraError } from '../helpers/security.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { type OperationsFixture, startOperationsFixture } from './app.ts';

const BLOCK_MS = 100;

/**
 * Keeps the event loop busy for `ms` milliseconds, the overload, then lets
 * the timers that came due meanwhile run (the sampler's among them): a
 * request answered from caches never leaves its turn otherwise.
 */
async function block(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
  await timersPhase(1);
}

for (const kind of STORE_KINDS) {
  describe(`load shedding on ${kind}`, () => {
    let fx: OperationsFixture;
    before(async () => {
      fx = await startOperationsFixture(kind, {
        metrics: true,
        loadShedding: { maxEventLoopDelay: 10, sampleInterval: 30, windows: 2 },
      });
    });
    after(() => fx.close());

    test('sustained overload: 503 with Retry-After in the envelope, health still answers, then recovery', async () => {
      const current = () => fx.app.inject({ method: 'GET', url: '/wiki/rest/api/user/current', headers: basic('mia') });
      // Blocks of BLOCK_MS with a request between them, until one is shed: at most 3 s of blocking.
      let shed: Awaited<ReturnType<typeof current>> | undefined;
      for (let i = 0; i < 30 && !shed; i++) {
        await block(BLOCK_MS);
        const response = await current();
        if (response.statusCode === 503) shed = response;
        else assert.equal(response.statusCode, 200, response.body);
      }
      assert.ok(shed, 'no request was shed under sustained overload');
      assertConfluenceError(shed, 503, /^The server is overloaded: retry in 5 seconds$/);
      assert.equal(shed.headers['retry-after'], '5');

      // Still overloaded: the health check and the metrics answer, the rest is shed in its own envelope, before credentials.
      await block(BLOCK_MS);
      assert.equal((await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      await block(BLOCK_MS);
      assert.equal((await fx.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
      await block(BLOCK_MS);
      const jira = await fx.app.inject({
        method: 'GET',
        url: '/rest/api/3/user/properties?accountId=712020:mia',
        headers: { authorization: 'Basic bm9ib2R5Om5vdGhpbmc=' },
      });
      assertJiraError(jira, 503, /overloaded/);
      assert.equal(jira.headers['retry-after'], '5');

      // Calm again: within a few windows, requests are served (at most 5 s of turns, no timers).
      const deadline = performance.now() + 5000;
      let status = 503;
      while (status === 503 && performance.now() < deadline) {
        await nextTurn();
        status = (await current()).statusCode;
      }
      assert.equal(status, 200);
    });
  });
}

test('`userplane serve` sheds load with the documented defaults; a server embedded or built without them does not', async () => {
  const served = await serveInProcess(['--database', 'sqlite::memory:']);
  try {
    assert.equal(served.code, 0, served.stderr);
    assert.ok(served.server?.app.hasDecorator('isUnderPressure'));
  } finally {
    await served.server?.close();
  }
  assert.deepEqual(DEFAULT_LOAD_SHEDDING, { maxEventLoopDelay: 500, sampleInterval: 1000, windows: 3 });
  const embedded = await startServer(loadConfig({ database: 'sqlite::memory:', port: '0', logLevel: 'silent' }, {}));
  try {
    assert.ok(!embedded.app.hasDecorator('isUnderPressure'));
  } finally {
    await embedded.close();
  }
  const plain = await startOperationsFixture(STORE_KINDS[0]!, {});
  try {
    assert.ok(!plain.app.hasDecorator('isUnderPressure'));
  } finally {
    await plain.close();
  }
});
