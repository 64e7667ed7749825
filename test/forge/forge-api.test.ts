/**
 * Forge apps' code against a site (docs/behaviour.md §13, docs/forge.md),
 * through the real `@forge/api` (never mocked) with `forgeRuntime`
 * (src/forge.ts) installed, against a live server on each store, on the
 * site `acme` (so the site prefix is in `baseUrl`; test/helpers/forge.ts).
 * The resolvers of test/forge/app/resolvers.ts are a Forge app's own code.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import api, { authorize, getAppContext, NeedsAuthenticationError, permissions, privacy, route } from '@forge/api';
import { type ForgeRuntime, forgeRuntime } from '../../src/forge.ts';
import { connectJwt } from '../helpers/credentials.ts';
import { APPS, basic, USERS } from '../helpers/fixture.ts';
import { FORGE_APPS, type ForgeSite, startForgeSite } from '../helpers/forge.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { currentUser, readTheme, saveTheme, whoAmI } from './app/resolvers.ts';

const MIA = USERS.mia.accountId;
const NOAH = USERS.noah.accountId;
const JSON_BODY = { 'content-type': 'application/json' };
const forgeGlobals = () => ({
  fetch: Object.getOwnPropertyDescriptor(globalThis, '__forge_fetch__'),
  runtime: Object.getOwnPropertyDescriptor(globalThis, '__forge_runtime__'),
});

for (const kind of STORE_KINDS) {
  describe(`@forge/api against a site, on ${kind}`, () => {
    let up: ForgeSite;
    let forge: ForgeRuntime | undefined;
    before(async () => {
      up = await startForgeSite(kind);
    });
    after(() => up.close());
    afterEach(() => {
      forge?.uninstall();
      forge = undefined;
    });
    const install = async (app: 'notes' | 'reader' = 'notes', accountId?: string) => {
      forge = await forgeRuntime(up.options(app, accountId));
      return forge;
    };

    test('a resolver calling asUser().requestConfluence(route`/wiki/rest/api/user/current`) gets the invoking user', async () => {
      await install('notes', MIA);
      const user = await currentUser();
      assert.equal(user.accountId, MIA);
      assert.equal(user.accountType, 'atlassian');
      assert.equal(user.displayName, 'mia');
      assert.equal(whoAmI(), FORGE_APPS.notes.key);
      const context = getAppContext();
      assert.equal(context.appAri.appId, FORGE_APPS.notes.key.slice('ari:cloud:ecosystem::app/'.length));
      assert.equal(String(context.installation?.contexts[0]), `ari:cloud:confluence::site/${up.site.cloudId}`);
      assert.deepEqual(context.permissions?.scopes, [...FORGE_APPS.notes.scopes]);
      assert.ok(context.invocationRemainingTimeInMillis() > 0);
    });

    test('forge.as switches the invoking user; as(undefined) leaves none, and asUser() throws NeedsAuthenticationError', async () => {
      const runtime = await install('notes', MIA);
      runtime.as(NOAH);
      assert.equal(runtime.accountId, NOAH);
      assert.equal((await currentUser()).accountId, NOAH);
      runtime.as(undefined);
      await assert.rejects(
        api.asUser().requestConfluence(route`/wiki/rest/api/user/current`),
        (error: unknown) => error instanceof NeedsAuthenticationError && error.status === 401,
      );
      // Naming the user is enough, invoking user or not.
      const named = await api.asUser(MIA).requestConfluence(route`/wiki/rest/api/user/current`);
      assert.equal(named.status, 200);
      assert.equal((await named.json()).accountId, MIA);
      assert.throws(() => authorize(), /Couldn’t find the accountId of the invoking user/);
    });

    test('asUser() with no invoking user from the start: NeedsAuthenticationError, for Confluence and Jira alike', async () => {
      await install('notes');
      await assert.rejects(currentUser(), NeedsAuthenticationError);
      await assert.rejects(
        api.asUser().requestJira(route`/rest/api/3/user/properties?accountId=${MIA}`),
        NeedsAuthenticationError,
      );
    });

    test('directory reads, asApp and asUser; /user/bulk stays closed to apps', async () => {
      await install('notes', MIA);
      const noah = await api.asApp().requestConfluence(route`/wiki/rest/api/user?accountId=${NOAH}`);
      assert.equal(noah.status, 200);
      assert.equal((await noah.json()).displayName, 'noah');
      const groups = await api.asUser().requestConfluence(route`/wiki/rest/api/user/memberof?accountId=${MIA}`);
      assert.equal(groups.status, 200);
      assert.deepEqual(
        (await groups.json()).results.map((g: { name: string }) => g.name),
        ['confluence-users'],
      );
      const bot = await api.asApp().requestConfluence(route`/wiki/rest/api/user/current`);
      assert.equal((await bot.json()).accountId, FORGE_APPS.notes.accountId);
      const bulk = await api.asApp().requestConfluence(route`/wiki/rest/api/user/bulk?accountId=${MIA}`);
      assert.equal(bulk.status, 403);
      // withContext names no remote: the product is the path's.
      const inContext = await api
        .asApp()
        .withContext(`ari:cloud:confluence::site/${up.site.cloudId}`)
        .requestConfluence(route`/wiki/rest/api/user?accountId=${MIA}`);
      assert.equal(inContext.status, 200);
      assert.equal((await inContext.json()).accountId, MIA);
    });

    test("Confluence properties: the Forge app's own namespace, asApp for anyone, asUser for the user's own", async () => {
      await install('notes', MIA);
      assert.equal(await readTheme(), null);
      assert.equal(await saveTheme('dark'), 201);
      assert.equal(await saveTheme('light'), 204);
      assert.equal(await readTheme(), 'light');

      // asApp reads and writes any user's, in the app's namespace.
      const asApp = await api.asApp().requestConfluence(route`/wiki/rest/api/user/${MIA}/property/theme`);
      assert.equal(asApp.status, 200);
      assert.deepEqual((await asApp.json()).value, { theme: 'light' });
      const forNoah = await api.asApp().requestConfluence(route`/wiki/rest/api/user/${NOAH}/property/theme`, {
        method: 'POST',
        headers: JSON_BODY,
        body: JSON.stringify({ value: { theme: 'sepia' } }),
      });
      assert.equal(forNoah.status, 201);

      // asUser reaches only the user's own.
      const other = await api.asUser().requestConfluence(route`/wiki/rest/api/user/${NOAH}/property/theme`);
      assert.equal(other.status, 403);

      // The Connect app `notes` and the user without an app see other properties of the same key.
      const path = `/wiki/rest/api/user/${MIA}/property/theme`;
      const connect = await fetch(`${up.baseUrl}${path}`, { headers: connectJwt(APPS.notes, 'GET', path) });
      assert.equal(connect.status, 404);
      const own = await fetch(`${up.baseUrl}${path}`, { headers: basic('mia') });
      assert.equal(own.status, 404);
      const written = await fetch(`${up.baseUrl}${path}`, {
        method: 'POST',
        headers: { ...connectJwt(APPS.notes, 'POST', path), ...JSON_BODY },
        body: JSON.stringify({ value: { theme: 'connect' } }),
      });
      assert.equal(written.status, 201);
      assert.equal(await readTheme(), 'light');
    });

    test("Jira properties: asApp sets any user's, asUser reads its own and not another's", async () => {
      await install('notes', MIA);
      const set = await api.asApp().requestJira(route`/rest/api/3/user/properties/onboarding?accountId=${MIA}`, {
        method: 'PUT',
        headers: JSON_BODY,
        body: JSON.stringify({ step: 3 }),
      });
      assert.equal(set.status, 201);
      const mine = await api.asUser().requestJira(route`/rest/api/3/user/properties/onboarding?accountId=${MIA}`);
      assert.equal(mine.status, 200);
      assert.deepEqual(await mine.json(), { key: 'onboarding', value: { step: 3 } });
      const keys = await api.asUser().requestJira(route`/rest/api/2/user/properties?accountId=${MIA}`);
      assert.equal(keys.status, 200);
      assert.deepEqual(
        (await keys.json()).keys.map((k: { key: string }) => k.key),
        ['onboarding'],
      );
      const theirs = await api.asUser().requestJira(route`/rest/api/3/user/properties/onboarding?accountId=${NOAH}`);
      assert.equal(theirs.status, 403);
      const removed = await api
        .asUser()
        .requestJira(route`/rest/api/3/user/properties/onboarding?accountId=${MIA}`, { method: 'DELETE' });
      assert.equal(removed.status, 204);
    });

    test("a scope the app lacks: the route's 403, as a response, naming the scopes that would do", async () => {
      await install('reader', MIA);
      assert.equal((await currentUser()).accountId, MIA);
      assert.deepEqual(getAppContext().permissions?.scopes, ['read:confluence-user']);
      assert.equal(permissions.hasScope('read:confluence-user'), true);
      const read = await api.asApp().requestConfluence(route`/wiki/rest/api/user/${MIA}/property/theme`);
      assert.equal(read.status, 403);
      assert.match((await read.json()).message, /read:user\.property:confluence/);
      const write = await api.asUser().requestJira(route`/rest/api/3/user/properties/x?accountId=${MIA}`, {
        method: 'PUT',
        headers: JSON_BODY,
        body: '{}',
      });
      assert.equal(write.status, 403);
    });

    test('bare requestConfluence and requestJira are anonymous: the site answers 401, and nothing is thrown', async () => {
      await install('notes', MIA);
      const confluence = await api.requestConfluence(route`/wiki/rest/api/user/current`, {
        headers: { authorization: 'Bearer not-the-apps' },
      });
      assert.equal(confluence.status, 401);
      assert.equal(confluence.headers.get('forge-proxy-error'), null);
      const jira = await api.requestJira(route`/rest/api/3/user/properties?accountId=${MIA}`);
      assert.equal(jira.status, 401);
    });

    test('a deactivated user: an ordinary 401, not NeedsAuthenticationError', async () => {
      await install('notes', USERS.gone.accountId);
      const response = await api.asUser().requestConfluence(route`/wiki/rest/api/user/current`);
      assert.equal(response.status, 401);
      assert.match((await response.json()).message, /refused a token for user 712020:gone.*deactivated/);
    });

    test('what is not emulated answers 404 naming it', async () => {
      await install('notes', MIA);
      const graph = await api.asApp().requestGraph('{ me { user { name } } }');
      assert.equal(graph.status, 404);
      assert.match((await graph.json()).message, /does not emulate the GraphQL gateway \(requestGraph\)/);
      const atlassian = await api.asUser().requestAtlassian(route`/app/anything`);
      assert.equal(atlassian.status, 404);
      const bitbucket = await api.asApp().requestBitbucket(route`/2.0/user`);
      assert.match((await bitbucket.json()).message, /Bitbucket/);
      await assert.rejects(
        privacy.reportPersonalData([{ accountId: MIA, updatedAt: '2026-01-01T00:00:00Z' }]),
        (response: Response) => {
          assert.equal(response.status, 404);
          return true;
        },
      );
    });

    test('journal entries of Forge calls, asApp and asUser, have authMode forge', async () => {
      await install('notes', NOAH);
      await currentUser();
      await api.asApp().requestConfluence(route`/wiki/rest/api/user?accountId=${MIA}`);
      const entries = await up.site.journal({ app: FORGE_APPS.notes.key, limit: 5 });
      const [asApp, asUser] = entries;
      assert.equal(asApp?.operation, 'confluence.getUser');
      assert.equal(asApp?.authMode, 'forge');
      assert.deepEqual(asApp?.principal, {
        kind: 'app',
        app: FORGE_APPS.notes.key,
        accountId: FORGE_APPS.notes.accountId,
      });
      assert.equal(asUser?.operation, 'confluence.getCurrentUser');
      assert.equal(asUser?.authMode, 'forge');
      assert.equal(asUser?.principal.kind, 'asUser');
      assert.equal(asUser?.principal.accountId, NOAH);
    });

    test('tokens ended by a reset of the site are asked for again', async () => {
      await install('notes', MIA);
      assert.equal((await currentUser()).accountId, MIA);
      await up.site.reset();
      assert.equal((await currentUser()).accountId, MIA);
    });

    test('uninstall puts the globals back exactly; a second runtime is refused while one is installed', async () => {
      const sentinel = async () => new Response('not forge');
      Object.defineProperty(globalThis, '__forge_fetch__', { value: sentinel, configurable: true, writable: false });
      try {
        const before = forgeGlobals();
        assert.equal(before.runtime, undefined);
        const runtime = await install('notes', MIA);
        assert.notEqual(forgeGlobals().fetch?.value, sentinel);
        await assert.rejects(forgeRuntime(up.options('reader')), /already installed/);
        runtime.uninstall();
        forge = undefined;
        assert.deepEqual(forgeGlobals(), before);
        assert.throws(() => getAppContext(), /Forge runtime not found/);
        runtime.uninstall();
        assert.throws(() => runtime.as(MIA), /uninstalled/);
        // Installing again works once the first is gone.
        await install('notes', MIA);
        assert.equal((await currentUser()).accountId, MIA);
      } finally {
        forge?.uninstall();
        forge = undefined;
        delete (globalThis as Record<string, unknown>).__forge_fetch__;
      }
    });

    test('wrong app credentials fail at install, naming the token endpoint', async () => {
      await assert.rejects(
        forgeRuntime({ ...up.options('notes'), clientSecret: 'not-the-secret' }),
        /refused a token for app ari:cloud:ecosystem::app\/.*invalid_client/,
      );
      assert.deepEqual(forgeGlobals(), { fetch: undefined, runtime: undefined });
    });
  });
}
