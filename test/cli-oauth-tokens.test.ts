/**
 * `userplane oauth-tokens list|revoke|revoke-all` (docs/behaviour.md §9), in-process
 * on an embedded SQLite file: tokens issued by the server are listed without
 * the tokens and revoked, and the server then refuses them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Administration } from '../src/domain/admin/administration.ts';
import { openRuntime } from '../src/runtime.ts';
import { ensureDefaultSite } from '../src/store/site.ts';
import { appOn, cli as run } from './helpers/cli.ts';
import { failed, ok } from './helpers/process.ts';
import { DEFAULT_SITE } from './helpers/stores.ts';

const APP = {
  key: 'com.example.cli-oauth',
  name: 'CLI OAuth',
  clientKey: 'cli-oauth-client',
  sharedSecret: 'cli-oauth-shared-secret-of-at-least-32-chars',
  oauthClientId: 'cli-oauth-id',
  clientSecret: 'cli-oauth-client-secret',
};

test('oauth-tokens: list without the tokens, revoke one, revoke all of an app; the server then refuses them', async () => {
  const database = `sqlite:${join(mkdtempSync(join(tmpdir(), 'userplane-cli-oauth-')), 'userplane.db')}`;
  const cli = (...args: string[]) => run([...args, '--database', database]);
  const runtime = await openRuntime({ database });
  const admin = new Administration(runtime.store.db, runtime.secrets, DEFAULT_SITE);
  await ensureDefaultSite(runtime.store.db);
  await admin.site.ensure();
  await admin.apps.create(APP);
  await runtime.store.close();

  // The server issues three asApp tokens, and they work.
  const tokens: string[] = [];
  let server = await appOn(database);
  const whoAmI = (token: string) =>
    server.app.inject({
      method: 'GET',
      url: '/wiki/rest/api/user/current',
      headers: { authorization: `Bearer ${token}` },
    });
  for (let i = 0; i < 3; i++) {
    const issued = await server.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: APP.oauthClientId,
        client_secret: APP.clientSecret,
      }).toString(),
    });
    assert.equal(issued.statusCode, 200, issued.body);
    tokens.push(issued.json().access_token);
  }
  for (const token of tokens) assert.equal((await whoAmI(token)).statusCode, 200);
  await server.close();

  const list = ok(await cli('oauth-tokens', 'list', '--app', APP.key, '--json'));
  assert.equal(list.size, 3);
  assert.deepEqual(
    list.results.map((t: { appKey: string; accountId: null; scopes: string[] }) => [t.appKey, t.accountId, t.scopes]),
    Array(3).fill([APP.key, null, ['READ']]),
  );
  const text = await cli('oauth-tokens', 'list', '--app', APP.key);
  assert.match(ok(text), /^ID\s+AS\s+SCOPES\s+CREATED\s+EXPIRES$/m);
  assert.match(text.stdout, new RegExp(`^${list.results[0].id}\\s+asApp\\s+READ\\s+`, 'm'));
  for (const token of tokens) assert.ok(!text.stdout.includes(token) && !JSON.stringify(list).includes(token));

  const [first, ...rest] = list.results as Array<{ id: string }>;
  assert.equal(ok(await cli('oauth-tokens', 'revoke', first!.id)), `revoked bearer token ${first!.id}\n`);
  failed(await cli('oauth-tokens', 'revoke', first!.id), 1, /No bearer token with id/);
  assert.deepEqual(
    ok(await cli('oauth-tokens', 'list', '--app', APP.key, '--json')).results.map((t: { id: string }) => t.id),
    rest.map((t) => t.id),
  );
  assert.equal(
    ok(await cli('oauth-tokens', 'revoke-all', '--app', APP.key)),
    `revoked 2 bearer tokens of app ${APP.key}\n`,
  );
  assert.deepEqual(ok(await cli('oauth-tokens', 'revoke-all', '--app', APP.key, '--json')), {
    app: APP.key,
    revoked: 0,
  });

  server = await appOn(database);
  try {
    for (const token of tokens) assert.equal((await whoAmI(token)).statusCode, 401);
  } finally {
    await server.close();
  }

  // Usage errors exit 2; an unknown app exits 1.
  failed(await cli('oauth-tokens', 'list'), 2, /--app is required/);
  failed(await cli('oauth-tokens', 'revoke-all'), 2, /--app is required/);
  failed(await cli('oauth-tokens', 'revoke'), 2, /missing ID/);
  failed(await cli('oauth-tokens', 'revoke', 'not-a-uuid'), 2, /is not a bearer token id/);
  failed(await cli('oauth-tokens', 'list', '--app', 'com.example.nobody'), 1, /No app with key com\.example\.nobody/);
  assert.match(ok(await cli('oauth-tokens', '--help')), /revoke-all\s+Revoke every bearer token of an app/);
});
