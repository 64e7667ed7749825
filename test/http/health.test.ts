/** `/healthz` and `/readyz` (docs/behaviour.md §7): public, and /readyz follows the database. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Fixture, startFixture } from '../helpers/fixture.ts';
import { assertConfluenceError } from '../helpers/security.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

function assertOk(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown; body: string }) {
  assert.equal(response.statusCode, 200, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  assert.deepEqual(response.json(), { status: 'ok' });
}

for (const kind of STORE_KINDS) {
  describe(`health on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());

    test('/healthz and /readyz answer 200 with a live database, without credentials', async () => {
      assertOk(await fx.app.inject({ method: 'GET', url: '/healthz' }));
      assertOk(await fx.app.inject({ method: 'GET', url: '/readyz' }));
      assert.equal((await fx.app.inject({ method: 'HEAD', url: '/healthz' })).statusCode, 200);
      assert.equal((await fx.app.inject({ method: 'HEAD', url: '/readyz' })).statusCode, 200);
    });

    test('credentials are not read: bad ones do not turn a health check into a 401', async () => {
      for (const authorization of ['Basic bm9ib2R5Om5vdGhpbmc=', 'JWT garbage', 'Bearer expired', 'Digest x']) {
        assertOk(await fx.app.inject({ method: 'GET', url: '/healthz', headers: { authorization } }));
        assertOk(await fx.app.inject({ method: 'GET', url: '/readyz', headers: { authorization } }));
      }
      assertOk(await fx.app.inject({ method: 'GET', url: '/readyz?jwt=garbage' }));
    });
  });

  describe(`health on ${kind} once the database is gone`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
      assertOk(await fx.app.inject({ method: 'GET', url: '/readyz' }));
      await fx.store.close();
    });
    after(() => fx.close());

    test('/readyz answers 503 in the Confluence envelope; /healthz stays 200', async () => {
      const response = await fx.app.inject({ method: 'GET', url: '/readyz' });
      const body = assertConfluenceError(response, 503, /^The database is not answering$/);
      assert.equal(body.data.authorized, true);
      assert.equal(body.data.valid, true);
      assert.doesNotMatch(response.body, /sqlite|postgres|pool|destroy|connection/i);
      assertConfluenceError(
        await fx.app.inject({ method: 'GET', url: '/readyz', headers: { authorization: 'JWT garbage' } }),
        503,
        /not answering/,
      );
      assertOk(await fx.app.inject({ method: 'GET', url: '/healthz' }));
    });
  });
}
