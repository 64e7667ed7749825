/**
 * `--trust-proxy` (docs/operations.md, "Behind a proxy"): with it, the
 * client address the per-address guessing limit counts (docs/behaviour.md
 * §3) is the one a trusted proxy forwards in `X-Forwarded-For`, so clients
 * behind one balancer are counted apart; without it, and from a peer that is
 * not a trusted proxy, the header is ignored, so a client cannot dodge the
 * limit by forging it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { basicAuth } from '../helpers/credentials.ts';
import { basic, USERS } from '../helpers/fixture.ts';
import { assertConfluenceError } from '../helpers/security.ts';
import { serveProcess } from '../helpers/serve.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { type OperationsFixture, startOperationsFixture } from './app.ts';

const CURRENT = '/wiki/rest/api/user/current';
const THROTTLED = /Too many failed credentials from this address/;
/** The balancer's address, as the server sees the TCP peer. */
const PROXY = '10.0.0.5';
const LIMIT = 3;

for (const kind of STORE_KINDS) {
  describe(`--trust-proxy on ${kind}`, () => {
    let fx: OperationsFixture | undefined;
    afterEach(async () => {
      await fx?.close();
      fx = undefined;
    });
    const start = async (trustProxy?: true | string[]) => {
      fx = await startOperationsFixture(kind, trustProxy ? { trustProxy } : {}, {
        failedCredentialsPerAddress: LIMIT,
      });
    };
    /** A request from `peer` carrying `forwarded` as X-Forwarded-For; each guess names another email, so only the address limit is reached. */
    const request = (peer: string, forwarded: string | undefined, guess: number | 'right') =>
      fx!.app.inject({
        method: 'GET',
        url: CURRENT,
        remoteAddress: peer,
        headers: {
          ...(guess === 'right' ? basic('mia') : basicAuth(`guess-${guess}@example.com`, 'wrong')),
          ...(forwarded !== undefined && { 'x-forwarded-for': forwarded }),
        },
      });
    const exhaust = async (peer: string, forwarded: string | undefined) => {
      for (let i = 0; i < LIMIT; i++) assert.equal((await request(peer, forwarded, i)).statusCode, 401);
    };

    test('trusting the balancer: two clients behind it are counted apart', async () => {
      await start([PROXY]);
      await exhaust(PROXY, '198.51.100.1');
      assertConfluenceError(await request(PROXY, '198.51.100.1', 'right'), 429, THROTTLED);
      // The proxy appends the client it saw to whatever the client sent: the last entry is the one counted.
      assertConfluenceError(await request(PROXY, '203.0.113.66, 198.51.100.1', 'right'), 429, THROTTLED);
      const other = await request(PROXY, '198.51.100.2', 'right');
      assert.equal(other.statusCode, 200, other.body);
      assert.equal((await request(PROXY, '198.51.100.2', LIMIT)).statusCode, 401);
    });

    test('a peer that is not a trusted proxy: its X-Forwarded-For is ignored, so forging it dodges nothing', async () => {
      await start([PROXY]);
      const client = '192.0.2.7';
      for (let i = 0; i < LIMIT; i++) {
        assert.equal((await request(client, `198.51.100.${10 + i}`, i)).statusCode, 401);
      }
      assertConfluenceError(await request(client, '198.51.100.99', 'right'), 429, THROTTLED);
    });

    test('without --trust-proxy: X-Forwarded-For is ignored, every client behind the balancer shares its count', async () => {
      await start();
      await exhaust(PROXY, '198.51.100.1');
      assertConfluenceError(await request(PROXY, '198.51.100.2', 'right'), 429, THROTTLED);
      assertConfluenceError(await request(PROXY, undefined, 'right'), 429, THROTTLED);
    });

    test('true: every peer is trusted, so the first address of the header is counted', async () => {
      await start(true);
      await exhaust('127.0.0.1', '198.51.100.1');
      assertConfluenceError(await request(PROXY, '198.51.100.1', 'right'), 429, THROTTLED);
      assert.equal((await request('127.0.0.1', '198.51.100.2', 'right')).statusCode, 200);
    });
  });
}

if (STORE_KINDS.includes('sqlite')) {
  test('userplane serve --trust-proxy: the option reaches the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'userplane-trust-proxy-'));
    const seed = join(dir, 'seed.json');
    const { email, token } = USERS.mia;
    writeFileSync(
      seed,
      JSON.stringify({
        site: { failedCredentialsPerAddress: 1 },
        groups: ['confluence-users'],
        users: [{ email, displayName: 'Mia', groups: ['confluence-users'], apiTokens: [token] }],
      }),
    );
    const { child, url } = await serveProcess(
      ['--database', `sqlite:${join(dir, 'userplane.db')}`, '--seed', seed, '--trust-proxy', 'loopback'],
      { USERPLANE_SECRET_KEY: 'trust-proxy-test-secret-key-of-32-characters' },
    );
    try {
      const get = (forwarded: string, password: string) =>
        fetch(`${url}${CURRENT}`, {
          headers: { ...basicAuth(email, password), 'x-forwarded-for': forwarded },
        });
      assert.equal((await get('198.51.100.1', 'wrong')).status, 401);
      assert.equal((await get('198.51.100.1', token)).status, 429);
      assert.equal((await get('198.51.100.2', token)).status, 200);
    } finally {
      await child.stop('SIGTERM');
    }
  });
}
