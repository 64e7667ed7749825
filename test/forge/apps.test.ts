/**
 * Forge apps on a site (docs/behaviour.md §13), on both stores: `kind:
 * forge` through the administration API, the seed and the CLI; a Forge
 * app's key is its app id (an ARI, percent-encoded in admin paths); its
 * scopes are OAuth scope strings; it acts for a user with no ACT_AS_USER;
 * it never calls with a Connect JWT. The calls through `@forge/api` are
 * test/forge/forge-api.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { botAccountId } from '../../src/domain/apps.ts';
import { checkSeed, loadSeed } from '../../src/domain/seed.ts';
import { openStore } from '../../src/store/database.ts';
import { adminCaller } from '../helpers/admin.ts';
import { cli } from '../helpers/cli.ts';
import { connectJwt } from '../helpers/credentials.ts';
import { bearerToken, type Fixture, startFixture, USERS } from '../helpers/fixture.ts';
import { databaseAsOf } from '../helpers/old-database.ts';
import { failed, ok } from '../helpers/process.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const SECRET = 'a-forge-app-shared-secret-of-32-chars-or-more';
const forgeId = (n: number) => `ari:cloud:ecosystem::app/8a1f3c52-0b7e-4d2a-9c61-${String(n).padStart(12, '0')}`;
const encoded = (key: string) => encodeURIComponent(key);

for (const kind of STORE_KINDS) {
  describe(`Forge apps on a site, on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());
    const call = adminCaller(() => fx);
    let counter = 0;
    const fresh = () => forgeId(++counter);

    test('POST /apps with kind forge: keyed by its app id, clientKey its key, a bot user, OAuth scopes', async () => {
      const key = fresh();
      const created = await call('POST', '/apps', {
        key,
        kind: 'forge',
        name: 'Forge Notes',
        sharedSecret: SECRET,
        oauthClientId: `forge-client-${counter}`,
        clientSecret: 'forge-client-secret',
        scopes: ['read:confluence-user', 'write:confluence-props'],
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.headers.location, `/admin/api/apps/${encoded(key)}`);
      assert.deepEqual(created.json(), {
        key,
        name: 'Forge Notes',
        clientKey: key,
        oauthClientId: `forge-client-${counter}`,
        hasClientSecret: true,
        scopes: ['read:confluence-user', 'write:confluence-props'],
        emailAccess: false,
        accountId: botAccountId(key),
        kind: 'forge',
      });

      const shown = await call('GET', `/apps/${encoded(key)}`);
      assert.equal(shown.statusCode, 200, shown.body);
      assert.equal(shown.json().kind, 'forge');
      const bot = await call('GET', `/users/${botAccountId(key)}`);
      assert.equal(bot.statusCode, 200, bot.body);
      assert.equal(bot.json().accountType, 'app');
      assert.equal(bot.json().displayName, 'Forge Notes');

      const patched = await call('PATCH', `/apps/${encoded(key)}`, { scopes: ['read:jira-user'] });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual(patched.json().scopes, ['read:jira-user']);
      assert.equal(patched.json().kind, 'forge');

      const deleted = await call('DELETE', `/apps/${encoded(key)}`);
      assert.equal(deleted.statusCode, 204);
      assert.equal((await call('GET', `/users/${botAccountId(key)}`)).statusCode, 404);
    });

    test('a Connect app stays the default kind, and still needs its clientKey', async () => {
      const created = await call('POST', '/apps', {
        key: `com.example.kind${++counter}`,
        name: 'Connect',
        clientKey: `kind-client-${counter}`,
        sharedSecret: SECRET,
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().kind, 'connect');
      const noClientKey = await call('POST', '/apps', {
        key: `com.example.kind${++counter}`,
        name: 'Connect',
        sharedSecret: SECRET,
      });
      assert.equal(noClientKey.statusCode, 400);
      assert.match(noClientKey.json().message, /clientKey is missing/);
    });

    test('only the ARI form for a Forge app, and never for a Connect app; no Connect scopes for a Forge app', async () => {
      const forge = { kind: 'forge', name: 'Forge', sharedSecret: SECRET };
      const plain = await call('POST', '/apps', { ...forge, key: 'com.example.forge' });
      assert.equal(plain.statusCode, 400);
      assert.match(plain.json().message, /is not a Forge app id: use the manifest's app\.id/);
      const upper = await call('POST', '/apps', { ...forge, key: forgeId(999).toUpperCase() });
      assert.equal(upper.statusCode, 400);
      const connectAri = await call('POST', '/apps', {
        key: fresh(),
        name: 'Connect',
        clientKey: 'ari-client',
        sharedSecret: SECRET,
      });
      assert.equal(connectAri.statusCode, 400);
      assert.match(connectAri.json().message, /is not a valid app key/);

      const connectScope = await call('POST', '/apps', { ...forge, key: fresh(), scopes: ['read:jira-user', 'READ'] });
      assert.equal(connectScope.statusCode, 400);
      assert.match(
        connectScope.json().message,
        /^scopes\[1\]: "READ" is a Connect scope; a Forge app holds the OAuth scopes/,
      );

      const key = fresh();
      assert.equal((await call('POST', '/apps', { ...forge, key })).statusCode, 201);
      assert.deepEqual((await call('GET', `/apps/${encoded(key)}`)).json().scopes, []);
      const patch = await call('PATCH', `/apps/${encoded(key)}`, { scopes: ['act_as_user'] });
      assert.equal(patch.statusCode, 400);
      assert.match(patch.json().message, /"act_as_user" is a Connect scope/);
    });

    test('the seed: apps[].kind forge, checked like the admin API', async () => {
      const key = fresh();
      await loadSeed(
        fx.store.db,
        fx.secrets,
        checkSeed({
          apps: [{ key, kind: 'forge', name: 'Seeded Forge', sharedSecret: SECRET, scopes: ['read:jira-user'] }],
        }),
      );
      const app = (await call('GET', `/apps/${encoded(key)}`)).json();
      assert.equal(app.kind, 'forge');
      assert.equal(app.clientKey, key);
      assert.equal(app.accountId, botAccountId(key));

      await assert.rejects(
        loadSeed(
          fx.store.db,
          fx.secrets,
          checkSeed({
            apps: [
              { key: 'com.example.not-an-ari', kind: 'forge', name: 'Bad', sharedSecret: SECRET },
              { key: fresh(), kind: 'forge', name: 'Bad scopes', sharedSecret: SECRET, scopes: ['WRITE'] },
              { key: 'com.example.no-client-key', name: 'No clientKey', sharedSecret: SECRET },
              { key: fresh(), name: 'Connect with an app id', clientKey: 'ari-connect', sharedSecret: SECRET },
            ],
          }),
        ),
        (error: Error) => {
          assert.match(error.message, /apps\[0\]\.key "com\.example\.not-an-ari" is not a Forge app id/);
          assert.match(error.message, /apps\[1\]\.scopes\[0\]: "WRITE" is a Connect scope/);
          assert.match(error.message, /apps\[2\]\.clientKey: a Connect app needs its clientKey/);
          assert.match(
            error.message,
            /apps\[3\]\.key "ari:cloud:ecosystem::app\/[0-9a-f-]+" is an app id: give it kind forge/,
          );
          return true;
        },
      );
    });

    test('asUser with no ACT_AS_USER for a Forge app (a Connect app still needs it); no Connect JWT from a Forge app', async () => {
      const key = fresh();
      const app = {
        oauthClientId: `forge-client-${counter}`,
        clientSecret: 'forge-client-secret',
        sharedSecret: SECRET,
      };
      assert.equal(
        (
          await call('POST', '/apps', {
            key,
            kind: 'forge',
            name: 'Forge asUser',
            sharedSecret: SECRET,
            oauthClientId: app.oauthClientId,
            clientSecret: app.clientSecret,
            scopes: ['read:confluence-user'],
          })
        ).statusCode,
        201,
      );
      // Throws unless the token endpoint answers 200.
      const token = await bearerToken(fx, app, { asUser: USERS.mia.accountId });
      const current = await fx.app.inject({
        method: 'GET',
        url: '/wiki/rest/api/user/current',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(current.statusCode, 200, current.body);
      assert.equal(current.json().accountId, USERS.mia.accountId);

      const url = `/wiki/rest/api/user?accountId=${USERS.mia.accountId}`;
      const jwt = await fx.app.inject({
        method: 'GET',
        url,
        headers: connectJwt({ key, sharedSecret: SECRET }, 'GET', url),
      });
      assert.equal(jwt.statusCode, 401);
      assert.match(jwt.json().message, /is a Forge app, which calls through the Forge runtime/);
    });
  });
}

describe('userplane apps add --kind forge', () => {
  test('installs a Forge app keyed by its app id, with no --client-key', async () => {
    const database = `sqlite:${join(mkdtempSync(join(tmpdir(), 'userplane-forge-cli-')), 'userplane.db')}`;
    const key = forgeId(1);
    const app = ok(
      await cli([
        'apps',
        'add',
        '--key',
        key,
        '--kind',
        'forge',
        '--name',
        'CLI Forge',
        '--shared-secret',
        SECRET,
        '--scopes',
        'read:confluence-user,read:jira-user',
        '--json',
        '--database',
        database,
      ]),
    );
    assert.equal(app.kind, 'forge');
    assert.equal(app.clientKey, key);
    assert.deepEqual(app.scopes, ['read:confluence-user', 'read:jira-user']);
    const shown = ok(await cli(['apps', 'show', key, '--json', '--database', database]));
    assert.equal(shown.kind, 'forge');
    const bad = await cli([
      'apps',
      'add',
      '--key',
      key,
      '--kind',
      'lambda',
      '--name',
      'X',
      '--shared-secret',
      SECRET,
      '--database',
      database,
    ]);
    failed(bad, 2, /--kind/);
  });
});

for (const kind of STORE_KINDS) {
  test(`the app-kind migration on ${kind}: apps from before it are Connect apps`, async () => {
    const location = await databaseAsOf(kind, '2026-12-01-0003-site-seeds', async (db) => {
      const now = '2026-11-30T12:00:00.000Z';
      const { id } = await db
        .insertInto('sites')
        .values({ name: 'default', cloud_id: '8a3c7f0e-1b2d-4c5e-9f60-718293a4b5c6', settings: '{}', created_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('users')
        .values({
          site_id: id,
          account_id: '557058:old-bot',
          account_type: 'app',
          email: '',
          email_lower: '',
          display_name: 'Old',
          public_name: 'Old',
          time_zone: 'UTC',
          email_visibility: 'private',
          external_collaborator: 0,
          active: 1,
          created_at: now,
        })
        .execute();
      await db
        .insertInto('apps')
        .values({
          site_id: id,
          key: 'com.example.old',
          name: 'Old',
          client_key: 'old-client',
          shared_secret: 'sealed',
          scopes: '["READ"]',
          email_access: 0,
          account_id: '557058:old-bot',
          created_at: now,
        })
        .execute();
    });
    const store = await openStore(location);
    try {
      const row = await store.db.selectFrom('apps').select(['key', 'kind']).executeTakeFirstOrThrow();
      assert.deepEqual(row, { key: 'com.example.old', kind: 'connect' });
    } finally {
      await store.close();
    }
  });
}
