/** Contract tests for /admin/api/apps (docs/behaviour.md §2, §9), on both stores. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { botAccountId } from '../../../src/domain/apps.ts';
import { insertProperty } from '../../../src/store/properties.ts';
import { adminCaller } from '../../helpers/admin.ts';
import { connectJwt } from '../../helpers/credentials.ts';
import { APPS, basic, type Fixture, startFixture, USERS } from '../../helpers/fixture.ts';
import { assertConfluenceError } from '../../helpers/security.ts';
import { DEFAULT_SITE, STORE_KINDS } from '../../helpers/stores.ts';

const APP_KEYS = [
  'accountId',
  'clientKey',
  'emailAccess',
  'hasClientSecret',
  'key',
  'kind',
  'name',
  'oauthClientId',
  'scopes',
];
const SECRET = 'a-brand-new-shared-secret-of-32-chars-or-more';
const MIA = USERS.mia.accountId;

/** A Connect JWT for `url`, signed with any secret: for apps the fixture does not know. */
const jwtFor = (key: string, sharedSecret: string, method: string, url: string) =>
  connectJwt({ key, sharedSecret }, method, url);

for (const kind of STORE_KINDS) {
  describe(`admin API: apps on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());
    const call = adminCaller(() => fx);

    let counter = 0;
    const fresh = () => `com.example.new${++counter}`;
    const newApp = (key: string, extra: Record<string, unknown> = {}) =>
      call('POST', '/apps', { key, name: `App ${key}`, clientKey: `${key}-client`, sharedSecret: SECRET, ...extra });
    const propertyList = `/wiki/rest/api/user/${MIA}/property`;

    test('GET /apps and /apps/{key}: the apps by key, never a secret', async () => {
      const response = await call('GET', '/apps');
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.deepEqual(body.results.map((a: { key: string }) => a.key).slice(0, 3), [
        'com.example.notes',
        'com.example.reader',
        'com.example.tasks',
      ]);
      for (const app of body.results) assert.deepEqual(Object.keys(app).sort(), APP_KEYS);
      for (const app of Object.values(APPS))
        assert.ok(!response.body.includes(app.sharedSecret), 'no shared secret in the list');

      const one = await call('GET', '/apps/com.example.notes');
      assert.equal(one.statusCode, 200);
      assert.deepEqual(one.json(), {
        key: 'com.example.notes',
        name: 'Notes',
        clientKey: 'notes-client',
        oauthClientId: null,
        hasClientSecret: false,
        scopes: ['READ', 'WRITE', 'DELETE', 'ACT_AS_USER'],
        emailAccess: false,
        accountId: '557058:notes-bot',
        kind: 'connect',
      });
      assertConfluenceError(
        await call('GET', '/apps/com.example.nothing'),
        404,
        /No app with key com\.example\.nothing/,
      );
      assert.deepEqual((await call('GET', '/apps?start=1&limit=1')).json(), {
        results: [body.results[1]],
        start: 1,
        limit: 1,
        size: 1,
      });
    });

    test('POST /apps: 201, the bot user, secrets stored encrypted or digested, and the app authenticates', async () => {
      const key = fresh();
      const response = await newApp(key, {
        oauthClientId: `${key}-oauth`,
        clientSecret: 'client-secret-value',
        scopes: ['READ', 'WRITE', 'READ'],
        emailAccess: true,
      });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal(response.headers.location, `/admin/api/apps/${key}`);
      assert.deepEqual(response.json(), {
        key,
        name: `App ${key}`,
        clientKey: `${key}-client`,
        oauthClientId: `${key}-oauth`,
        hasClientSecret: true,
        scopes: ['READ', 'WRITE'],
        emailAccess: true,
        accountId: botAccountId(key),
        kind: 'connect',
      });
      assert.ok(!response.body.includes(SECRET) && !response.body.includes('client-secret-value'));

      const bot = await call('GET', `/users/${botAccountId(key)}`);
      assert.equal(bot.statusCode, 200);
      assert.deepEqual(
        {
          accountType: bot.json().accountType,
          displayName: bot.json().displayName,
          email: bot.json().email,
          groups: bot.json().groups,
        },
        { accountType: 'app', displayName: `App ${key}`, email: '', groups: [] },
      );

      const row = await fx.store.db.selectFrom('apps').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
      assert.ok(!row.shared_secret.includes(SECRET), 'the shared secret is encrypted');
      assert.equal(fx.secrets.decrypt(row.shared_secret), SECRET);
      assert.equal(row.client_secret_digest, fx.secrets.digest('client-secret-value'));

      const listed = await fx.app.inject({
        method: 'GET',
        url: propertyList,
        headers: jwtFor(key, SECRET, 'GET', propertyList),
      });
      assert.equal(listed.statusCode, 200, listed.body);
    });

    test('POST /apps: a chosen bot accountId; defaults for scopes and emailAccess', async () => {
      const key = fresh();
      const accountId = `557058:${key.replace(/\./g, '-')}`;
      const response = await newApp(key, { accountId });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal(response.json().accountId, accountId);
      assert.deepEqual(response.json().scopes, ['READ']);
      assert.equal(response.json().emailAccess, false);
      assert.equal(response.json().hasClientSecret, false);
    });

    test('POST /apps: 400 for bad input, and nothing is written', async () => {
      const key = fresh();
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ sharedSecret: 'too-short' }, /sharedSecret is too short: at least 32 characters/],
        [{ key: 'has space' }, /key "has space" is not a valid app key/],
        [{ key: 'k'.repeat(65) }, /is not a valid app key: use 1 to 64/],
        [{ accountId: 'bad id' }, /accountId "bad id" is not a well-formed accountId/],
        [{ scopes: ['READ', 'two words'] }, /scopes\[1\]: "two words" is not a scope/],
        [{ scopes: 'READ' }, /request body scopes: must be an array/],
        [{ emailAccess: 'true' }, /request body emailAccess: must be a boolean/],
        [{ installedBy: 'me' }, /has unknown field installedBy/],
        [{ name: '' }, /request body name/],
      ];
      for (const [extra, pattern] of cases) assertConfluenceError(await newApp(key, extra), 400, pattern);
      assertConfluenceError(
        await call('POST', '/apps', { key, name: 'X', clientKey: 'x' }),
        400,
        /request body: is missing sharedSecret/,
      );
      assertConfluenceError(await call('GET', `/apps/${key}`), 404, /No app with key/);
      assertConfluenceError(await call('GET', `/users/${botAccountId(key)}`), 404, /No user/);
    });

    test('POST /apps: 409 for a taken key, clientKey, oauthClientId or bot accountId', async () => {
      const key = fresh();
      assert.equal((await newApp(key, { oauthClientId: `${key}-oauth` })).statusCode, 201);
      assertConfluenceError(
        await newApp(key),
        409,
        new RegExp(`An app with key ${key.replace(/\./g, '\\.')} already exists`),
      );
      assertConfluenceError(
        await newApp(fresh(), { clientKey: 'notes-client' }),
        409,
        /clientKey "notes-client" already belongs to another app/,
      );
      assertConfluenceError(
        await newApp(fresh(), { oauthClientId: `${key}-oauth` }),
        409,
        /oauthClientId ".*-oauth" already belongs to another app/,
      );
      assertConfluenceError(
        await newApp(fresh(), { accountId: MIA }),
        409,
        /accountId "712020:mia" already belongs to another app or user/,
      );
      assertConfluenceError(
        await newApp(fresh(), { accountId: '557058:notes-bot' }),
        409,
        /accountId "557058:notes-bot" already belongs/,
      );
      assert.equal(
        (await call('GET', `/users/${MIA}`)).json().accountType,
        'atlassian',
        'the person was not turned into a bot',
      );
    });

    test('PATCH /apps/{key}: changes the fields given; the name renames the bot; secrets rotate', async () => {
      const key = fresh();
      assert.equal((await newApp(key, { clientSecret: 'first-client-secret' })).statusCode, 201);
      const rotated = 'a-rotated-shared-secret-that-is-32-characters-long';
      const response = await call('PATCH', `/apps/${key}`, {
        name: 'Renamed',
        sharedSecret: rotated,
        scopes: ['READ', 'WRITE'],
        clientSecret: null,
        oauthClientId: `${key}-oauth`,
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), {
        key,
        name: 'Renamed',
        clientKey: `${key}-client`,
        oauthClientId: `${key}-oauth`,
        hasClientSecret: false,
        scopes: ['READ', 'WRITE'],
        emailAccess: false,
        accountId: botAccountId(key),
        kind: 'connect',
      });
      assert.ok(!response.body.includes(rotated));
      assert.equal((await call('GET', `/users/${botAccountId(key)}`)).json().displayName, 'Renamed');

      fx.clock.pastCacheLifetime();
      assertConfluenceError(
        await fx.app.inject({ method: 'GET', url: propertyList, headers: jwtFor(key, SECRET, 'GET', propertyList) }),
        401,
        /the signature does not verify/,
      );
      assert.equal(
        (await fx.app.inject({ method: 'GET', url: propertyList, headers: jwtFor(key, rotated, 'GET', propertyList) }))
          .statusCode,
        200,
      );

      const empty = await call('PATCH', `/apps/${key}`, {});
      assert.deepEqual(empty.json(), response.json());
      const cleared = await call('PATCH', `/apps/${key}`, { oauthClientId: null, clientSecret: 'second' });
      assert.equal(cleared.json().oauthClientId, null);
      assert.equal(cleared.json().hasClientSecret, true);
    });

    test('PATCH /apps/{key}: 400, 404 and 409', async () => {
      const key = fresh();
      assert.equal((await newApp(key)).statusCode, 201);
      assertConfluenceError(await call('PATCH', `/apps/${key}`, { key: 'other' }), 400, /has unknown field key/);
      assertConfluenceError(
        await call('PATCH', `/apps/${key}`, { accountId: '557058:other' }),
        400,
        /has unknown field accountId/,
      );
      assertConfluenceError(
        await call('PATCH', `/apps/${key}`, { sharedSecret: 'short' }),
        400,
        /sharedSecret is too short/,
      );
      assertConfluenceError(await call('PATCH', `/apps/${key}`, { scopes: [''] }), 400, /request body scopes\[0\]/);
      assertConfluenceError(
        await call('PATCH', '/apps/com.example.nothing', { name: 'X' }),
        404,
        /No app with key com\.example\.nothing/,
      );
      assertConfluenceError(
        await call('PATCH', `/apps/${key}`, { clientKey: 'tasks-client' }),
        409,
        /clientKey "tasks-client" already belongs to another app/,
      );
      assert.equal((await call('GET', `/apps/${key}`)).json().clientKey, `${key}-client`);
    });

    test("keys and clientKeys are one namespace: 409 for a clientKey that is another app's key, and the reverse", async () => {
      const namespace = /keys and clientKeys share one namespace, as a JWT's iss may name either/;
      assertConfluenceError(
        await newApp(fresh(), { clientKey: 'com.example.notes' }),
        409,
        /clientKey "com\.example\.notes" already belongs to another app, as its key or clientKey/,
      );
      assertConfluenceError(await newApp(fresh(), { clientKey: 'com.example.notes' }), 409, namespace);
      assertConfluenceError(
        await newApp('notes-client'),
        409,
        /key "notes-client" already belongs to another app, as its clientKey/,
      );
      assertConfluenceError(await call('GET', '/apps/notes-client'), 404, /No app with key/);

      const key = fresh();
      assert.equal((await newApp(key)).statusCode, 201);
      assertConfluenceError(
        await call('PATCH', `/apps/${key}`, { clientKey: 'com.example.tasks' }),
        409,
        /clientKey "com\.example\.tasks" already belongs to another app, as its key or clientKey/,
      );
      assert.equal((await call('GET', `/apps/${key}`)).json().clientKey, `${key}-client`);
      // An app's clientKey may be its own key.
      assert.equal((await call('PATCH', `/apps/${key}`, { clientKey: key })).statusCode, 200);
    });

    test('PATCH racing DELETE: the app stays deleted; concurrent PATCHes of different fields both survive', async () => {
      for (let round = 0; round < 3; round++) {
        const key = fresh();
        assert.equal((await newApp(key)).statusCode, 201);
        const [renamed, scoped] = await Promise.all([
          call('PATCH', `/apps/${key}`, { name: `Renamed ${round}` }),
          call('PATCH', `/apps/${key}`, { scopes: ['READ', 'WRITE'] }),
        ]);
        assert.equal(renamed.statusCode, 200, renamed.body);
        assert.equal(scoped.statusCode, 200, scoped.body);
        const both = (await call('GET', `/apps/${key}`)).json();
        assert.deepEqual([both.name, both.scopes], [`Renamed ${round}`, ['READ', 'WRITE']]);

        const [patched, deleted] = await Promise.all([
          call('PATCH', `/apps/${key}`, { name: 'Back from the dead' }),
          call('DELETE', `/apps/${key}`),
        ]);
        assert.equal(deleted.statusCode, 204, deleted.body);
        assert.ok([200, 404].includes(patched.statusCode), patched.body);
        assertConfluenceError(await call('GET', `/apps/${key}`), 404, /No app with key/);
        assertConfluenceError(await call('GET', `/users/${both.accountId}`), 404, /No user/);
      }
    });

    test("DELETE /apps/{key}: removes the bot user and the app's namespace; other namespaces stay; its JWTs stop working", async () => {
      const key = fresh();
      assert.equal((await newApp(key, { scopes: ['READ', 'WRITE'] })).statusCode, 201);
      const url = `/wiki/rest/api/user/${MIA}/property/shared-key`;
      const json = { 'content-type': 'application/json' };
      const byNew = await fx.app.inject({
        method: 'POST',
        url,
        headers: { ...jwtFor(key, SECRET, 'POST', url), ...json },
        payload: '{"value":{"by":"new"}}',
      });
      assert.equal(byNew.statusCode, 201, byNew.body);
      assert.equal(
        (
          await fx.app.inject({
            method: 'POST',
            url,
            headers: { ...connectJwt(APPS.notes, 'POST', url), ...json },
            payload: '{"value":{"by":"notes"}}',
          })
        ).statusCode,
        201,
      );
      assert.equal(
        (
          await fx.app.inject({
            method: 'POST',
            url,
            headers: { ...basic('mia'), ...json },
            payload: '{"value":{"by":"mia"}}',
          })
        ).statusCode,
        201,
      );
      // A property about the bot user itself, and a Jira one, go with the bot.
      await insertProperty(
        fx.store.db,
        { siteId: DEFAULT_SITE, product: 'jira', namespace: '', accountId: botAccountId(key), key: 'bot-jira' },
        '{}',
      );

      const deleted = await call('DELETE', `/apps/${key}`);
      assert.equal(deleted.statusCode, 204);
      assert.equal(deleted.body, '');
      assertConfluenceError(await call('GET', `/apps/${key}`), 404, /No app with key/);
      assertConfluenceError(await call('GET', `/users/${botAccountId(key)}`), 404, /No user with accountId/);
      const left = await fx.store.db
        .selectFrom('properties')
        .select(['namespace', 'value'])
        .where('key', '=', 'shared-key')
        .orderBy('namespace')
        .execute();
      assert.deepEqual(left, [
        { namespace: '', value: '{"by":"mia"}' },
        { namespace: 'com.example.notes', value: '{"by":"notes"}' },
      ]);
      assert.deepEqual(
        await fx.store.db.selectFrom('properties').select('key').where('account_id', '=', botAccountId(key)).execute(),
        [],
      );

      fx.clock.pastCacheLifetime();
      assertConfluenceError(
        await fx.app.inject({ method: 'GET', url, headers: jwtFor(key, SECRET, 'GET', url) }),
        401,
        /the signature does not verify: no app is installed with this iss/,
      );
      assertConfluenceError(await call('DELETE', `/apps/${key}`), 404, /No app with key/);
      // The key, clientKey and bot accountId are free again.
      assert.equal((await newApp(key)).statusCode, 201);
    });
  });
}
