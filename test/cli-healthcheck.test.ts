/**
 * `userplane healthcheck [--url URL]` (docs/behaviour.md §11): exit 0 when
 * `/readyz` answers 200 within 2 s, else 1. Against the real server, a
 * server that answers 503, one that never answers, and nothing listening.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { RunningServer } from '../src/server.ts';
import { cli, serveInProcess } from './helpers/cli.ts';
import { freePort } from './helpers/net.ts';

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

describe('userplane healthcheck', () => {
  let server: RunningServer;
  before(async () => {
    const started = await serveInProcess(['--database', 'sqlite::memory:']);
    assert.equal(started.code, 0, started.stderr);
    server = started.server!;
  });
  after(() => server.close());

  test('a ready server: exit 0, and the URL it asked', async () => {
    const result = await cli(['healthcheck', '--url', server.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `ready: ${server.url}/readyz answered 200\n`);
  });

  test('without --url it asks http://HOST:PORT from the settings; the wildcard host means this machine', async () => {
    const port = new URL(server.url).port;
    const result = await cli(['healthcheck'], { PORT: port, HOST: '0.0.0.0' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `ready: http://127.0.0.1:${port}/readyz answered 200\n`);
    assert.equal((await cli(['healthcheck', '--port', port])).code, 0);
  });

  test('a server that answers /readyz with 503: exit 1, naming the status', async () => {
    const unready = createServer((_request, response) => {
      response.statusCode = 503;
      response.end('{"status":"unavailable"}');
    });
    const url = await listen(unready);
    try {
      const result = await cli(['healthcheck', '--url', url]);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, `userplane: healthcheck: ${url}/readyz answered 503\n`);
    } finally {
      unready.close();
    }
  });

  test('a server that does not answer within 2 s: exit 1', async () => {
    const silent = createServer(() => {
      // Never answers.
    });
    const url = await listen(silent);
    try {
      const result = await cli(['healthcheck', '--url', url]);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, `userplane: healthcheck: ${url}/readyz: no answer within 2 s\n`);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  test('nothing listening: exit 1, with the reason', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await cli(['healthcheck', '--url', url]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^userplane: healthcheck: ${url}/readyz: .*ECONNREFUSED`));
  });

  test('a URL that is not one, or --url on another command: a usage error, exit 2', async () => {
    const bad = await cli(['healthcheck', '--url', 'not a url']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'userplane: healthcheck: --url not a url is not a URL\n');
    const misplaced = await cli(['migrate', '--url', server.url, '--database', 'sqlite::memory:']);
    assert.equal(misplaced.code, 2);
    assert.equal(misplaced.stderr, 'userplane: --url belongs to healthcheck\n');
  });
});
