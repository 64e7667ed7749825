/**
 * Contract tests for the Confluence user directory (docs/behaviour.md §1 `/user…`, §3,
 * §4) and the avatar images, on both stores: every status code, exact
 * bodies, email visibility, expand, anonymous access and the email API's
 * gates in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadSeed } from '../../../src/domain/seed.ts';
import { initialsOf } from '../../../src/http/avatars.ts';
import { CONFLUENCE_API, CONFLUENCE_API_ALIAS } from '../../../src/http/paths.ts';
import { basicAuth, connectJwt } from '../../helpers/credentials.ts';
import {
  APPS,
  basic,
  DIRECTORY_APPS,
  DIRECTORY_USERS,
  type Fixture,
  loadDirectoryFixture,
  startFixture,
  USERS,
} from '../../helpers/fixture.ts';
import { assertConfluenceError, assertNoStackTrace } from '../../helpers/security.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

const BASE = 'http://userplane.test/wiki';
const API = CONFLUENCE_API;
const WARNING = '299 - "Deprecated API"';
const { ada, grace } = DIRECTORY_USERS;
const { mailer, unapproved, emailOnly } = DIRECTORY_APPS;
const MIA = USERS.mia.accountId;
const NOBODY = '712020:nobody';

type Headers = Record<string, string>;

/** The exact User body docs/behaviour.md §4 describes, before any expansion. */
function expectedUser(
  user: {
    accountId: string;
    displayName: string;
    publicName?: string;
    timeZone?: string;
    externalCollaborator?: boolean;
  },
  email: string,
  accountType: 'atlassian' | 'app' = 'atlassian',
) {
  const external = user.externalCollaborator ?? false;
  return {
    type: 'known',
    accountId: user.accountId,
    accountType,
    email,
    publicName: user.publicName ?? user.displayName,
    profilePicture: { path: `/wiki/aa-avatar/${user.accountId}`, width: 48, height: 48, isDefault: false },
    displayName: user.displayName,
    timeZone: user.timeZone ?? 'UTC',
    isExternalCollaborator: external,
    externalCollaborator: external,
    _expandable: { operations: '', details: '', personalSpace: '' },
    _links: {
      base: BASE,
      context: '/wiki',
      self: `${BASE}/rest/api/user?accountId=${encodeURIComponent(user.accountId)}`,
    },
  };
}

const ANONYMOUS_BODY = {
  type: 'anonymous',
  displayName: 'Anonymous',
  profilePicture: {
    path: '/wiki/s/userplane/_/images/icons/profilepics/anonymous.svg',
    width: 48,
    height: 48,
    isDefault: true,
  },
  _links: { base: BASE, context: '/wiki', self: `${BASE}/rest/api/user/anonymous` },
};

const fixtureUser = (name: keyof typeof USERS) => ({ accountId: USERS[name].accountId, displayName: name });

for (const kind of STORE_KINDS) {
  describe(`Confluence user directory on ${kind}`, () => {
    /** The default site: anonymous access off, email API enabled. */
    let fx: Fixture;
    /** anonymousAccess: true. */
    let open: Fixture;
    /** emailApi: disabled. */
    let noEmail: Fixture;
    before(async () => {
      [fx, open, noEmail] = await Promise.all([
        startFixture(kind),
        startFixture(kind, { anonymousAccess: true }),
        startFixture(kind, { emailApi: 'disabled' }),
      ]);
      await Promise.all([fx, open, noEmail].map(loadDirectoryFixture));
    });
    after(() => Promise.all([fx, open, noEmail].map((f) => f.close())));

    const get = (url: string, headers: Headers = basic('mia'), on: Fixture = fx) =>
      on.app.inject({ method: 'GET', url, headers });
    /** A Connect JWT for exactly this request. */
    const asApp = (app: { key: string; sharedSecret: string }, url: string) => connectJwt(app, 'GET', url);
    async function ok(url: string, headers: Headers = basic('mia'), on: Fixture = fx) {
      const response = await get(url, headers, on);
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      return response.json();
    }

    describe('GET /user', () => {
      test('200: the exact User shape', async () => {
        const body = await ok(`${API}/user?accountId=${ada.accountId}`);
        assert.deepEqual(body, expectedUser(ada, ada.email));
        assert.deepEqual(await ok(`${API}/user?accountId=${grace.accountId}`, basic('noah')), expectedUser(grace, ''));
      });

      test('the /rest/api alias and URL-encoded accountIds', async () => {
        assert.deepEqual(
          await ok(`/rest/api/user?accountId=${encodeURIComponent(ada.accountId)}`),
          expectedUser(ada, ada.email),
        );
      });

      test('deactivated users and app bots are still returned', async () => {
        assert.deepEqual(
          await ok(`${API}/user?accountId=${USERS.gone.accountId}`, basic('noah')),
          expectedUser(fixtureUser('gone'), ''),
        );
        assert.deepEqual(
          await ok(`${API}/user?accountId=${APPS.notes.accountId}`),
          expectedUser({ accountId: APPS.notes.accountId, displayName: 'Notes' }, '', 'app'),
        );
      });

      test('email visibility: own record, anyone, admins (Basic-auth admins only), private', async () => {
        const emailOf = async (target: string, headers: Headers, on: Fixture = fx) => {
          const url = `${API}/user?accountId=${target}`;
          return (await ok(url, headers.authorization === 'app' ? connectJwt(APPS.notes, 'GET', url) : headers, on))
            .email;
        };
        const app = { authorization: 'app' };
        // ada: anyone. Everybody but anonymous callers sees it.
        for (const caller of [basic('mia'), basic('admin'), basicAuth(ada.email, ada.token), app])
          assert.equal(await emailOf(ada.accountId, caller), ada.email);
        assert.equal(await emailOf(ada.accountId, {}, open), '');
        // mia: admins (the default). Herself and Basic-auth admins.
        assert.equal(await emailOf(MIA, basic('mia')), USERS.mia.email);
        assert.equal(await emailOf(MIA, basic('admin')), USERS.mia.email);
        assert.equal(await emailOf(MIA, basic('noah')), '');
        assert.equal(await emailOf(MIA, app), '');
        assert.equal(await emailOf(MIA, {}, open), '');
        // grace: private. Only herself, not even an admin.
        assert.equal(await emailOf(grace.accountId, basicAuth(grace.email, grace.token)), grace.email);
        for (const caller of [basic('admin'), basic('noah'), app])
          assert.equal(await emailOf(grace.accountId, caller), '');
        assert.equal(await emailOf(grace.accountId, {}, open), '');
      });

      test('expand: operations for users, admins, outsiders, deactivated users and bots', async () => {
        const operationsOf = async (accountId: string) => {
          const body = await ok(`${API}/user?accountId=${accountId}&expand=operations`);
          assert.deepEqual(body._expandable, { details: '', personalSpace: '' });
          return body.operations;
        };
        const use = { operation: 'use', targetType: 'application' };
        const administer = { operation: 'administer', targetType: 'application' };
        assert.deepEqual(await operationsOf(MIA), [use]);
        assert.deepEqual(await operationsOf(USERS.admin.accountId), [use, administer]);
        assert.deepEqual(await operationsOf(USERS.outsider.accountId), []);
        assert.deepEqual(await operationsOf(USERS.gone.accountId), []);
        assert.deepEqual(await operationsOf(APPS.notes.accountId), [use]);
      });

      test('expand: details.personal holds the email for the user or an admin only; details.business is empty', async () => {
        const details = async (target: string, headers: Headers, expand = 'details.personal') =>
          (await ok(`${API}/user?accountId=${target}&expand=${expand}`, headers)).details;
        assert.deepEqual(await details(ada.accountId, basicAuth(ada.email, ada.token)), {
          personal: { email: ada.email },
        });
        assert.deepEqual(await details(grace.accountId, basic('admin')), { personal: { email: grace.email } });
        // Visibility `anyone` shows `email`, but the deprecated personal details stay the user's and admins'.
        assert.deepEqual(await details(ada.accountId, basic('noah')), { personal: {} });
        assert.deepEqual(await details(ada.accountId, basic('noah'), 'details.business'), { business: {} });
        const both = await ok(`${API}/user?accountId=${MIA}&expand=details.personal,details.business`);
        assert.deepEqual(both.details, { personal: { email: USERS.mia.email }, business: {} });
        assert.deepEqual(both._expandable, { operations: '', personalSpace: '' });
      });

      test('expand: personalSpace is absent without a space; isExternalCollaborator changes nothing; unknown values are ignored', async () => {
        const space = await ok(`${API}/user?accountId=${MIA}&expand=personalSpace`);
        assert.equal('personalSpace' in space, false);
        assert.deepEqual(space._expandable, { operations: '', details: '' });

        assert.deepEqual(
          await ok(
            `${API}/user?accountId=${grace.accountId}&expand=isExternalCollaborator`,
            basicAuth(grace.email, grace.token),
          ),
          expectedUser(grace, grace.email),
        );
        assert.deepEqual(
          await ok(`${API}/user?accountId=${MIA}&expand=bogus,,history`),
          expectedUser(fixtureUser('mia'), USERS.mia.email),
        );

        // Repeated and comma-joined, all at once.
        const all = await ok(
          `${API}/user?accountId=${MIA}&expand=operations,personalSpace&expand=details.personal&expand=details.business,isExternalCollaborator`,
        );
        assert.deepEqual(all._expandable, {});
        assert.deepEqual(all.operations, [{ operation: 'use', targetType: 'application' }]);
        assert.deepEqual(all.details, { personal: { email: USERS.mia.email }, business: {} });
      });

      test('400: accountId missing or empty, legacy parameters alone (with the Warning), malformed accountIds', async () => {
        assertConfluenceError(await get(`${API}/user`), 400, /^accountId is required/);
        assertConfluenceError(await get(`${API}/user?accountId=`), 400, /^accountId is required/);
        assertConfluenceError(await get(`${API}/user?expand=operations`), 400, /^accountId is required/);
        for (const legacy of ['key=ff8080815a7f2e6c', 'username=ada', 'userKey=ff8080815a7f2e6c']) {
          const response = await get(`${API}/user?${legacy}`);
          const name = legacy.split('=')[0];
          assertConfluenceError(
            response,
            400,
            new RegExp(
              `^accountId is required: the legacy ${name} parameter is no longer supported, name the user by accountId`,
            ),
          );
          assert.equal(response.headers.warning, WARNING);
        }
        const both = await get(`${API}/user?key=k&username=u&accountId=`);
        assertConfluenceError(both, 400, /legacy key and username parameters are no longer supported/);
        assert.equal(both.headers.warning, WARNING);
        // An empty legacy value counts as absent: a plain "accountId is required", no warning.
        const empty = await get(`${API}/user?username=`);
        assertConfluenceError(empty, 400, /^accountId is required: name the user by accountId$/);
        assert.equal(empty.headers.warning, undefined);

        assertConfluenceError(
          await get(`${API}/user?accountId=${'a'.repeat(129)}`),
          400,
          /is not a well-formed accountId/,
        );
        assertConfluenceError(
          await get(`${API}/user?accountId=a%20b`),
          400,
          /accountId "a b" is not a well-formed accountId/,
        );
        assertConfluenceError(
          await get(`${API}/user?accountId=${MIA}&accountId=${MIA}`),
          400,
          /query parameter accountId: must be a string/,
        );
        assertConfluenceError(await get(`${API}/user?accountId=%00`), 400, /NUL/);
      });

      test('accountId wins over legacy parameters, and the answer carries the Warning', async () => {
        const response = await get(`${API}/user?accountId=${ada.accountId}&username=grace`);
        assert.equal(response.statusCode, 200);
        assert.equal(response.headers.warning, WARNING);
        assert.equal(response.json().accountId, ada.accountId);
        assert.equal((await get(`${API}/user?accountId=${ada.accountId}`)).headers.warning, undefined);
      });

      test('404: unknown accountId', async () => {
        assertConfluenceError(
          await get(`${API}/user?accountId=${NOBODY}`),
          404,
          /^No user with accountId 712020:nobody$/,
        );
        const legacy = await get(`${API}/user?accountId=${NOBODY}&key=x`);
        assertConfluenceError(legacy, 404, /No user with accountId/);
        assert.equal(legacy.headers.warning, WARNING);
      });

      test('401 and 403: anonymous callers on a closed site, users outside "Can use", apps without READ', async () => {
        assertConfluenceError(await get(`${API}/user?accountId=${MIA}`, {}), 401, /does not allow anonymous access/);
        assertConfluenceError(
          await get(`${API}/user?accountId=${MIA}`, basic('outsider')),
          403,
          /may not use this site/,
        );
        // READ, or anything that nests it, suffices; the email scope alone does not.
        const url = `${API}/user?accountId=${MIA}`;
        assert.equal((await get(url, connectJwt(APPS.tasks, 'GET', url))).statusCode, 200);
        assertConfluenceError(
          await get(url, asApp(emailOnly, url)),
          403,
          /^App com\.example\.email-only lacks the scope for this operation: it needs READ or read:confluence-user or read:content-details:confluence$/,
        );
      });

      test('405: other methods', async () => {
        const response = await fx.app.inject({
          method: 'POST',
          url: `${API}/user?accountId=${MIA}`,
          headers: basic('mia'),
        });
        assertConfluenceError(response, 405, /Method POST is not allowed/);
        assert.match(String(response.headers.allow), /GET/);
      });
    });

    describe('GET /user/anonymous', () => {
      test('200: the anonymous shape; operations only when expanded', async () => {
        assert.deepEqual(await ok(`${API}/user/anonymous`), ANONYMOUS_BODY);
        // On a closed site anonymous callers may do nothing; where allowed, they may use it.
        assert.deepEqual(await ok(`${API}/user/anonymous?expand=operations`), { ...ANONYMOUS_BODY, operations: [] });
        assert.deepEqual(await ok(`${API}/user/anonymous?expand=operations`, {}, open), {
          ...ANONYMOUS_BODY,
          operations: [{ operation: 'use', targetType: 'application' }],
        });
        assert.deepEqual(await ok(`/rest/api/user/anonymous?expand=personalSpace`, {}, open), ANONYMOUS_BODY);
      });

      test('401 for anonymous callers on a closed site; 403 outside "Can use"', async () => {
        assertConfluenceError(await get(`${API}/user/anonymous`, {}), 401, /does not allow anonymous access/);
        assertConfluenceError(await get(`${API}/user/anonymous`, basic('outsider')), 403, /may not use this site/);
      });
    });

    describe('GET /user/current', () => {
      test('200: the caller, whose own email is always visible', async () => {
        assert.deepEqual(await ok(`${API}/user/current`), expectedUser(fixtureUser('mia'), USERS.mia.email));
        assert.deepEqual(
          await ok(`${API}/user/current`, basicAuth(grace.email, grace.token)),
          expectedUser(grace, grace.email),
        );
        const admin = await ok(`${API}/user/current?expand=operations`, basic('admin'));
        assert.deepEqual(admin.operations, [
          { operation: 'use', targetType: 'application' },
          { operation: 'administer', targetType: 'application' },
        ]);
      });

      test("asApp: the app's bot user", async () => {
        const url = `${API}/user/current`;
        const bot = await ok(url, connectJwt(APPS.notes, 'GET', url));
        assert.deepEqual(bot, expectedUser({ accountId: APPS.notes.accountId, displayName: 'Notes' }, '', 'app'));
        const mailerBot = await ok(`/rest/api/user/current`, asApp(mailer, '/rest/api/user/current'));
        assert.equal(mailerBot.accountId, mailer.accountId);
        assert.equal(mailerBot.accountType, 'app');
      });

      test('anonymous callers get the anonymous shape where the site allows them, else 401', async () => {
        assert.deepEqual(await ok(`${API}/user/current`, {}, open), ANONYMOUS_BODY);
        assert.deepEqual(await ok(`${API}/user/current?expand=operations`, {}, open), {
          ...ANONYMOUS_BODY,
          operations: [{ operation: 'use', targetType: 'application' }],
        });
        assertConfluenceError(await get(`${API}/user/current`, {}), 401, /does not allow anonymous access/);
      });

      test('401 for deactivated users and bad credentials, also where anonymous callers are allowed', async () => {
        for (const on of [fx, open]) {
          assertConfluenceError(await get(`${API}/user/current`, basic('gone'), on), 401, /the account is deactivated/);
          assertConfluenceError(
            await get(`${API}/user/current`, basicAuth(ada.email, 'wrong-token-00'), on),
            401,
            /not valid/,
          );
        }
        assertConfluenceError(await get(`${API}/user/current`, basic('outsider')), 403, /may not use this site/);
      });
    });

    describe('GET /user/memberof', () => {
      const memberOf = (query: string, headers?: Headers, on?: Fixture) =>
        ok(`${API}/user/memberof?${query}`, headers, on);
      const groupNames = (body: { results: Array<{ name: string }> }) => body.results.map((g) => g.name);

      test('200: groups ordered by code point, in the Group shape', async () => {
        const body = await memberOf(`accountId=${ada.accountId}`);
        assert.deepEqual(groupNames(body), ['Zeta', 'alpha', 'beta', 'confluence-users', 'qa', 'Ärger']);
        assert.equal(body.start, 0);
        assert.equal(body.limit, 200);
        assert.equal(body.size, 6);
        assert.deepEqual(body._links, {
          base: BASE,
          context: '/wiki',
          self: `${BASE}/rest/api/user/memberof?accountId=712020%3Aada`,
        });
        for (const group of body.results) {
          assert.deepEqual(Object.keys(group), ['type', 'name', 'id', '_links']);
          assert.equal(group.type, 'group');
          assert.match(group.id, /^[0-9a-f-]{36}$/);
          assert.deepEqual(group._links, { self: `${BASE}/rest/api/group/by-id?id=${group.id}` });
        }
        // The same group has the same id for every member.
        const mia = await memberOf(`accountId=${MIA}`);
        assert.deepEqual(groupNames(mia), ['confluence-users']);
        assert.equal(mia.results[0].id, body.results.find((g: { name: string }) => g.name === 'confluence-users').id);
      });

      test('paging: _links.next while more exist, clamping, limit=0, start beyond the end', async () => {
        const first = await memberOf(`accountId=${ada.accountId}&limit=2`);
        assert.deepEqual(groupNames(first), ['Zeta', 'alpha']);
        assert.equal(first._links.next, '/rest/api/user/memberof?accountId=712020%3Aada&limit=2&start=2');
        const second = await ok(`/wiki${first._links.next}`);
        assert.deepEqual(groupNames(second), ['beta', 'confluence-users']);
        assert.equal(second.start, 2);
        const third = await ok(`/wiki${second._links.next}`);
        assert.deepEqual(groupNames(third), ['qa', 'Ärger']);
        assert.equal(third._links.next, undefined);

        const clamped = await memberOf(`accountId=${ada.accountId}&limit=100000`);
        assert.equal(clamped.limit, 200);
        assert.equal(clamped.size, 6);
        const none = await memberOf(`accountId=${ada.accountId}&limit=0`);
        assert.deepEqual([none.results, none.size, none._links.next], [[], 0, undefined]);
        const beyond = await memberOf(`accountId=${ada.accountId}&start=50`);
        assert.deepEqual([beyond.results, beyond.start], [[], 50]);
      });

      test('the jwt parameter never reaches _links', async () => {
        const path = `${API}/user/memberof?accountId=${ada.accountId}&limit=1`;
        const token = connectJwt(APPS.notes, 'GET', path).authorization!.slice('JWT '.length);
        const body = await ok(`${path}&jwt=${token}`, {});
        assert.doesNotMatch(JSON.stringify(body._links), /jwt/);
        assert.equal(body._links.next, '/rest/api/user/memberof?accountId=712020%3Aada&limit=1&start=1');
      });

      test('users without groups, bots and anonymous callers where allowed', async () => {
        assert.deepEqual((await memberOf(`accountId=${APPS.notes.accountId}`)).results, []);
        assert.deepEqual(groupNames(await memberOf(`accountId=${grace.accountId}`, {}, open)), ['confluence-users']);
      });

      test('400: accountId missing, legacy parameters alone, bad paging; 404: unknown users', async () => {
        assertConfluenceError(await get(`${API}/user/memberof`), 400, /^accountId is required/);
        const legacy = await get(`${API}/user/memberof?username=ada`);
        assertConfluenceError(
          legacy,
          400,
          /^accountId is required: the legacy username parameter is no longer supported/,
        );
        assert.equal(legacy.headers.warning, WARNING);
        for (const paging of ['start=-1', 'limit=-5', 'limit=abc', 'limit=1.5', 'start=', 'limit=1e3']) {
          const response = await get(`${API}/user/memberof?accountId=${MIA}&${paging}`);
          assertConfluenceError(response, 400, new RegExp(`query parameter ${paging.split('=')[0]}`));
        }
        assertConfluenceError(
          await get(`${API}/user/memberof?accountId=${NOBODY}`),
          404,
          /No user with accountId 712020:nobody/,
        );
        assertConfluenceError(await get(`${API}/user/memberof?accountId=bad%20id`), 400, /not a well-formed accountId/);
      });

      test('401 anonymous on a closed site; 403 outside "Can use"', async () => {
        assertConfluenceError(
          await get(`${API}/user/memberof?accountId=${MIA}`, {}),
          401,
          /does not allow anonymous access/,
        );
        assertConfluenceError(
          await get(`${API}/user/memberof?accountId=${MIA}`, basic('outsider')),
          403,
          /may not use this site/,
        );
      });
    });

    describe('GET /user/bulk', () => {
      const bulk = (query: string, headers?: Headers, on?: Fixture) => ok(`${API}/user/bulk?${query}`, headers, on);
      const ids = (body: { results: Array<{ accountId: string }> }) => body.results.map((u) => u.accountId);

      test('200: comma-joined and repeated ids, duplicates removed, request order kept, unknown ids omitted', async () => {
        const body = await bulk(
          `accountId=${grace.accountId},${NOBODY},${ada.accountId}&accountId=${grace.accountId}&accountId=${MIA}`,
        );
        assert.deepEqual(ids(body), [grace.accountId, ada.accountId, MIA]);
        assert.deepEqual(body.results, [
          expectedUser(grace, ''),
          expectedUser(ada, ada.email),
          expectedUser(fixtureUser('mia'), USERS.mia.email),
        ]);
        assert.equal(body.start, 0);
        assert.equal(body.limit, 200);
        assert.equal(body.size, 3);
        assert.equal(body._links.next, undefined);
        assert.equal(body._links.base, BASE);
      });

      test('the cut to limit comes before unknown ids are dropped', async () => {
        assert.deepEqual(ids(await bulk(`accountId=${ada.accountId},${NOBODY},${grace.accountId}&limit=2`)), [
          ada.accountId,
        ]);
        // Only the first 200 distinct ids count, even with a larger limit.
        const unknown = Array.from({ length: 200 }, (_, i) => `712020:unknown-${i}`);
        const late = await bulk(`accountId=${[...unknown, ada.accountId].join(',')}&limit=500`);
        assert.deepEqual([late.results, late.limit], [[], 200]);
        const early = await bulk(`accountId=${[...unknown.slice(1), ada.accountId].join(',')}`);
        assert.deepEqual(ids(early), [ada.accountId]);
        const none = await bulk(`accountId=${ada.accountId}&limit=0`);
        assert.deepEqual([none.results, none.size, none.limit], [[], 0, 0]);
      });

      test('expand and email visibility apply to every user', async () => {
        const body = await bulk(
          `accountId=${ada.accountId},${USERS.admin.accountId},${grace.accountId}&expand=operations,details.business`,
          basic('noah'),
        );
        assert.deepEqual(
          body.results.map((u: { email: string }) => u.email),
          [ada.email, '', ''],
        );
        assert.deepEqual(
          body.results.map((u: { operations: Array<{ operation: string }> }) => u.operations.map((o) => o.operation)),
          [['use'], ['use', 'administer'], ['use']],
        );
        for (const user of body.results) {
          assert.deepEqual(user.details, { business: {} });
          assert.deepEqual(user._expandable, { personalSpace: '' });
        }
      });

      test('anonymous callers where allowed, never seeing an email', async () => {
        const body = await bulk(`accountId=${ada.accountId},${MIA}`, {}, open);
        assert.deepEqual(body.results, [expectedUser(ada, ''), expectedUser(fixtureUser('mia'), '')]);
      });

      test('400: accountId missing, empty, or only commas; bad limits', async () => {
        for (const query of ['', 'accountId=', 'accountId=,,', 'expand=operations']) {
          assertConfluenceError(await get(`${API}/user/bulk?${query}`), 400, /^accountId is required/);
        }
        assertConfluenceError(await get(`${API}/user/bulk?accountId=${MIA}&limit=-1`), 400, /query parameter limit/);
        assertConfluenceError(await get(`${API}/user/bulk?accountId=${MIA}&limit=x`), 400, /query parameter limit/);
      });

      test('403: apps acting as themselves, before any parameter is read; users outside "Can use"', async () => {
        for (const url of [`${API}/user/bulk?accountId=${MIA}`, `/rest/api/user/bulk`, `${API}/user/bulk?limit=-1`]) {
          assertConfluenceError(
            await get(url, connectJwt(APPS.notes, 'GET', url)),
            403,
            /^Apps cannot use GET \/user\/bulk: app com\.example\.notes/,
          );
          assertConfluenceError(await get(url, asApp(mailer, url), open), 403, /Apps cannot use GET \/user\/bulk/);
        }
        assertConfluenceError(
          await get(`${API}/user/bulk?accountId=${MIA}`, basic('outsider')),
          403,
          /may not use this site/,
        );
        assertConfluenceError(
          await get(`${API}/user/bulk?accountId=${MIA}`, {}),
          401,
          /does not allow anonymous access/,
        );
      });
    });

    describe('GET /user/bulk/migration', () => {
      const migration = async (query: string, headers?: Headers, on?: Fixture) => {
        const response = await get(`${API}/user/bulk/migration?${query}`, headers, on);
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(response.headers.warning, WARNING);
        return response.json();
      };

      test('200: by key or by username, in request order, unknown ones omitted, with the Warning', async () => {
        const adaRecord = { username: 'ada', key: ada.userKey, accountId: ada.accountId };
        const graceRecord = { username: 'grace', key: grace.userKey, accountId: grace.accountId };
        const byKey = await migration(`key=${ada.userKey}`);
        assert.deepEqual(byKey, {
          results: [adaRecord],
          start: 0,
          limit: 200,
          size: 1,
          _links: { base: BASE, context: '/wiki', self: `${BASE}/rest/api/user/bulk/migration?key=${ada.userKey}` },
        });
        assert.deepEqual((await migration(`username=grace,nobody&username=ada&username=grace`)).results, [
          graceRecord,
          adaRecord,
        ]);
        assert.deepEqual((await migration(`key=${grace.userKey},unknown-key,${ada.userKey}`)).results, [
          graceRecord,
          adaRecord,
        ]);
        // A username is not a key.
        assert.deepEqual((await migration('key=ada')).results, []);
        // An empty value counts as absent.
        assert.deepEqual((await migration('username=ada&key=')).results, [adaRecord]);
        assert.deepEqual((await migration('username=ada', {}, open)).results, [adaRecord]);
      });

      test('paging: cut before unknown ones are dropped, _links.next, clamping, limit=0', async () => {
        const first = await migration('username=ada,nobody,grace&limit=2');
        assert.deepEqual(
          first.results.map((r: { username: string }) => r.username),
          ['ada'],
        );
        assert.equal(first.size, 1);
        assert.equal(first._links.next, '/rest/api/user/bulk/migration?username=ada%2Cnobody%2Cgrace&limit=2&start=2');
        const second = await migration('username=ada,nobody,grace&limit=2&start=2');
        assert.deepEqual(
          second.results.map((r: { username: string }) => r.username),
          ['grace'],
        );
        assert.equal(second._links.next, undefined);
        assert.equal((await migration('username=ada&limit=999')).limit, 200);
        const none = await migration('username=ada&limit=0');
        assert.deepEqual([none.results, none._links.next], [[], undefined]);
      });

      test('400 with the Warning: neither key nor username, or both', async () => {
        for (const query of ['', 'key=', 'username=,', 'start=0']) {
          const response = await get(`${API}/user/bulk/migration?${query}`);
          assertConfluenceError(response, 400, /^key or username is required/);
          assert.equal(response.headers.warning, WARNING);
        }
        const both = await get(`${API}/user/bulk/migration?key=a&username=b`);
        assertConfluenceError(both, 400, /^Give key or username, not both/);
        assert.equal(both.headers.warning, WARNING);
        const paging = await get(`${API}/user/bulk/migration?key=a&start=-2`);
        assertConfluenceError(paging, 400, /query parameter start/);
        assert.equal(paging.headers.warning, WARNING);
      });

      test('401 and 403 carry the Warning too', async () => {
        const anonymous = await get(`${API}/user/bulk/migration?key=a`, {});
        assertConfluenceError(anonymous, 401, /does not allow anonymous access/);
        assert.equal(anonymous.headers.warning, WARNING);
        const outsider = await get(`${API}/user/bulk/migration?key=a`, basic('outsider'));
        assertConfluenceError(outsider, 403, /may not use this site/);
        assert.equal(outsider.headers.warning, WARNING);
      });
    });

    describe('GET /user/email and /user/email/bulk', () => {
      const single = (accountId: string) => `${API}/user/email?accountId=${accountId}`;
      const many = (query: string) => `${API}/user/email/bulk?${query}`;

      test('200: an approved app reads any address, whatever its visibility, deactivated users included', async () => {
        for (const [accountId, email] of [
          [grace.accountId, grace.email],
          [MIA, USERS.mia.email],
          [USERS.gone.accountId, USERS.gone.email],
          [APPS.notes.accountId, ''],
        ] as const) {
          const url = single(accountId);
          assert.deepEqual(await ok(url, asApp(mailer, url)), { accountId, email });
        }
        const alias = `/rest/api/user/email?accountId=${ada.accountId}`;
        assert.deepEqual(await ok(alias, asApp(mailer, alias)), { accountId: ada.accountId, email: ada.email });
        // The email scope alone suffices: READ is not needed.
        const url = single(ada.accountId);
        assert.deepEqual(await ok(url, asApp(emailOnly, url)), { accountId: ada.accountId, email: ada.email });
      });

      test('bulk: request order, duplicates removed, unknown users omitted', async () => {
        const url = many(
          `accountId=${grace.accountId},${NOBODY},${ada.accountId}&accountId=${grace.accountId}&accountId=not%20well%20formed`,
        );
        assert.deepEqual(await ok(url, asApp(mailer, url)), [
          { accountId: grace.accountId, email: grace.email },
          { accountId: ada.accountId, email: ada.email },
        ]);
        const unknownOnly = many(`accountId=${NOBODY}`);
        assert.deepEqual(await ok(unknownOnly, asApp(mailer, unknownOnly)), []);
      });

      test('404: an unknown user (single)', async () => {
        const url = single(NOBODY);
        assertConfluenceError(await get(url, asApp(mailer, url)), 404, /No user with accountId 712020:nobody/);
      });

      test('400: accountId missing or malformed', async () => {
        for (const url of [`${API}/user/email`, single(''), many(''), many('accountId=,')]) {
          assertConfluenceError(await get(url, asApp(mailer, url)), 400, /^accountId is required/);
        }
        const malformed = single('a%20b');
        assertConfluenceError(await get(malformed, asApp(mailer, malformed)), 400, /not a well-formed accountId/);
      });

      test('400: callers that are not approved apps — unapproved apps, users and admins', async () => {
        for (const url of [single(MIA), many(`accountId=${MIA}`)]) {
          assertConfluenceError(
            await get(url, asApp(unapproved, url)),
            400,
            /^App com\.example\.unapproved is not approved to read email addresses: its emailAccess setting is off/,
          );
          assertConfluenceError(await get(url, basic('mia')), 400, /^Only approved apps may read email addresses/);
          assertConfluenceError(await get(url, basic('admin')), 400, /^Only approved apps may read email addresses/);
        }
      });

      test('403: apps without the ACCESS_EMAIL_ADDRESSES scope, even those with READ or more', async () => {
        for (const url of [single(MIA), many(`accountId=${MIA}`), `${API}/user/email`]) {
          for (const app of ['reader', 'notes'] as const) {
            assertConfluenceError(
              await get(url, connectJwt(APPS[app], 'GET', url)),
              403,
              new RegExp(
                `^App ${APPS[app].key.replace(/\./g, '\\.')} lacks the scope for this operation: it needs ACCESS_EMAIL_ADDRESSES or read:email-address:confluence`,
              ),
            );
          }
        }
        assertConfluenceError(await get(single(MIA), basic('outsider')), 403, /may not use this site/);
      });

      test('401: anonymous callers, even where the site allows them', async () => {
        for (const on of [fx, open]) {
          assertConfluenceError(await get(single(MIA), {}, on), 401, /Authentication required/);
          assertConfluenceError(await get(many(`accountId=${MIA}`), {}, on), 401, /Authentication required/);
        }
        assertConfluenceError(
          await get(single(MIA), {}, open),
          401,
          /anonymous callers may only read users and groups/,
        );
      });

      test('501 where emailApi is disabled, in docs/behaviour.md §3 order: scope 403 → accountId 400 → 501 → not approved 400', async () => {
        for (const url of [single(MIA), many(`accountId=${MIA}`)]) {
          const disabled = /^The email API is not enabled on this site: its emailApi setting is disabled$/;
          assertConfluenceError(await get(url, asApp(mailer, url), noEmail), 501, disabled);
          // 501 comes before "not approved".
          assertConfluenceError(await get(url, asApp(unapproved, url), noEmail), 501, disabled);
          assertConfluenceError(await get(url, basic('mia'), noEmail), 501, disabled);
          // The scope's 403 comes first.
          assertConfluenceError(await get(url, connectJwt(APPS.reader, 'GET', url), noEmail), 403, /lacks the scope/);
        }
        // A missing accountId comes before the 501.
        const missing = `${API}/user/email`;
        assertConfluenceError(await get(missing, asApp(mailer, missing), noEmail), 400, /^accountId is required/);
        // The rest of the directory is unaffected.
        assert.equal((await ok(`${API}/user?accountId=${MIA}`, basic('mia'), noEmail)).email, USERS.mia.email);
      });
    });

    describe('anonymous access (docs/behaviour.md §3)', () => {
      const readable = [
        `/user?accountId=${MIA}`,
        '/user/anonymous',
        '/user/current',
        `/user/memberof?accountId=${MIA}`,
        `/user/bulk?accountId=${MIA}`,
        '/user/bulk/migration?username=ada',
      ];

      test('with anonymousAccess on, anonymous callers read users and groups under both prefixes, and nothing else', async () => {
        for (const prefix of [API, CONFLUENCE_API_ALIAS]) {
          for (const path of readable) {
            const response = await get(`${prefix}${path}`, {}, open);
            assert.equal(response.statusCode, 200, `${prefix}${path}: ${response.body}`);
            assert.doesNotMatch(response.body, /@example\.com/, `${path} showed an email to an anonymous caller`);
          }
          for (const path of [
            `/user/email?accountId=${MIA}`,
            `/user/email/bulk?accountId=${MIA}`,
            `/user/${MIA}/property`,
          ]) {
            assertConfluenceError(
              await get(`${prefix}${path}`, {}, open),
              401,
              /anonymous callers may only read users and groups/,
            );
          }
        }
      });

      test('with anonymousAccess off, every directory route is 401', async () => {
        for (const path of [...readable, `/user/email?accountId=${MIA}`, `/user/email/bulk?accountId=${MIA}`]) {
          assertConfluenceError(await get(`${API}${path}`, {}), 401, /does not allow anonymous access/);
        }
      });
    });

    describe('avatars', () => {
      const image = async (url: string, headers: Headers = {}, on: Fixture = fx) => {
        const response = await on.app.inject({ method: 'GET', url, headers });
        assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
        assert.equal(response.headers['content-type'], 'image/svg+xml; charset=utf-8');
        assert.equal(response.headers['x-content-type-options'], 'nosniff');
        assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
        assert.match(response.body, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="48" height="48"/);
        assert.match(response.body, /<\/svg>$/);
        return response.body;
      };

      test('every profilePicture.path resolves, with no credentials even on a closed site', async () => {
        const body = await ok(
          `${API}/user/bulk?accountId=${ada.accountId},${grace.accountId},${MIA},${APPS.notes.accountId}`,
        );
        const svgs = await Promise.all(
          body.results.map((u: { profilePicture: { path: string } }) => image(u.profilePicture.path)),
        );
        assert.match(svgs[0]!, />AL<\/text>/);
        assert.match(svgs[1]!, />G<\/text>/);
        assert.match(svgs[2]!, />M<\/text>/);
        assert.match(svgs[3]!, />N<\/text>/);
        const anonymous = await ok(`${API}/user/anonymous`);
        assert.match(await image(anonymous.profilePicture.path), /aria-label="Anonymous"/);
      });

      test('unknown and malformed ids get the generic picture with the same 200; credentials are not read', async () => {
        const generic = await image('/wiki/aa-avatar/712020:nobody');
        assert.match(generic, /aria-label="Anonymous"/);
        assert.equal(await image('/wiki/aa-avatar/%3Cscript%3E'), generic);
        assert.equal(await image(`/wiki/aa-avatar/${'x'.repeat(300)}`), generic);
        assert.match(
          await image(`/wiki/aa-avatar/${ada.accountId}`, { authorization: 'Basic bm90OnZhbGlk' }),
          />AL<\/text>/,
        );
        assert.match(await image(`/wiki/aa-avatar/${encodeURIComponent(ada.accountId)}`, {}, open), />AL<\/text>/);
        const head = await fx.app.inject({ method: 'HEAD', url: `/wiki/aa-avatar/${MIA}` });
        assert.equal(head.statusCode, 200);
        assert.equal(head.headers['content-type'], 'image/svg+xml; charset=utf-8');
      });

      test('names are escaped: markup in a public name never reaches the SVG as markup', async () => {
        await loadSeed(fx.store.db, fx.secrets, {
          users: [
            {
              accountId: '712020:markup',
              email: 'markup@example.com',
              displayName: 'x',
              publicName: '<script>alert(1)</script> & "Co"',
            },
          ],
        });
        const svg = await image('/wiki/aa-avatar/712020:markup');
        assert.match(svg, />&lt;&quot;<\/text>/);
        assert.doesNotMatch(svg, /<script/);
      });

      test('initials: first letters of the first and last words, upper-cased, by code point', () => {
        assert.equal(initialsOf('Ada Lovelace'), 'AL');
        assert.equal(initialsOf('  mia  '), 'M');
        assert.equal(initialsOf('jean-luc de la  picard'), 'JP');
        assert.equal(initialsOf('émile zola'), 'ÉZ');
        assert.equal(initialsOf('😀 smile'), '😀S');
        assert.equal(initialsOf(''), '');
      });
    });

    test('no directory response leaks a stack trace', async () => {
      for (const url of [
        `${API}/user?accountId=%E0%A4%A`,
        `${API}/user/bulk?accountId=${'%FF'.repeat(10)}`,
        `${API}/user?expand[]=x&accountId=${MIA}`,
      ]) {
        const response = await get(url);
        assertNoStackTrace(response);
        assert.ok(response.statusCode < 500, `${url}: ${response.statusCode} ${response.body}`);
      }
    });
  });
}
