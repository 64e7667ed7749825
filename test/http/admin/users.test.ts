/** Contract tests for /admin/api/users (docs/behaviour.md §2, §9), on both stores. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { insertProperty } from '../../../src/store/properties.ts';
import { ACCOUNT_ID, adminCaller } from '../../helpers/admin.ts';
import { basicAuth, connectJwt } from '../../helpers/credentials.ts';
import { APPS, basic, type Fixture, startFixture, USERS } from '../../helpers/fixture.ts';
import { assertConfluenceError } from '../../helpers/security.ts';
import { DEFAULT_SITE, STORE_KINDS } from '../../helpers/stores.ts';

const USER_KEYS = [
  'accountId',
  'accountType',
  'active',
  'displayName',
  'email',
  'emailVisibility',
  'externalCollaborator',
  'groups',
  'publicName',
  'timeZone',
  'userKey',
  'username',
];

for (const kind of STORE_KINDS) {
  describe(`admin API: users on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());
    const call = adminCaller(() => fx);

    let counter = 0;
    const unique = (tag: string) => `${tag}-${kind}-${++counter}`;

    /** A fresh user in confluence-users with a working API token. */
    async function newUser(tag: string, extra: Record<string, unknown> = {}) {
      const email = `${unique(tag)}@example.com`;
      const created = await call('POST', '/users', {
        email,
        displayName: `User ${tag}`,
        groups: ['confluence-users'],
        ...extra,
      });
      assert.equal(created.statusCode, 201, created.body);
      const user = created.json();
      const token = await call('POST', `/users/${user.accountId}/tokens`, {});
      assert.equal(token.statusCode, 201, token.body);
      return { ...user, auth: basicAuth(email, token.json().token) };
    }

    const ownProperties = (accountId: string, headers: Record<string, string>) =>
      fx.app.inject({ method: 'GET', url: `/wiki/rest/api/user/${accountId}/property`, headers });

    test('PATCH /users/{accountId}: concurrent changes of different fields all survive', async () => {
      for (let round = 0; round < 5; round++) {
        const user = await newUser(`both-${round}`);
        const [renamed, deactivated, zoned] = await Promise.all([
          call('PATCH', `/users/${user.accountId}`, { displayName: `Renamed ${round}` }),
          call('PATCH', `/users/${user.accountId}`, { active: false }),
          call('PATCH', `/users/${user.accountId}`, { timeZone: 'Europe/Berlin' }),
        ]);
        assert.equal(renamed.statusCode, 200, renamed.body);
        assert.equal(deactivated.statusCode, 200, deactivated.body);
        assert.equal(zoned.statusCode, 200, zoned.body);
        const after = (await call('GET', `/users/${user.accountId}`)).json();
        assert.equal(after.displayName, `Renamed ${round}`);
        assert.equal(after.active, false, 'the acknowledged deactivation stays');
        assert.equal(after.timeZone, 'Europe/Berlin');
      }
    });

    test('PATCH racing DELETE: the user stays deleted, never re-created', async () => {
      for (let round = 0; round < 5; round++) {
        const user = await newUser(`race-${round}`);
        const [patched, deleted] = await Promise.all([
          call('PATCH', `/users/${user.accountId}`, { displayName: 'Back from the dead' }),
          call('DELETE', `/users/${user.accountId}`),
        ]);
        assert.equal(deleted.statusCode, 204, deleted.body);
        assert.ok([200, 404].includes(patched.statusCode), patched.body);
        assertConfluenceError(await call('GET', `/users/${user.accountId}`), 404, /No user with accountId/);
      }
    });

    test('GET /users/{accountId}: the exact shape, groups in code-point order', async () => {
      const response = await call('GET', `/users/${USERS.mia.accountId}`);
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.deepEqual(response.json(), {
        accountId: '712020:mia',
        accountType: 'atlassian',
        email: 'mia@example.com',
        displayName: 'mia',
        publicName: 'mia',
        timeZone: 'UTC',
        emailVisibility: 'admins',
        username: null,
        userKey: null,
        externalCollaborator: false,
        active: true,
        groups: ['confluence-users'],
      });
      // Lookups still return deactivated users (docs/behaviour.md §2).
      const gone = await call('GET', `/users/${USERS.gone.accountId}`);
      assert.equal(gone.statusCode, 200);
      assert.equal(gone.json().active, false);
      // An app's bot user is listed as such.
      const bot = await call('GET', '/users/557058:notes-bot');
      assert.equal(bot.statusCode, 200);
      assert.deepEqual(
        { type: bot.json().accountType, email: bot.json().email, groups: bot.json().groups },
        { type: 'app', email: '', groups: [] },
      );
    });

    test('GET /users/{accountId}: 404 for an unknown user, 400 for a malformed accountId', async () => {
      assertConfluenceError(await call('GET', '/users/712020:nobody'), 404, /^No user with accountId 712020:nobody$/);
      assertConfluenceError(
        await call('GET', '/users/bad%20id'),
        400,
        /accountId "bad id" is not a well-formed accountId/,
      );
      assertConfluenceError(await call('GET', `/users/${'a'.repeat(129)}`), 400, /is not a well-formed accountId/);
    });

    test('GET /users: a list of every user, by display name in code-point order, then accountId', async () => {
      const response = await call('GET', '/users');
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.deepEqual(Object.keys(body).sort(), ['limit', 'results', 'size', 'start']);
      assert.equal(body.start, 0);
      assert.equal(body.limit, 100);
      assert.equal(body.size, body.results.length);
      for (const user of body.results) assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
      const ids = body.results.map((u: { accountId: string }) => u.accountId);
      for (const name of Object.keys(USERS) as Array<keyof typeof USERS>)
        assert.ok(ids.includes(USERS[name].accountId), name);
      const names = body.results.map((u: { displayName: string; accountId: string }) => [u.displayName, u.accountId]);
      const sorted = [...names].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
      assert.deepEqual(names, sorted);
    });

    test('GET /users: paging, clamping and bad paging parameters', async () => {
      const all = (await call('GET', '/users')).json().results;
      const page = await call('GET', '/users?start=1&limit=2');
      assert.equal(page.statusCode, 200);
      assert.deepEqual(page.json(), { results: all.slice(1, 3), start: 1, limit: 2, size: 2 });
      const empty = await call('GET', '/users?limit=0');
      assert.deepEqual(empty.json(), { results: [], start: 0, limit: 0, size: 0 });
      assert.equal((await call('GET', '/users?limit=50000')).json().limit, 1000);
      const beyond = await call('GET', '/users?start=100000');
      assert.deepEqual(beyond.json().results, []);
      assertConfluenceError(await call('GET', '/users?start=-1'), 400, /query parameter start/);
      assertConfluenceError(await call('GET', '/users?limit=abc'), 400, /query parameter limit: must be an integer/);
      assertConfluenceError(await call('GET', '/users?limit=1.5'), 400, /query parameter limit/);
    });

    test('GET /users?query=: a case-insensitive substring of name or email; % and _ match literally', async () => {
      const tag = unique('Query');
      await call('POST', '/users', { email: `${tag}@example.com`, displayName: 'Zoë Quill', publicName: 'ZQ 100%' });
      await call('POST', '/users', { email: `other-${tag}@example.com`, displayName: 'Zoe_Other' });
      const byEmail = await call('GET', `/users?query=${encodeURIComponent(tag.toUpperCase())}`);
      assert.deepEqual(
        byEmail
          .json()
          .results.map((u: { displayName: string }) => u.displayName)
          .sort(),
        ['Zoe_Other', 'Zoë Quill'],
      );
      const byName = await call('GET', '/users?query=QUILL');
      assert.deepEqual(
        byName.json().results.map((u: { displayName: string }) => u.displayName),
        ['Zoë Quill'],
      );
      const percent = await call('GET', `/users?query=${encodeURIComponent('100%')}`);
      assert.deepEqual(
        percent.json().results.map((u: { displayName: string }) => u.displayName),
        ['Zoë Quill'],
      );
      assert.deepEqual(
        (await call('GET', '/users?query=%25')).json().results.map((u: { displayName: string }) => u.displayName),
        ['Zoë Quill'],
      );
      assert.deepEqual(
        (await call('GET', '/users?query=e_o')).json().results.map((u: { displayName: string }) => u.displayName),
        ['Zoe_Other'],
      );
      assert.deepEqual((await call('GET', '/users?query=no-such-user-anywhere')).json().results, []);
      // An empty query filters nothing.
      assert.equal((await call('GET', '/users?query=')).json().size, (await call('GET', '/users')).json().size);
    });

    test('POST /users: 201 with defaults, a generated accountId and a Location', async () => {
      const email = `${unique('Create')}@Example.com`;
      const response = await call('POST', '/users', { email, displayName: 'Created User' });
      assert.equal(response.statusCode, 201, response.body);
      const user = response.json();
      assert.match(user.accountId, ACCOUNT_ID);
      assert.equal(response.headers.location, `/admin/api/users/${encodeURIComponent(user.accountId)}`);
      assert.deepEqual(user, {
        accountId: user.accountId,
        accountType: 'atlassian',
        email,
        displayName: 'Created User',
        publicName: 'Created User',
        timeZone: 'UTC',
        emailVisibility: 'admins',
        username: null,
        userKey: null,
        externalCollaborator: false,
        active: true,
        groups: [],
      });
      assert.deepEqual((await call('GET', `/users/${user.accountId}`)).json(), user);
    });

    test('POST /users: every field given, groups included', async () => {
      const accountId = `712020:${unique('full')}`;
      const body = {
        accountId,
        email: `${unique('full')}@example.com`,
        displayName: 'Full User',
        publicName: 'Full',
        timeZone: 'Europe/Berlin',
        emailVisibility: 'anyone',
        username: unique('full'),
        userKey: unique('key'),
        externalCollaborator: true,
        active: false,
        groups: ['qa', 'confluence-users', 'qa'],
      };
      const response = await call('POST', '/users', body);
      assert.equal(response.statusCode, 201, response.body);
      assert.deepEqual(response.json(), { ...body, accountType: 'atlassian', groups: ['confluence-users', 'qa'] });
    });

    test('POST /users: 400 for bad input, naming the problem, and nothing is written', async () => {
      const email = `${unique('bad')}@example.com`;
      const cases: Array<[unknown, RegExp]> = [
        [{ displayName: 'No Email' }, /request body: is missing email/],
        [{ email }, /request body: is missing displayName/],
        [{ email: 'not-an-email', displayName: 'X' }, /request body email: must be an email address/],
        [{ email, displayName: '' }, /request body displayName/],
        [{ email, displayName: 'X', nickname: 'x' }, /request body: has unknown field nickname/],
        [{ email, displayName: 'X', accountType: 'app' }, /has unknown field accountType/],
        [{ email, displayName: 'X', emailVisibility: 'everyone' }, /request body emailVisibility/],
        [{ email, displayName: 'X', active: 'yes' }, /request body active: must be a boolean/],
        [{ email, displayName: 'X', accountId: 'has space' }, /accountId "has space" is not a well-formed accountId/],
        [{ email, displayName: 'X', timeZone: 'Mars/Olympus' }, /timeZone "Mars\/Olympus" is not an IANA time zone/],
        [{ email, displayName: 'X', groups: ['no-such-group'] }, /groups: group "no-such-group" does not exist/],
        [{ email, displayName: 'X', groups: ['bad\u0001name'] }, /groups\[0\] .* contains a control character/],
        [[], /request body: must be an object/],
        ['"just a string"', /request body: must be an object/],
        ['{"email": ', /The request body is not valid JSON/],
        [`{"email": "${email}", "displayName": "a\\u0000b"}`, /NUL character/],
      ];
      for (const [body, pattern] of cases) assertConfluenceError(await call('POST', '/users', body), 400, pattern);
      const form = await fx.app.inject({
        method: 'POST',
        url: '/admin/api/users',
        headers: { ...basic('admin'), 'content-type': 'application/x-www-form-urlencoded' },
        payload: `email=${email}&displayName=X`,
      });
      assertConfluenceError(form, 400, /Content-Type "application\/x-www-form-urlencoded" is not supported/);
      assertConfluenceError(await call('POST', '/users', undefined), 400, /request body/);
      assert.deepEqual(
        (await call('GET', `/users?query=${encodeURIComponent(email)}`)).json().results,
        [],
        'no half-written user',
      );
    });

    test('POST /users: 409 for a taken accountId, email (case-insensitively), username or userKey', async () => {
      const username = unique('legacy');
      const userKey = unique('ukey');
      const first = await call('POST', '/users', {
        email: `${unique('dup')}@example.com`,
        displayName: 'Dup',
        username,
        userKey,
      });
      assert.equal(first.statusCode, 201);
      const fresh = () => `${unique('dup')}@example.com`;
      assertConfluenceError(
        await call('POST', '/users', { accountId: '712020:mia', email: fresh(), displayName: 'X' }),
        409,
        /A user with accountId 712020:mia already exists/,
      );
      assertConfluenceError(
        await call('POST', '/users', { email: 'MIA@EXAMPLE.COM', displayName: 'X' }),
        409,
        /email "MIA@EXAMPLE.COM" already belongs to another user/,
      );
      assertConfluenceError(
        await call('POST', '/users', { email: fresh(), displayName: 'X', username }),
        409,
        new RegExp(`username "${username}" already belongs to another user`),
      );
      assertConfluenceError(
        await call('POST', '/users', { email: fresh(), displayName: 'X', userKey }),
        409,
        new RegExp(`userKey "${userKey}" already belongs to another user`),
      );
      // The 409 wrote nothing: the accountId is still free.
      assertConfluenceError(
        await call('POST', '/users', { accountId: '557058:notes-bot', email: fresh(), displayName: 'X' }),
        409,
        /already exists/,
      );
    });

    test('POST /users: concurrent creates of one email, exactly one succeeds', async () => {
      const email = `${unique('race')}@example.com`;
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => call('POST', '/users', { email, displayName: 'Race' })),
      );
      const statuses = responses.map((r) => r.statusCode).sort();
      assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], responses.map((r) => r.body).join('\n'));
      for (const r of responses.filter((r) => r.statusCode === 409))
        assertConfluenceError(r, 409, /already belongs to another user|conflicts with another user/);
    });

    test('a created user with a token can use the site', async () => {
      const user = await newUser('works');
      const response = await ownProperties(user.accountId, user.auth);
      assert.equal(response.statusCode, 200, response.body);
    });

    test('PATCH /users/{accountId}: changes only the fields given; null removes legacy names', async () => {
      const user = await newUser('patch', { username: unique('patch-name'), timeZone: 'Asia/Tokyo' });
      const response = await call('PATCH', `/users/${user.accountId}`, {
        displayName: 'Renamed',
        username: null,
        emailVisibility: 'private',
      });
      assert.equal(response.statusCode, 200, response.body);
      const { auth: _auth, ...before } = user;
      assert.deepEqual(response.json(), {
        ...before,
        displayName: 'Renamed',
        username: null,
        emailVisibility: 'private',
      });
      const empty = await call('PATCH', `/users/${user.accountId}`, {});
      assert.equal(empty.statusCode, 200);
      assert.deepEqual(empty.json(), response.json());
    });

    test('PATCH /users/{accountId}: 400, 404 and 409', async () => {
      const user = await newUser('patch-errors');
      assertConfluenceError(
        await call('PATCH', `/users/${user.accountId}`, { accountId: '712020:other' }),
        400,
        /has unknown field accountId/,
      );
      assertConfluenceError(
        await call('PATCH', `/users/${user.accountId}`, { groups: ['qa'] }),
        400,
        /has unknown field groups/,
      );
      assertConfluenceError(
        await call('PATCH', `/users/${user.accountId}`, { email: 'nope' }),
        400,
        /email: must be an email address/,
      );
      assertConfluenceError(
        await call('PATCH', `/users/${user.accountId}`, { timeZone: 'Nowhere/Land' }),
        400,
        /not an IANA time zone/,
      );
      assertConfluenceError(
        await call('PATCH', `/users/${user.accountId}`, { active: null }),
        400,
        /active: must be a boolean/,
      );
      assertConfluenceError(await call('PATCH', '/users/bad%20id', {}), 400, /not a well-formed accountId/);
      // Body syntax (step 4) comes before existence (step 7).
      assertConfluenceError(
        await call('PATCH', '/users/712020:nobody', { nickname: 'x' }),
        400,
        /unknown field nickname/,
      );
      assertConfluenceError(
        await call('PATCH', '/users/712020:nobody', { displayName: 'X' }),
        404,
        /No user with accountId 712020:nobody/,
      );
      assertConfluenceError(
        await call('PATCH', `/users/${user.accountId}`, { email: 'Noah@Example.com' }),
        409,
        /email "Noah@Example.com" already belongs to another user/,
      );
      assertConfluenceError(
        await call('PATCH', '/users/557058:notes-bot', { displayName: 'X' }),
        409,
        /is the bot user of app com\.example\.notes: change the app instead/,
      );
      // Changing a user's own email's case is no conflict.
      const recased = await call('PATCH', `/users/${user.accountId}`, { email: user.email.toUpperCase() });
      assert.equal(recased.statusCode, 200, recased.body);
    });

    test('deactivating: the user keeps their data and can no longer authenticate; lookups still return them; reactivating restores access', async () => {
      const user = await newUser('deactivate');
      const property = `/wiki/rest/api/user/${user.accountId}/property/kept`;
      const created = await fx.app.inject({
        method: 'POST',
        url: property,
        headers: { ...user.auth, 'content-type': 'application/json' },
        payload: '{"value":{"kept":true}}',
      });
      assert.equal(created.statusCode, 201);

      const deactivated = await call('PATCH', `/users/${user.accountId}`, { active: false });
      assert.equal(deactivated.statusCode, 200);
      assert.equal(deactivated.json().active, false);
      assert.deepEqual(deactivated.json().groups, ['confluence-users'], 'memberships are kept');
      fx.clock.pastCacheLifetime();
      assertConfluenceError(
        await ownProperties(user.accountId, user.auth),
        401,
        /Basic authentication failed: the account is deactivated/,
      );

      // Their data stays: an admin reads the property, an app may still reach them.
      const read = await fx.app.inject({ method: 'GET', url: property, headers: basic('admin') });
      assert.equal(read.statusCode, 200, read.body);
      assert.deepEqual(read.json().value, { kept: true });
      const tokens = await call('GET', `/users/${user.accountId}/tokens`);
      assert.equal(tokens.json().size, 1, 'tokens are kept');
      const appUrl = `/wiki/rest/api/user/${user.accountId}/property`;
      assert.equal(
        (await fx.app.inject({ method: 'GET', url: appUrl, headers: connectJwt(APPS.notes, 'GET', appUrl) }))
          .statusCode,
        200,
      );
      assert.equal((await call('GET', `/users/${user.accountId}`)).json().active, false);

      const reactivated = await call('PATCH', `/users/${user.accountId}`, { active: true });
      assert.equal(reactivated.json().active, true);
      fx.clock.pastCacheLifetime();
      const again = await fx.app.inject({ method: 'GET', url: property, headers: user.auth });
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(again.json().value, { kept: true });
    });

    test('DELETE /users/{accountId}: removes memberships, tokens and properties of every namespace and product', async () => {
      const user = await newUser('delete');
      await call('PUT', `/groups/qa/members/${user.accountId}`);
      const own = `/wiki/rest/api/user/${user.accountId}/property/own`;
      const byApp = `/wiki/rest/api/user/${user.accountId}/property/by-app`;
      const json = { 'content-type': 'application/json' };
      assert.equal(
        (await fx.app.inject({ method: 'POST', url: own, headers: { ...user.auth, ...json }, payload: '{"value":{}}' }))
          .statusCode,
        201,
      );
      assert.equal(
        (
          await fx.app.inject({
            method: 'POST',
            url: byApp,
            headers: { ...connectJwt(APPS.notes, 'POST', byApp), ...json },
            payload: '{"value":{}}',
          })
        ).statusCode,
        201,
      );
      await insertProperty(
        fx.store.db,
        { siteId: DEFAULT_SITE, product: 'jira', namespace: '', accountId: user.accountId, key: 'jira-one' },
        '{}',
      );
      // Another user's data is untouched.
      await insertProperty(
        fx.store.db,
        {
          siteId: DEFAULT_SITE,
          product: 'jira',
          namespace: '',
          accountId: USERS.noah.accountId,
          key: unique('noah-keeps'),
        },
        '{}',
      );
      const noahBefore = await fx.store.db
        .selectFrom('properties')
        .select('key')
        .where('account_id', '=', USERS.noah.accountId)
        .execute();

      const deleted = await call('DELETE', `/users/${user.accountId}`);
      assert.equal(deleted.statusCode, 204);
      assert.equal(deleted.body, '');

      const count = async (table: 'group_members' | 'api_tokens' | 'properties') =>
        Number(
          (
            await fx.store.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number | string>().as('n'))
              .where('account_id', '=', user.accountId)
              .executeTakeFirstOrThrow()
          ).n,
        );
      assert.equal(await count('group_members'), 0);
      assert.equal(await count('api_tokens'), 0);
      assert.equal(await count('properties'), 0);
      assert.deepEqual(
        await fx.store.db
          .selectFrom('properties')
          .select('key')
          .where('account_id', '=', USERS.noah.accountId)
          .execute(),
        noahBefore,
      );

      assertConfluenceError(await call('GET', `/users/${user.accountId}`), 404, /No user with accountId/);
      assertConfluenceError(await call('DELETE', `/users/${user.accountId}`), 404, /No user with accountId/);
      fx.clock.pastCacheLifetime();
      assertConfluenceError(await ownProperties(user.accountId, user.auth), 401, /email or API token is not valid/);
      // The email is free again.
      assert.equal((await call('POST', '/users', { email: user.email, displayName: 'Again' })).statusCode, 201);
    });

    test("DELETE /users/{accountId}: 400, 404, and 409 for an app's bot user", async () => {
      assertConfluenceError(await call('DELETE', '/users/bad%20id'), 400, /not a well-formed accountId/);
      assertConfluenceError(await call('DELETE', '/users/712020:nobody'), 404, /No user with accountId 712020:nobody/);
      assertConfluenceError(
        await call('DELETE', '/users/557058:notes-bot'),
        409,
        /is the bot user of app com\.example\.notes: delete the app instead/,
      );
      assert.equal((await call('GET', '/users/557058:notes-bot')).statusCode, 200);
    });

    test('405 with Allow for methods a users route does not serve', async () => {
      const put = await call('PUT', '/users/712020:mia', {});
      assertConfluenceError(put, 405, /Method PUT is not allowed/);
      assert.equal(put.headers.allow, 'DELETE, GET, HEAD, PATCH');
      assert.equal((await call('DELETE', '/users')).headers.allow, 'GET, HEAD, POST');
    });
  });

  describe(`admin API: the last active admin on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());
    const call = adminCaller(() => fx);
    const ADMIN = USERS.admin.accountId;

    test('cannot be deactivated, deleted or removed from the admin group; once another admin exists, can', async () => {
      assertConfluenceError(
        await call('PATCH', `/users/${ADMIN}`, { active: false }),
        409,
        /^Deactivating user 712020:admin would leave the site without an active admin \(an active member of confluence-admins\)/,
      );
      assertConfluenceError(
        await call('DELETE', `/users/${ADMIN}`),
        409,
        /Deleting user 712020:admin would leave the site without an active admin/,
      );
      assertConfluenceError(
        await call('DELETE', `/groups/confluence-admins/members/${ADMIN}`),
        409,
        /Removing user 712020:admin from group "confluence-admins" would leave the site without an active admin/,
      );
      assertConfluenceError(
        await call('PATCH', '/site', { adminGroups: ['confluence-users-not-admins'] }),
        409,
        /would leave the site without an active admin/,
      );
      // Nothing of the refused changes was kept.
      const admin = (await call('GET', `/users/${ADMIN}`)).json();
      assert.equal(admin.active, true);
      assert.deepEqual(admin.groups, ['confluence-admins']);
      assert.deepEqual((await call('GET', '/site')).json().adminGroups, ['confluence-admins']);
      // A deactivated member does not count as an admin.
      assert.equal((await call('PUT', `/groups/confluence-admins/members/${USERS.gone.accountId}`)).statusCode, 204);
      assertConfluenceError(await call('PATCH', `/users/${ADMIN}`, { active: false }), 409, /without an active admin/);

      // Other changes to the last admin are fine.
      assert.equal((await call('PATCH', `/users/${ADMIN}`, { displayName: 'Still Admin' })).statusCode, 200);
      assert.equal((await call('PUT', `/groups/confluence-admins/members/${USERS.noah.accountId}`)).statusCode, 204);
      const deactivated = await call('PATCH', `/users/${ADMIN}`, { active: false });
      assert.equal(deactivated.statusCode, 200, deactivated.body);
      assertConfluenceError(
        await call('DELETE', `/users/${USERS.noah.accountId}`, undefined, basic('noah')),
        409,
        /Deleting user 712020:noah would leave the site without an active admin/,
      );
    });
  });
}
