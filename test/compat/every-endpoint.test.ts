/**
 * Every Confluence and Jira endpoint, driven through the real clients on a
 * live server, with each kind of credential the clients offer, on both
 * stores: confluence.js `ConfluenceClient` with Basic, a Connect JWT and
 * OAuth bearer tokens (asUser from atlassian-oauth2, asApp from
 * client_credentials); jira.js `Version2Client` and `Version3Client` with
 * the same. Each endpoint's answer is read back through the client, so what
 * was written round-trips; the other compat files cover the edge cases.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpException } from 'jira.js';
import { type RunningServer, startServer } from '../../src/server.ts';
import { ConfluenceClient, oauth2, Version2Client, Version3Client } from '../helpers/clients.ts';
import {
  DIRECTORY_USERS,
  directorySeed,
  fixtureSeed,
  OAUTH_APPS,
  oauthSeed,
  SECRET_KEY,
  USERS,
  watchSeed,
} from '../helpers/fixture.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const { oauth } = OAUTH_APPS;
const { mia, noah } = USERS;
const { ada, grace } = DIRECTORY_USERS;

/** Who is calling: mia herself, the app acting as mia, or the app itself (for any user, as admins may). */
interface Caller {
  name: string;
  kind: 'user' | 'asUser' | 'app';
  /** The accountId `/user/current` names. */
  self: string;
  /** Whose properties and watches the calls touch. */
  subject: string;
  authentication: ConstructorParameters<typeof ConfluenceClient>[0]['authentication'];
}

/** confluence.js rejects with the response body and its status. */
function rejectsWith(status: number) {
  return (error: { statusCode?: number; status?: number }) => {
    assert.equal(error.statusCode ?? error.status, status, JSON.stringify(error));
    return true;
  };
}

for (const kind of STORE_KINDS) {
  describe(`every endpoint through the real clients on ${kind}`, () => {
    let server: RunningServer;
    const callers: Caller[] = [];

    before(async () => {
      const { site: _site, ...base } = fixtureSeed();
      const merged = [directorySeed(), oauthSeed()];
      const seed = {
        ...watchSeed(),
        groups: [...new Set([...(base.groups ?? []), ...merged.flatMap((s) => s.groups ?? [])])],
        users: [...(base.users ?? []), ...merged.flatMap((s) => s.users ?? [])],
        apps: [...(base.apps ?? []), ...merged.flatMap((s) => s.apps ?? [])],
      };
      const file = join(tmpdir(), `userplane-every-endpoint-${process.pid}-${kind}.json`);
      writeFileSync(file, JSON.stringify(seed));
      server = await startServer({
        port: 0,
        host: '127.0.0.1',
        database: databaseUrl(await freshLocation(kind)),
        seed: file,
        secretKey: SECRET_KEY,
        logLevel: 'silent',
      });

      const asUser = await oauth2.getAccessToken({
        hostBaseUrl: server.url,
        oauthClientId: oauth.oauthClientId,
        sharedSecret: oauth.sharedSecret,
        userAccountId: mia.accountId,
        authorizationServerBaseUrl: server.url,
      });
      const asApp = await fetch(`${server.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: oauth.oauthClientId,
          client_secret: oauth.clientSecret,
        }),
      }).then((response) => response.json() as Promise<{ access_token: string }>);

      callers.push(
        {
          name: 'Basic',
          kind: 'user',
          self: mia.accountId,
          subject: mia.accountId,
          authentication: { basic: { email: mia.email, apiToken: mia.token } },
        },
        {
          name: 'Connect JWT',
          kind: 'app',
          self: oauth.accountId,
          subject: noah.accountId,
          authentication: { jwt: { issuer: oauth.key, secret: oauth.sharedSecret } },
        },
        {
          name: 'OAuth asUser',
          kind: 'asUser',
          self: mia.accountId,
          subject: mia.accountId,
          authentication: { oauth2: { accessToken: asUser.access_token } },
        },
        {
          name: 'OAuth asApp',
          kind: 'app',
          self: oauth.accountId,
          subject: noah.accountId,
          authentication: { oauth2: { accessToken: asApp.access_token } },
        },
      );
    });
    after(() => server.close());

    const confluence = (caller: Caller) =>
      new ConfluenceClient({ host: server.url, noCheckAtlassianToken: true, authentication: caller.authentication });

    test('confluence.js userProperties: create, read, list, update, delete, each read back', async () => {
      for (const caller of callers) {
        const client = confluence(caller);
        const at = { userId: caller.subject, key: `round-trip-${caller.name.replace(/\W/g, '-').toLowerCase()}` };
        const created = await client.userProperties.createUserProperty({ ...at, value: { step: 1 } });
        assert.equal((created as { key: string }).key, at.key, caller.name);
        assert.deepEqual((await client.userProperties.getUserProperty(at)).value, { step: 1 }, caller.name);
        const keys = await client.userProperties.getUserProperties({ userId: at.userId });
        assert.ok(
          keys.results.some((entry) => entry.key === at.key),
          `${caller.name}: the list holds the key`,
        );
        await client.userProperties.updateUserProperty({ ...at, value: { step: 2 } });
        assert.deepEqual((await client.userProperties.getUserProperty(at)).value, { step: 2 }, caller.name);
        await client.userProperties.deleteUserProperty(at);
        await assert.rejects(client.userProperties.getUserProperty(at), rejectsWith(404));
      }
    });

    test('confluence.js users: every lookup, with what each caller may see', async () => {
      for (const caller of callers) {
        const client = confluence(caller);
        const user = await client.users.getUser({ accountId: ada.accountId });
        assert.equal(user.accountId, ada.accountId, caller.name);
        assert.equal(user.displayName, ada.displayName);
        assert.equal((await client.users.getCurrentUser()).accountId, caller.self, caller.name);
        assert.equal((await client.users.getAnonymousUser()).type, 'anonymous');
        const groups = await client.users.getGroupMembershipsForUser({ accountId: grace.accountId });
        assert.deepEqual(
          groups.results.map((g) => g.name),
          ['confluence-users'],
        );
        // The client's types return nothing; the answer is the MigratedUserArray.
        const migrated = (await client.users.getBulkUserMigration({
          key: [ada.userKey, grace.userKey],
        })) as unknown as { results: Array<{ accountId: string }> };
        assert.deepEqual(migrated.results.map((r) => r.accountId).sort(), [ada.accountId, grace.accountId]);

        if (caller.kind === 'user') {
          const bulk = (await client.users.getBulkUserLookup({
            accountId: `${ada.accountId},${grace.accountId}`,
          })) as unknown as { results: Array<{ accountId: string }> };
          assert.deepEqual(
            bulk.results.map((u) => u.accountId),
            [ada.accountId, grace.accountId],
          );
        } else {
          // Every app principal, asUser too, must look users up one at a time (docs/behaviour.md §3).
          await assert.rejects(client.users.getBulkUserLookup({ accountId: ada.accountId }), rejectsWith(403));
        }
        if (caller.kind === 'app') {
          assert.deepEqual(await client.users.getPrivacyUnsafeUserEmail({ accountId: grace.accountId }), {
            accountId: grace.accountId,
            email: grace.email,
          });
          const emails = await client.users.getPrivacyUnsafeUserEmailBulk({
            accountId: [ada.accountId, grace.accountId],
          });
          assert.deepEqual(emails, [
            { accountId: ada.accountId, email: ada.email },
            { accountId: grace.accountId, email: grace.email },
          ]);
        } else {
          // Only an approved app acting as itself may read email addresses (docs/behaviour.md §3).
          await assert.rejects(client.users.getPrivacyUnsafeUserEmail({ accountId: ada.accountId }), rejectsWith(400));
          await assert.rejects(
            client.users.getPrivacyUnsafeUserEmailBulk({ accountId: [ada.accountId] }),
            rejectsWith(400),
          );
        }
      }
    });

    test('confluence.js contentWatches: content, label and space watches, added, read and removed', async () => {
      for (const caller of callers) {
        const client = confluence(caller);
        // Everyone names mia, who may view ENG: herself, or by an app (apps count as admins).
        const who = { accountId: mia.accountId as string, 'X-Atlassian-Token': 'no-check' };
        const content = { contentId: '1001', ...who };
        await client.contentWatches.addContentWatcher(content);
        assert.deepEqual(await client.contentWatches.getContentWatchStatus(content), { watching: true }, caller.name);
        await client.contentWatches.removeContentWatcher(content);
        assert.deepEqual(await client.contentWatches.getContentWatchStatus(content), { watching: false }, caller.name);

        const label = { labelName: 'release', ...who };
        await client.contentWatches.addLabelWatcher(label);
        assert.deepEqual(await client.contentWatches.isWatchingLabel(label), { watching: true }, caller.name);
        await client.contentWatches.removeLabelWatcher(label);
        assert.deepEqual(await client.contentWatches.isWatchingLabel(label), { watching: false }, caller.name);

        const space = { spaceKey: 'ENG', ...who };
        await client.contentWatches.addSpaceWatcher(space);
        assert.deepEqual(await client.contentWatches.isWatchingSpace(space), { watching: true }, caller.name);
        await client.contentWatches.removeSpaceWatch(space);
        assert.deepEqual(await client.contentWatches.isWatchingSpace(space), { watching: false }, caller.name);
      }
    });

    test('jira.js Version2Client and Version3Client userProperties: set, read, list, replace, delete', async () => {
      for (const Client of [Version2Client, Version3Client]) {
        for (const caller of callers) {
          const client = new Client({ host: server.url, authentication: caller.authentication as never });
          const at = {
            accountId: caller.subject,
            propertyKey: `jira-${caller.name.replace(/\W/g, '-').toLowerCase()}`,
          };
          await client.userProperties.setUserProperty({ ...at, propertyValue: { step: 1 } });
          assert.deepEqual(
            await client.userProperties.getUserProperty(at),
            { key: at.propertyKey, value: { step: 1 } },
            caller.name,
          );
          const { keys } = await client.userProperties.getUserPropertyKeys({ accountId: at.accountId });
          assert.ok(
            keys?.some((entry) => entry.key === at.propertyKey),
            `${caller.name}: the key list holds the key`,
          );
          await client.userProperties.setUserProperty({ ...at, propertyValue: ['replaced'] });
          assert.deepEqual(
            await client.userProperties.getUserProperty(at),
            { key: at.propertyKey, value: ['replaced'] },
            caller.name,
          );
          await client.userProperties.deleteUserProperty(at);
          await assert.rejects(client.userProperties.getUserProperty(at), (error: unknown) => {
            assert.ok(error instanceof HttpException);
            assert.equal(error.status, 404);
            return true;
          });
        }
      }
    });
  });
}
