/**
 * Every confluence.js `users.*` method, called once against a live server on
 * a real port, on both stores: a Basic-auth client under the `/rest/api`
 * alias (`apiPrefix: '/rest'`) and a Connect JWT client of an email-approved
 * app under the default `/wiki/rest` prefix. The client builds its own URLs,
 * list parameters (comma-joined) and query-string hashes.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, startServer } from '../../src/server.ts';
import { ConfluenceClient } from '../helpers/clients.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { DIRECTORY_APPS, DIRECTORY_USERS, directorySeed, fixtureSeed, SECRET_KEY, USERS } from '../helpers/fixture.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const { ada, grace } = DIRECTORY_USERS;
const { mailer } = DIRECTORY_APPS;
const mia = USERS.mia;

for (const kind of STORE_KINDS) {
  describe(`confluence.js users.* against a live server on ${kind}`, () => {
    let server: RunningServer;
    let asMia: ConfluenceClient;
    let asMailer: ConfluenceClient;
    before(async () => {
      const { site: _site, ...base } = fixtureSeed();
      const extra = directorySeed();
      const seed = {
        groups: [...new Set([...(base.groups ?? []), ...(extra.groups ?? [])])],
        users: [...(base.users ?? []), ...(extra.users ?? [])],
        apps: [...(base.apps ?? []), ...(extra.apps ?? [])],
      };
      const file = join(tmpdir(), `userplane-confluence-users-${process.pid}-${kind}.json`);
      writeFileSync(file, JSON.stringify(seed));
      server = await startServer({
        port: 0,
        host: '127.0.0.1',
        database: databaseUrl(await freshLocation(kind)),
        seed: file,
        secretKey: SECRET_KEY,
        logLevel: 'silent',
      });
      asMia = new ConfluenceClient({
        host: server.url,
        apiPrefix: '/rest',
        authentication: { basic: { email: mia.email, apiToken: mia.token } },
      });
      asMailer = new ConfluenceClient({
        host: server.url,
        authentication: { jwt: { issuer: mailer.key, secret: mailer.sharedSecret } },
      });
    });
    after(() => server.close());

    test('users.getUser, with expand; an unknown accountId rejects with the 404 body', async () => {
      const user = await asMia.users.getUser({ accountId: ada.accountId, expand: ['operations', 'details.personal'] });
      assert.equal(user.accountId, ada.accountId);
      assert.equal(user.type, 'known');
      assert.equal(user.accountType, 'atlassian');
      assert.equal(user.email, ada.email);
      assert.equal(user.displayName, ada.displayName);
      assert.equal(user.publicName, ada.publicName);
      assert.deepEqual(user.operations, [{ operation: 'use', targetType: 'application' }]);
      // confluence.js's User model has no `details`; the API's does (deprecated in Atlassian's Users reference).
      assert.deepEqual((user as { details?: unknown }).details, { personal: {} });
      assert.deepEqual(user._expandable, { personalSpace: '' });
      // With no base URL configured, links name the listening address.
      assert.equal(
        user._links?.self,
        `${server.url}/wiki/rest/api/user?accountId=${encodeURIComponent(ada.accountId)}`,
      );

      // The profile picture the client is given resolves on the same server.
      const picture = await fetch(`${server.url}${user.profilePicture?.path}`);
      assert.equal(picture.status, 200);
      assert.equal(picture.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
      assert.match(await picture.text(), />AL<\/text>/);

      await assert.rejects(
        asMia.users.getUser({ accountId: '712020:nobody' }),
        (error: { statusCode?: number; message?: string }) => {
          assert.equal(error.statusCode, 404);
          assert.equal(error.message, 'No user with accountId 712020:nobody');
          return true;
        },
      );
    });

    test('users.getAnonymousUser', async () => {
      const anonymous = await asMia.users.getAnonymousUser({ expand: ['operations'] });
      assert.equal(anonymous.type, 'anonymous');
      assert.equal(anonymous.displayName, 'Anonymous');
      assert.equal(anonymous.profilePicture.isDefault, true);
      // This site does not allow anonymous callers: they may do nothing.
      assert.deepEqual(anonymous.operations, []);
      assert.equal((await fetch(`${server.url}${anonymous.profilePicture.path}`)).status, 200);
    });

    test("users.getCurrentUser: the Basic-auth user, and the app's bot for a Connect JWT", async () => {
      const me = await asMia.users.getCurrentUser();
      assert.equal(me.accountId, mia.accountId);
      assert.equal(me.email, mia.email);
      const bot = await asMailer.users.getCurrentUser({ expand: ['operations'] });
      assert.equal(bot.accountId, mailer.accountId);
      assert.equal(bot.accountType, 'app');
      assert.equal(bot.displayName, mailer.name);
      assert.equal(bot.email, '');
    });

    test('users.getGroupMembershipsForUser, following _links.next', async () => {
      const first = await asMia.users.getGroupMembershipsForUser({ accountId: ada.accountId, limit: 4 });
      assert.deepEqual(
        first.results.map((g) => g.name),
        ['Zeta', 'alpha', 'beta', 'confluence-users'],
      );
      assert.equal(first.size, 4);
      assert.ok(first._links?.next, 'a next link while groups remain');
      const next = await (
        await fetch(`${first._links!.base}${first._links!.next}`, { headers: basicAuth(mia.email, mia.token) })
      ).json();
      assert.deepEqual(
        next.results.map((g: { name: string }) => g.name),
        ['qa', 'Ärger'],
      );
    });

    test("users.getBulkUserLookup: the client's comma-joined ids, in order, unknown ones omitted", async () => {
      const bulk = await asMia.users.getBulkUserLookup({
        accountId: `${grace.accountId},712020:nobody,${ada.accountId}`,
        expand: ['operations'],
      });
      assert.deepEqual(
        bulk.results.map((u) => u.accountId),
        [grace.accountId, ada.accountId],
      );
      assert.deepEqual(
        bulk.results.map((u) => u.email),
        ['', ada.email],
      );
      assert.equal(bulk.size, 2);
      assert.equal(bulk.limit, 200);
    });

    test("users.getBulkUserMigration: the client's key list", async () => {
      const migrated = await asMia.users.getBulkUserMigration({ key: [grace.userKey, 'unknown', ada.userKey] });
      assert.deepEqual(migrated.results, [
        { username: 'grace', key: grace.userKey, accountId: grace.accountId },
        { username: 'ada', key: ada.userKey, accountId: ada.accountId },
      ]);
    });

    test("users.getPrivacyUnsafeUserEmail: an approved app, whatever the user's visibility", async () => {
      assert.deepEqual(await asMailer.users.getPrivacyUnsafeUserEmail({ accountId: grace.accountId }), {
        accountId: grace.accountId,
        email: grace.email,
      });
      // A user is not an approved app.
      await assert.rejects(
        asMia.users.getPrivacyUnsafeUserEmail({ accountId: grace.accountId }),
        (error: { statusCode?: number }) => {
          assert.equal(error.statusCode, 400);
          return true;
        },
      );
    });

    test('users.getPrivacyUnsafeUserEmailBulk', async () => {
      assert.deepEqual(
        await asMailer.users.getPrivacyUnsafeUserEmailBulk({
          accountId: [ada.accountId, '712020:nobody', grace.accountId],
        }),
        [
          { accountId: ada.accountId, email: ada.email },
          { accountId: grace.accountId, email: grace.email },
        ],
      );
    });
  });
}
