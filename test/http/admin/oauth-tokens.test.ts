/**
 * Bearer tokens in the administration API (docs/behaviour.md §9), on both stores:
 * listing without the tokens, revocation by id and by app, and rotation of
 * an app's shared or client secret (admin API, seed) ending its tokens.
 * A used token's outcome is cached: each end is shown after the cache's
 * lifetime, by moving the clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkSeed, loadSeed } from '../../../src/domain/seed.ts';
import { adminCaller, UUID } from '../../helpers/admin.ts';
import { bearer } from '../../helpers/credentials.ts';
import {
  basic,
  bearerToken,
  type Fixture,
  impersonationAssertion,
  loadOAuthFixture,
  startFixture,
  USERS,
} from '../../helpers/fixture.ts';
import { assertConfluenceError } from '../../helpers/security.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

const TOKEN_KEYS = ['accountId', 'appKey', 'createdAt', 'expiresAt', 'id', 'scopes'];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const MIA = USERS.mia.accountId;
const REJECTED = /^Bearer token rejected: it is not valid or has expired$/;

for (const kind of STORE_KINDS) {
  describe(`admin API: bearer tokens on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
      await loadOAuthFixture(fx);
    });
    after(() => fx.close());
    const call = adminCaller(() => fx);
    const current = (headers: Record<string, string>) =>
      fx.app.inject({ method: 'GET', url: '/wiki/rest/api/user/current', headers });

    let counter = 0;
    /** A fresh app with an OAuth client and ACT_AS_USER, so each test owns its tokens. */
    async function newApp() {
      const n = ++counter;
      const app = {
        key: `com.example.rotating-${n}`,
        name: `Rotating ${n}`,
        clientKey: `rotating-client-${n}`,
        sharedSecret: `rotating-${n}-shared-secret-of-at-least-32-chars`,
        oauthClientId: `rotating-id-${n}`,
        clientSecret: `rotating-${n}-client-secret`,
        scopes: ['READ', 'ACT_AS_USER'],
      };
      const created = await call('POST', '/apps', app);
      assert.equal(created.statusCode, 201, created.body);
      const issue = async (params: Record<string, string>) => {
        const response = await fx.app.inject({
          method: 'POST',
          url: '/oauth2/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams(params).toString(),
        });
        assert.equal(response.statusCode, 200, response.body);
        return bearer(response.json().access_token);
      };
      const asApp = () =>
        issue({ grant_type: 'client_credentials', client_id: app.oauthClientId, client_secret: app.clientSecret });
      const asMia = () =>
        issue({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: impersonationAssertion(app, MIA),
        });
      return { app, asApp, asMia };
    }

    /** Each token works now (and so is cached): the end shown afterwards is not the cache's. */
    async function assertWorking(...tokens: Array<Record<string, string>>) {
      for (const token of tokens) assert.equal((await current(token)).statusCode, 200);
    }
    async function assertEnded(...tokens: Array<Record<string, string>>) {
      fx.clock.pastCacheLifetime();
      for (const token of tokens) assertConfluenceError(await current(token), 401, REJECTED);
    }

    test("GET /apps/{key}/oauth-tokens lists the app's tokens, asApp and asUser, never a token or digest", async () => {
      const { app, asApp, asMia } = await newApp();
      const first = await asApp();
      const second = await asMia();
      const response = await call('GET', `/apps/${app.key}/oauth-tokens`);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.deepEqual(Object.keys(body).sort(), ['limit', 'results', 'size', 'start']);
      assert.equal(body.size, 2);
      for (const token of body.results) {
        assert.deepEqual(Object.keys(token).sort(), TOKEN_KEYS);
        assert.match(token.id, UUID);
        assert.equal(token.appKey, app.key);
        assert.match(token.createdAt, ISO);
        assert.match(token.expiresAt, ISO);
      }
      assert.deepEqual(
        body.results.map((t: { accountId: string | null; scopes: string[] }) => [t.accountId, t.scopes]),
        [
          [null, ['READ', 'ACT_AS_USER']],
          [MIA, ['READ', 'ACT_AS_USER']],
        ],
      );
      for (const token of [first, second]) {
        const value = token.authorization!.slice('Bearer '.length);
        assert.ok(!response.body.includes(value), 'a token is listed');
        assert.ok(!response.body.includes(fx.secrets.digest(value)), "a token's digest is listed");
      }
      // Paging, as every admin list.
      const page = (await call('GET', `/apps/${app.key}/oauth-tokens?start=1&limit=1`)).json();
      assert.deepEqual([page.start, page.limit, page.size, page.results[0].accountId], [1, 1, 1, MIA]);
      // Another app's list holds none of them; an unknown app is a 404.
      const other = (await call('GET', '/apps/com.example.oauth/oauth-tokens')).json();
      assert.ok(other.results.every((t: { appKey: string }) => t.appKey === 'com.example.oauth'));
      assertConfluenceError(await call('GET', '/apps/com.example.nobody/oauth-tokens'), 404, /No app with key/);
    });

    test('DELETE /oauth-tokens/{id} revokes one token: 401 within the cache lifetime; 400 and 404', async () => {
      const { app, asApp } = await newApp();
      const kept = await asApp();
      const revoked = await asApp();
      await assertWorking(kept, revoked);
      const [oldest, newest] = (await call('GET', `/apps/${app.key}/oauth-tokens`)).json().results;
      assert.equal((await call('DELETE', `/oauth-tokens/${newest.id}`)).statusCode, 204);
      await assertEnded(revoked);
      await assertWorking(kept);
      assert.deepEqual(
        (await call('GET', `/apps/${app.key}/oauth-tokens`)).json().results.map((t: { id: string }) => t.id),
        [oldest.id],
      );
      assertConfluenceError(await call('DELETE', `/oauth-tokens/${newest.id}`), 404, /No bearer token with id/);
      assertConfluenceError(await call('DELETE', '/oauth-tokens/not-a-uuid'), 400, /is not a bearer token id/);
      // Only site admins: another user is refused before anything is looked up.
      assertConfluenceError(
        await call('DELETE', `/oauth-tokens/${oldest.id}`, undefined, basic('mia')),
        403,
        /Only site admins/,
      );
      await assertWorking(kept);
    });

    test("DELETE /apps/{key}/oauth-tokens revokes all of an app's tokens, and no other app's", async () => {
      const { app, asApp, asMia } = await newApp();
      const mine = [await asApp(), await asMia()];
      const othersToken = bearer(await bearerToken(fx, 'oauth'));
      await assertWorking(...mine, othersToken);
      assert.equal((await call('DELETE', `/apps/${app.key}/oauth-tokens`)).statusCode, 204);
      await assertEnded(...mine);
      await assertWorking(othersToken);
      assert.equal((await call('GET', `/apps/${app.key}/oauth-tokens`)).json().size, 0);
      // New tokens are issued as before; an unknown app is a 404.
      await assertWorking(await asApp());
      assertConfluenceError(await call('DELETE', '/apps/com.example.nobody/oauth-tokens'), 404, /No app with key/);
    });

    for (const secret of ['sharedSecret', 'clientSecret'] as const) {
      test(`PATCH /apps/{key} with a new ${secret} ends the app's tokens, asApp and asUser`, async () => {
        const { app, asApp, asMia } = await newApp();
        const tokens = [await asApp(), await asMia()];
        const othersToken = bearer(await bearerToken(fx, 'oauth'));
        await assertWorking(...tokens, othersToken);
        // The same secret again is no rotation.
        assert.equal((await call('PATCH', `/apps/${app.key}`, { [secret]: app[secret] })).statusCode, 200);
        fx.clock.pastCacheLifetime();
        await assertWorking(...tokens);

        const rotated = `${app[secret]}-rotated`;
        assert.equal((await call('PATCH', `/apps/${app.key}`, { [secret]: rotated })).statusCode, 200);
        await assertEnded(...tokens);
        await assertWorking(othersToken);
        assert.equal((await call('GET', `/apps/${app.key}/oauth-tokens`)).json().size, 0);
      });
    }

    test("removing the client secret ends the app's tokens; other changes do not", async () => {
      const { app, asApp } = await newApp();
      const token = await asApp();
      await assertWorking(token);
      assert.equal((await call('PATCH', `/apps/${app.key}`, { name: 'Renamed', scopes: ['READ'] })).statusCode, 200);
      fx.clock.pastCacheLifetime();
      await assertWorking(token);
      assert.equal((await call('PATCH', `/apps/${app.key}`, { clientSecret: null })).statusCode, 200);
      await assertEnded(token);
    });

    test("a seed that changes an app's secrets ends its tokens; loading the same seed again does not", async () => {
      const { app, asApp, asMia } = await newApp();
      const seedWith = (change: Partial<typeof app>) =>
        loadSeed(fx.store.db, fx.secrets, checkSeed({ apps: [{ ...app, ...change }] }));
      const tokens = [await asApp(), await asMia()];
      await assertWorking(...tokens);
      await seedWith({});
      fx.clock.pastCacheLifetime();
      await assertWorking(...tokens);
      await seedWith({ sharedSecret: `${app.sharedSecret}-rotated` });
      await assertEnded(...tokens);
    });
  });
}
