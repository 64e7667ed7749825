/**
 * The issue's "done when", over real HTTP on a real port: plain fetch with
 * Basic auth, and Connect JWTs built by the atlassian-jwt package (in the
 * Authorization header and in the `jwt` query parameter), land in the right
 * namespaces. Runs on both stores.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import { type RunningServer, startServer } from '../../src/server.ts';
import { APPS, fixtureSeed, SECRET_KEY, USERS } from '../helpers/fixture.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`a live server on ${kind}`, () => {
    let server: RunningServer;
    before(async () => {
      const seed = join(tmpdir(), `userplane-live-${process.pid}-${kind}.json`);
      const { site: _site, ...rest } = fixtureSeed();
      writeFileSync(seed, JSON.stringify(rest));
      server = await startServer({
        port: 0,
        host: '127.0.0.1',
        database: databaseUrl(await freshLocation(kind)),
        seed,
        secretKey: SECRET_KEY,
        logLevel: 'silent',
      });
    });
    after(() => server.close());

    const mia = USERS.mia;
    const propertyPath = (key: string) => `/wiki/rest/api/user/${mia.accountId}/property/${key}`;
    const basicAuth = `Basic ${Buffer.from(`${mia.email}:${mia.token}`).toString('base64')}`;
    function jwtFor(method: string, pathAndQuery: string): string {
      const now = Math.floor(Date.now() / 1000);
      const qsh = createQueryStringHash(fromMethodAndUrl(method, pathAndQuery));
      return encodeSymmetric({ iss: APPS.notes.key, iat: now, exp: now + 60, qsh }, APPS.notes.sharedSecret);
    }
    const call = (method: string, path: string, authorization: string | undefined, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(authorization ? { authorization } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    test('Basic auth: create, read, list, update and delete', async () => {
      const created = await call('POST', propertyPath('live'), basicAuth, { value: { step: 1 } });
      assert.equal(created.status, 201);
      const body = await created.json();
      // With no base URL configured, links name the address the server listens on.
      assert.equal(body._links.base, `${server.url}/wiki`);

      assert.deepEqual((await (await call('GET', propertyPath('live'), basicAuth)).json()).value, { step: 1 });
      const list = await (await call('GET', `/wiki/rest/api/user/${mia.accountId}/property`, basicAuth)).json();
      assert.deepEqual(list.results, [{ key: 'live' }]);
      assert.equal((await call('PUT', propertyPath('live'), basicAuth, { value: { step: 2 } })).status, 204);
      assert.deepEqual((await (await call('GET', propertyPath('live'), basicAuth)).json()).value, { step: 2 });
      assert.equal((await call('DELETE', propertyPath('live'), basicAuth)).status, 204);
      assert.equal((await call('GET', propertyPath('live'), basicAuth)).status, 404);
    });

    test('Connect JWT from atlassian-jwt: the same calls land in the app namespace', async () => {
      const path = propertyPath('shared-key');
      assert.equal((await call('POST', path, basicAuth, { value: { owner: 'mia' } })).status, 201);

      const created = await call('POST', path, `JWT ${jwtFor('POST', path)}`, { value: { owner: 'notes' } });
      assert.equal(created.status, 201);
      const read = await call('GET', path, `JWT ${jwtFor('GET', path)}`);
      assert.deepEqual((await read.json()).value, { owner: 'notes' });

      const listPath = `/wiki/rest/api/user/${mia.accountId}/property?limit=10`;
      const list = await (await call('GET', listPath, `JWT ${jwtFor('GET', listPath)}`)).json();
      assert.deepEqual(list.results, [{ key: 'shared-key' }]);

      // The jwt query parameter, as Connect iframes and some clients send it.
      const viaQuery = `${path}?jwt=${jwtFor('PUT', path)}`;
      assert.equal((await call('PUT', viaQuery, undefined, { value: { owner: 'notes', v: 2 } })).status, 204);
      assert.deepEqual((await (await call('GET', path, `JWT ${jwtFor('GET', path)}`)).json()).value, {
        owner: 'notes',
        v: 2,
      });

      // The user's own property is untouched by the app's writes.
      assert.deepEqual((await (await call('GET', path, basicAuth)).json()).value, { owner: 'mia' });
      assert.equal((await call('DELETE', path, `JWT ${jwtFor('DELETE', path)}`)).status, 204);
      assert.equal((await call('GET', path, basicAuth)).status, 200);
    });
  });
}
