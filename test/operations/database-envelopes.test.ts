/**
 * An unreachable PostgreSQL, in-process: the app talks to the test's
 * PostgreSQL through a TCP relay the test cuts and restores. While it is
 * cut, every product answers 503 with `Retry-After: 1` in its own envelope
 * (docs/operations.md), `/readyz` too; once restored, the same app serves
 * again.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { loadSeed } from '../../src/domain/seed.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { TestClock } from '../helpers/clock.ts';
import { basic, fixtureSeed, SECRET_KEY, USERS } from '../helpers/fixture.ts';
import { freePort } from '../helpers/net.ts';
import { assertConfluenceError, assertJiraError } from '../helpers/security.ts';
import { freshLocation, STORE_KINDS } from '../helpers/stores.ts';

/** Forwards connections on `port` to `target`; `cut()` refuses and drops them all until `restore()`. */
class Relay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {}

  restore(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => this.#sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    return new Promise((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
  }

  cut(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

if (STORE_KINDS.includes('postgres')) {
  describe('PostgreSQL unreachable, in every envelope', () => {
    let relay: Relay;
    let store: Store;
    let app: Awaited<ReturnType<typeof buildApp>>;
    const clock = new TestClock();

    before(async () => {
      const location = await freshLocation('postgres');
      const url = new URL((location as { url: string }).url);
      relay = new Relay(await freePort(), { host: url.hostname, port: Number(url.port) });
      await relay.restore();
      url.port = String(relay.port);
      store = await openStore({ dialect: 'postgres', url: url.toString() });
      const secrets = new Secrets(SECRET_KEY);
      await loadSeed(store.db, secrets, fixtureSeed());
      app = await buildApp({ db: store.db, secrets, logLevel: 'silent', clock });
    });
    after(async () => {
      await app.close();
      await relay.cut();
      await store.close();
    });

    const requests = {
      confluence: () => app.inject({ method: 'GET', url: '/wiki/rest/api/user/current', headers: basic('mia') }),
      jira: () =>
        app.inject({
          method: 'GET',
          url: `/rest/api/3/user/properties?accountId=${encodeURIComponent(USERS.mia.accountId)}`,
          headers: basic('mia'),
        }),
      oauth: () =>
        app.inject({
          method: 'POST',
          url: '/oauth2/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'grant_type=client_credentials&client_id=someone&client_secret=something',
        }),
      ready: () => app.inject({ method: 'GET', url: '/readyz' }),
    };

    test('cut: 503 with Retry-After: 1 in the Confluence, Jira and RFC 6749 envelopes; /readyz 503', async () => {
      assert.equal((await requests.confluence()).statusCode, 200);
      await relay.cut();
      clock.pastCacheLifetime();

      const confluence = await requests.confluence();
      assertConfluenceError(confluence, 503, /^The database is not answering: retry the request shortly$/);
      assert.equal(confluence.headers['retry-after'], '1');

      const jira = await requests.jira();
      assertJiraError(jira, 503, /^The database is not answering: retry the request shortly$/);
      assert.equal(jira.headers['retry-after'], '1');

      const oauth = await requests.oauth();
      assert.equal(oauth.statusCode, 503);
      assert.equal(oauth.headers['retry-after'], '1');
      assert.deepEqual(oauth.json(), {
        error: 'server_error',
        error_description: 'The database is not answering: retry the request shortly',
      });

      const ready = await requests.ready();
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.headers['retry-after'], '1');
      for (const response of [confluence, jira, oauth, ready])
        assert.doesNotMatch(
          response.body,
          /ECONNREFUSED|127\.0\.0\.1|postgres/i,
          'no driver detail reaches the client',
        );
    });

    test('restored: the same app serves again', async () => {
      await relay.restore();
      clock.pastCacheLifetime();
      assert.equal((await requests.ready()).statusCode, 200);
      assert.equal((await requests.confluence()).statusCode, 200);
      assert.equal((await requests.jira()).statusCode, 200);
    });
  });
}
