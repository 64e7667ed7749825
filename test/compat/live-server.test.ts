/**
 * The "done when", over real HTTP on a real port: plain fetch with
 * Basic auth, and Connect JWTs built by the atlassian-jwt package (in the
 * Authorization header and in the `jwt` query parameter), land in the right
 * namespaces. Runs on both stores.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, startServer } from '../../src/server.ts';
import { basicAuth, connectJwt, connectJwtToken, type Headers } from '../helpers/credentials.ts';
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
    const asMia = basicAuth(mia.email, mia.token);
    const asNotes = (method: string, pathAndQuery: string) => connectJwt(APPS.notes, method, pathAndQuery);
    const call = (method: string, path: string, credentials: Headers, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: { ...credentials, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    test('Basic auth: create, read, list, update and delete', async () => {
      const created = await call('POST', propertyPath('live'), asMia, { value: { step: 1 } });
      assert.equal(created.status, 201);
      const body = await created.json();
      // With no base URL configured, links name the address the server listens on.
      assert.equal(body._links.base, `${server.url}/wiki`);

      assert.deepEqual((await (await call('GET', propertyPath('live'), asMia)).json()).value, { step: 1 });
      const list = await (await call('GET', `/wiki/rest/api/user/${mia.accountId}/property`, asMia)).json();
      assert.deepEqual(list.results, [{ key: 'live' }]);
      assert.equal((await call('PUT', propertyPath('live'), asMia, { value: { step: 2 } })).status, 204);
      assert.deepEqual((await (await call('GET', propertyPath('live'), asMia)).json()).value, { step: 2 });
      assert.equal((await call('DELETE', propertyPath('live'), asMia)).status, 204);
      assert.equal((await call('GET', propertyPath('live'), asMia)).status, 404);
    });

    test('Connect JWT from atlassian-jwt: the same calls land in the app namespace', async () => {
      const path = propertyPath('shared-key');
      assert.equal((await call('POST', path, asMia, { value: { owner: 'mia' } })).status, 201);

      const created = await call('POST', path, asNotes('POST', path), { value: { owner: 'notes' } });
      assert.equal(created.status, 201);
      const read = await call('GET', path, asNotes('GET', path));
      assert.deepEqual((await read.json()).value, { owner: 'notes' });

      const listPath = `/wiki/rest/api/user/${mia.accountId}/property?limit=10`;
      const list = await (await call('GET', listPath, asNotes('GET', listPath))).json();
      assert.deepEqual(list.results, [{ key: 'shared-key' }]);

      // The jwt query parameter, as Connect iframes and some clients send it.
      const viaQuery = `${path}?jwt=${connectJwtToken(APPS.notes, 'PUT', path)}`;
      assert.equal((await call('PUT', viaQuery, {}, { value: { owner: 'notes', v: 2 } })).status, 204);
      assert.deepEqual((await (await call('GET', path, asNotes('GET', path))).json()).value, {
        owner: 'notes',
        v: 2,
      });

      // The user's own property is untouched by the app's writes.
      assert.deepEqual((await (await call('GET', path, asMia)).json()).value, { owner: 'mia' });
      assert.equal((await call('DELETE', path, asNotes('DELETE', path))).status, 204);
      assert.equal((await call('GET', path, asMia)).status, 200);
    });
  });
}
