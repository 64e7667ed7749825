/**
 * Every Confluence and Jira endpoint of the compatibility table that a Forge
 * app can call, through the real `@forge/api` (never mocked) with
 * `forgeRuntime` (src/forge.ts) installed, on a live server on each store
 * (test/helpers/forge.ts). The calls go through `forgeTraced`
 * (test/helpers/client-methods.ts), so the table of docs/compatibility.md
 * names them: `@forge/api asApp requestConfluence`, `@forge/api asUser
 * requestJira`, `@forge/api requestConfluence` (anonymous).
 *
 * Each endpoint is called asApp and asUser (the invoking user, mia), with
 * what each may do asserted on status and body (docs/behaviour.md §3, §13):
 * a refusal is an answer too. What is written is read back.
 *
 * The site is `startForgeSite`'s, and this file's own Forge app, `compat`,
 * with every scope these routes name and email approval, is imported into
 * it with the watch targets (spaces, content, labels) and two users with
 * legacy keys, through the administration API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import forgeApi, { type APIResponse, route } from '@forge/api';
import { type ForgeRuntime, forgeRuntime } from '../../src/forge.ts';
import { forgeTraced } from '../helpers/client-methods.ts';
import { basic, DIRECTORY_USERS, USERS, watchSeed } from '../helpers/fixture.ts';
import { type ForgeSite, startForgeSite } from '../helpers/forge.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const api = forgeTraced(forgeApi, '@forge/api');

const MIA = USERS.mia.accountId;
const NOAH = USERS.noah.accountId;
const { ada, grace } = DIRECTORY_USERS;

/** A Forge app holding every scope the Confluence and Jira routes name, approved for the email API. */
const COMPAT_APP = {
  key: 'ari:cloud:ecosystem::app/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  kind: 'forge',
  name: 'Forge Compat',
  accountId: '557058:forge-compat-bot',
  sharedSecret: 'forge-compat-shared-secret-of-32-chars-or-more',
  oauthClientId: 'forge-compat-client-id',
  clientSecret: 'forge-compat-client-secret',
  scopes: [
    'read:confluence-user',
    'read:email-address:confluence',
    'read:confluence-content.summary',
    'write:confluence-content',
    'read:user.property:confluence',
    'write:user.property:confluence',
    'read:jira-user',
    'write:jira-work',
  ],
  emailAccess: true,
};

const JSON_BODY = { 'content-type': 'application/json' };
const NO_CHECK = { 'x-atlassian-token': 'no-check' };

/** asApp (the app itself, for another user: noah) and asUser (the invoking user, mia, for herself). */
const CALLERS = [
  { name: 'asApp', self: COMPAT_APP.accountId, subject: NOAH, requester: () => api.asApp() },
  { name: 'asUser', self: MIA, subject: MIA, requester: () => api.asUser() },
] as const;

/** The answer's body, parsed (undefined when empty), once its status is asserted. */
async function json(response: APIResponse, status: number, what: string): Promise<unknown> {
  const text = await response.text();
  assert.equal(response.status, status, `${what}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** A refusal in the Confluence envelope: its status, and the same in the body's `statusCode`. */
async function refused(response: APIResponse, status: number, what: string): Promise<string> {
  const body = (await json(response, status, what)) as { statusCode: number; message: string };
  assert.equal(body.statusCode, status, what);
  assert.equal(typeof body.message, 'string', what);
  return body.message;
}

/** A refusal in Jira's envelope. */
async function jiraRefused(response: APIResponse, status: number, what: string): Promise<void> {
  const body = (await json(response, status, what)) as { errorMessages: unknown };
  assert.ok(Array.isArray(body.errorMessages), what);
}

for (const kind of STORE_KINDS) {
  describe(`every Forge-callable endpoint through @forge/api on ${kind}`, () => {
    let up: ForgeSite;
    let forge: ForgeRuntime;

    before(async () => {
      up = await startForgeSite(kind);
      const imported = await fetch(`${up.baseUrl}/admin/api/import`, {
        method: 'POST',
        headers: { ...basic('admin'), ...JSON_BODY },
        body: JSON.stringify({
          ...watchSeed(),
          users: [ada, grace].map(({ token, groups: _groups, ...user }) => ({
            ...user,
            groups: ['confluence-users'],
            apiTokens: [token],
          })),
          apps: [COMPAT_APP],
        }),
      });
      assert.equal(imported.status, 200, await imported.clone().text());
      forge = await forgeRuntime({
        baseUrl: up.baseUrl,
        appId: COMPAT_APP.key,
        clientId: COMPAT_APP.oauthClientId,
        clientSecret: COMPAT_APP.clientSecret,
        sharedSecret: COMPAT_APP.sharedSecret,
        accountId: MIA,
      });
      // The runtime's first call for a principal asks the token endpoint; made here, untraced, so that
      // the table names @forge/api's calls on the product routes only, not on POST /oauth2/token.
      for (const requester of [forgeApi.asApp(), forgeApi.asUser()]) {
        const response = await requester.requestConfluence(route`/wiki/rest/api/user/current`);
        assert.equal(response.status, 200);
      }
    });
    after(async () => {
      forge?.uninstall();
      await up?.close();
    });

    test('the directory: user, current, anonymous, memberof, bulk/migration; bulk closed to apps', async () => {
      for (const caller of CALLERS) {
        const confluence = caller.requester();
        const user = (await json(
          await confluence.requestConfluence(route`/wiki/rest/api/user?accountId=${ada.accountId}`),
          200,
          `${caller.name} user`,
        )) as { accountId: string; displayName: string; accountType: string };
        assert.equal(user.accountId, ada.accountId);
        assert.equal(user.displayName, ada.displayName);
        assert.equal(user.accountType, 'atlassian');

        const current = (await json(
          await confluence.requestConfluence(route`/wiki/rest/api/user/current`),
          200,
          `${caller.name} current`,
        )) as { accountId: string; accountType: string };
        assert.equal(current.accountId, caller.self, caller.name);
        assert.equal(current.accountType, caller.name === 'asApp' ? 'app' : 'atlassian');

        const anonymous = (await json(
          await confluence.requestConfluence(route`/wiki/rest/api/user/anonymous`),
          200,
          `${caller.name} anonymous`,
        )) as { type: string };
        assert.equal(anonymous.type, 'anonymous');

        const groups = (await json(
          await confluence.requestConfluence(route`/wiki/rest/api/user/memberof?accountId=${grace.accountId}`),
          200,
          `${caller.name} memberof`,
        )) as { results: Array<{ name: string }> };
        assert.deepEqual(
          groups.results.map((g) => g.name),
          ['confluence-users'],
        );

        const migrated = (await json(
          await confluence.requestConfluence(
            route`/wiki/rest/api/user/bulk/migration?key=${grace.userKey}&key=${ada.userKey}`,
          ),
          200,
          `${caller.name} bulk/migration`,
        )) as { results: Array<{ accountId: string; key: string; username: string }> };
        assert.deepEqual(migrated.results, [
          { username: grace.username, key: grace.userKey, accountId: grace.accountId },
          { username: ada.username, key: ada.userKey, accountId: ada.accountId },
        ]);

        // Every app principal, asApp and asUser, must look users up one at a time (docs/behaviour.md §3).
        const bulk = await confluence.requestConfluence(route`/wiki/rest/api/user/bulk?accountId=${ada.accountId}`);
        await refused(bulk, 403, `${caller.name} bulk`);
      }
    });

    test('the email API: asApp of an approved app reads addresses; asUser is refused with 400', async () => {
      const one = await api.asApp().requestConfluence(route`/wiki/rest/api/user/email?accountId=${grace.accountId}`);
      assert.deepEqual(await json(one, 200, 'asApp email'), { accountId: grace.accountId, email: grace.email });
      const many = await api
        .asApp()
        .requestConfluence(
          route`/wiki/rest/api/user/email/bulk?accountId=${ada.accountId}&accountId=${grace.accountId}`,
        );
      assert.deepEqual(await json(many, 200, 'asApp email/bulk'), [
        { accountId: ada.accountId, email: ada.email },
        { accountId: grace.accountId, email: grace.email },
      ]);

      // Only an approved app acting as itself may read addresses (docs/behaviour.md §3).
      const asUserOne = await api
        .asUser()
        .requestConfluence(route`/wiki/rest/api/user/email?accountId=${ada.accountId}`);
      await refused(asUserOne, 400, 'asUser email');
      const asUserMany = await api
        .asUser()
        .requestConfluence(route`/wiki/rest/api/user/email/bulk?accountId=${ada.accountId}`);
      await refused(asUserMany, 400, 'asUser email/bulk');
    });

    test('bare requestConfluence and requestJira are anonymous: 401 on a site without anonymous access', async () => {
      for (const path of [
        route`/wiki/rest/api/user/current`,
        route`/wiki/rest/api/user/anonymous`,
        route`/wiki/rest/api/user?accountId=${MIA}`,
      ]) {
        await refused(await api.requestConfluence(path), 401, path.value);
      }
      const jira = await api.requestJira(route`/rest/api/3/user/properties?accountId=${MIA}`);
      await jiraRefused(jira, 401, 'anonymous Jira');
    });

    test('watches: content, label and space, added, read back and removed; naming another user needs admin', async () => {
      const targets = [
        { what: 'content', path: (q: string) => route`/wiki/rest/api/user/watch/content/${'1001'}?accountId=${q}` },
        { what: 'label', path: (q: string) => route`/wiki/rest/api/user/watch/label/${'release'}?accountId=${q}` },
        { what: 'space', path: (q: string) => route`/wiki/rest/api/user/watch/space/${'ENG'}?accountId=${q}` },
      ];
      for (const caller of CALLERS) {
        const confluence = caller.requester();
        for (const { what, path } of targets) {
          const at = `${caller.name} ${what}`;
          // Both name mia: herself (asUser), or by the app, which counts as an admin here.
          const watching = async () =>
            (await json(await confluence.requestConfluence(path(MIA)), 200, `${at} GET`)) as { watching: boolean };
          assert.deepEqual(await watching(), { watching: false }, at);
          const added = await confluence.requestConfluence(path(MIA), { method: 'POST', headers: NO_CHECK });
          assert.equal(await json(added, 204, `${at} POST`), undefined);
          assert.deepEqual(await watching(), { watching: true }, at);
          const removed = await confluence.requestConfluence(path(MIA), { method: 'DELETE', headers: NO_CHECK });
          assert.equal(await json(removed, 204, `${at} DELETE`), undefined);
          assert.deepEqual(await watching(), { watching: false }, at);
        }
      }
      // mia is no admin: acting for her, the app may not name noah; without the XSRF header, a write is refused.
      for (const { what, path } of targets) {
        const other = await api.asUser().requestConfluence(path(NOAH), { method: 'POST', headers: NO_CHECK });
        await refused(other, 403, `asUser ${what} for noah`);
        const noHeader = await api.asApp().requestConfluence(path(MIA), { method: 'POST' });
        await refused(noHeader, 403, `asApp ${what} without X-Atlassian-Token`);
      }
      const unseen = await api
        .asApp()
        .requestConfluence(route`/wiki/rest/api/user/watch/content/${'2001'}?accountId=${MIA}`);
      await refused(unseen, 403, 'content mia cannot view');
    });

    test("Confluence user properties by accountId: create, read, list, replace, delete, each read back; asUser only the user's own", async () => {
      for (const caller of CALLERS) {
        const confluence = caller.requester();
        const key = `forge-${caller.name.toLowerCase()}`;
        const at = route`/wiki/rest/api/user/${caller.subject}/property/${key}`;
        const write = (method: 'POST' | 'PUT', value: unknown) =>
          confluence.requestConfluence(at, { method, headers: JSON_BODY, body: JSON.stringify({ value }) });
        const read = async () =>
          ((await json(await confluence.requestConfluence(at), 200, `${caller.name} GET`)) as { value: unknown }).value;

        const created = (await json(await write('POST', { step: 1 }), 201, `${caller.name} POST`)) as {
          key: string;
          value: unknown;
        };
        assert.equal(created.key, key);
        assert.deepEqual(created.value, { step: 1 });
        assert.deepEqual(await read(), { step: 1 });
        await refused(await write('POST', { step: 1 }), 409, `${caller.name}: a second create`);

        const list = (await json(
          await confluence.requestConfluence(route`/wiki/rest/api/user/${caller.subject}/property`),
          200,
          `${caller.name} list`,
        )) as { results: Array<{ key: string }> };
        assert.deepEqual(
          list.results.map((entry) => entry.key),
          [key],
        );

        assert.equal(await json(await write('PUT', { step: 2 }), 204, `${caller.name} PUT`), undefined);
        assert.deepEqual(await read(), { step: 2 });

        const removed = await confluence.requestConfluence(at, { method: 'DELETE' });
        assert.equal(await json(removed, 204, `${caller.name} DELETE`), undefined);
        await refused(await confluence.requestConfluence(at), 404, `${caller.name}: deleted`);
      }

      // asUser never reaches another user's properties (docs/behaviour.md §3).
      const theirs = route`/wiki/rest/api/user/${NOAH}/property/forge-asuser`;
      for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
        const init =
          method === 'GET' || method === 'DELETE' ? { method } : { method, headers: JSON_BODY, body: '{"value":{}}' };
        await refused(await api.asUser().requestConfluence(theirs, init), 403, `asUser ${method} noah's`);
      }
      const list = await api.asUser().requestConfluence(route`/wiki/rest/api/user/${NOAH}/property`);
      await refused(list, 403, "asUser lists noah's");
    });

    for (const version of ['2', '3'] as const) {
      test(`Jira user properties v${version}: set, read, list, replace, delete, each read back; asUser only the user's own`, async () => {
        for (const caller of CALLERS) {
          const jira = caller.requester();
          const key = `forge-v${version}-${caller.name.toLowerCase()}`;
          const at = route`/rest/api/${version}/user/properties/${key}?accountId=${caller.subject}`;
          const put = (value: unknown) =>
            jira.requestJira(at, { method: 'PUT', headers: JSON_BODY, body: JSON.stringify(value) });
          const read = async () => json(await jira.requestJira(at), 200, `${caller.name} v${version} GET`);

          assert.equal(await json(await put({ step: 1 }), 201, `${caller.name} v${version} PUT new`), undefined);
          assert.deepEqual(await read(), { key, value: { step: 1 } });

          const keys = (await json(
            await jira.requestJira(route`/rest/api/${version}/user/properties?accountId=${caller.subject}`),
            200,
            `${caller.name} v${version} keys`,
          )) as { keys: Array<{ key: string; self: string }> };
          const entry = keys.keys.find((k) => k.key === key);
          assert.ok(entry, `${caller.name} v${version}: the key list holds ${key}`);
          assert.match(entry.self, new RegExp(`/rest/api/${version}/user/properties/${key}\\?accountId=`));

          assert.equal(await json(await put(['replaced']), 200, `${caller.name} v${version} PUT again`), undefined);
          assert.deepEqual(await read(), { key, value: ['replaced'] });

          const removed = await jira.requestJira(at, { method: 'DELETE' });
          assert.equal(await json(removed, 204, `${caller.name} v${version} DELETE`), undefined);
          await jiraRefused(await jira.requestJira(at), 404, `${caller.name} v${version}: deleted`);
        }

        const theirs = route`/rest/api/${version}/user/properties/x?accountId=${NOAH}`;
        for (const method of ['GET', 'PUT', 'DELETE'] as const) {
          const init = method === 'PUT' ? { method, headers: JSON_BODY, body: '{}' } : { method };
          await jiraRefused(await api.asUser().requestJira(theirs, init), 403, `asUser v${version} ${method} noah's`);
        }
        const keys = await api.asUser().requestJira(route`/rest/api/${version}/user/properties?accountId=${NOAH}`);
        await jiraRefused(keys, 403, `asUser v${version} lists noah's`);
      });
    }
  });
}
