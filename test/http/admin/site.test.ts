/** Contract tests for /admin/api/site (docs/behaviour.md §2, §9), on both stores. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminCaller, UUID } from '../../helpers/admin.ts';
import { basic, type Fixture, startFixture, USERS } from '../../helpers/fixture.ts';
import { assertConfluenceError } from '../../helpers/security.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`admin API: site on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());
    const call = adminCaller(() => fx);

    test('GET /site: the cloudId, base URLs and every setting', async () => {
      const response = await call('GET', '/site');
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.match(body.cloudId, UUID);
      assert.deepEqual(body, {
        cloudId: body.cloudId,
        baseUrl: 'http://userplane.test',
        effectiveBaseUrl: 'http://userplane.test',
        anonymousAccess: false,
        emailApi: 'enabled',
        xsrfCheck: true,
        canUseGroups: ['confluence-users', 'confluence-admins'],
        adminGroups: ['confluence-admins'],
        maxPropertyKeyLength: 255,
        maxPropertyValueBytes: 32768,
        maxPropertiesPerUser: 100,
        oauthTokenLifetimeSeconds: 3600,
        failedCredentialsPerIdentity: 10,
        failedCredentialsPerAddress: 100,
        journalSize: 1000,
        rateLimits: 'off',
      });
    });

    test('PATCH /site: changes only the settings given, and takes effect at once on this instance', async () => {
      const before = (await call('GET', '/site')).json();
      const response = await call('PATCH', '/site', {
        anonymousAccess: true,
        maxPropertiesPerUser: 7,
        baseUrl: 'https://wiki.example.com/',
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), {
        ...before,
        anonymousAccess: true,
        maxPropertiesPerUser: 7,
        baseUrl: 'https://wiki.example.com',
        effectiveBaseUrl: 'https://wiki.example.com',
      });
      assert.deepEqual((await call('GET', '/site')).json(), response.json());

      // Links use the new base URL.
      const url = `/wiki/rest/api/user/${USERS.mia.accountId}/property/site-test`;
      const created = await fx.app.inject({
        method: 'POST',
        url,
        headers: { ...basic('mia'), 'content-type': 'application/json' },
        payload: '{"value":{}}',
      });
      assert.equal(created.statusCode, 201);
      assert.equal(created.json()._links.base, 'https://wiki.example.com/wiki');

      const restored = await call('PATCH', '/site', {
        anonymousAccess: false,
        maxPropertiesPerUser: 100,
        baseUrl: 'http://userplane.test',
      });
      assert.deepEqual(restored.json(), before);
    });

    test('PATCH /site: groups named in canUseGroups or adminGroups are created when absent; duplicates are dropped', async () => {
      const response = await call('PATCH', '/site', {
        canUseGroups: ['confluence-users', 'confluence-admins', 'guests', 'guests'],
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json().canUseGroups, ['confluence-users', 'confluence-admins', 'guests']);
      const groups = (await call('GET', '/groups')).json().results.map((g: { name: string }) => g.name);
      assert.ok(groups.includes('guests'));
      assert.equal(
        (await call('PATCH', '/site', { canUseGroups: ['confluence-users', 'confluence-admins'] })).statusCode,
        200,
      );
    });

    test('PATCH /site: 400 naming the problem, and nothing changes', async () => {
      const before = (await call('GET', '/site')).json();
      const cases: Array<[unknown, RegExp]> = [
        [{ cloudId: '8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b' }, /request body: has unknown field cloudId/],
        [{ effectiveBaseUrl: 'http://x' }, /has unknown field effectiveBaseUrl/],
        [{ anonymousAccess: 'yes' }, /request body anonymousAccess: must be a boolean/],
        [{ emailApi: 'off' }, /request body emailApi/],
        [{ maxPropertyKeyLength: 256 }, /request body maxPropertyKeyLength/],
        [{ maxPropertiesPerUser: 0 }, /request body maxPropertiesPerUser/],
        [{ maxPropertiesPerUser: 1.5 }, /request body maxPropertiesPerUser: must be an integer/],
        [{ baseUrl: 'wiki.example.com' }, /baseUrl "wiki\.example\.com" must be an http:\/\/ or https:\/\/ URL/],
        [{ baseUrl: 'https://wiki.example.com/?x=1' }, /must be an http:\/\/ or https:\/\/ URL with no query/],
        [{ adminGroups: [] }, /adminGroups must name at least one group/],
        [{ canUseGroups: [] }, /canUseGroups must name at least one group/],
        [{ canUseGroups: ['ok', ' bad'] }, /canUseGroups\[1\] " bad" starts or ends with white space/],
        [{ adminGroups: 'confluence-admins' }, /request body adminGroups: must be an array/],
        [[], /request body: must be an object/],
      ];
      for (const [body, pattern] of cases) assertConfluenceError(await call('PATCH', '/site', body), 400, pattern);
      assert.deepEqual((await call('GET', '/site')).json(), before);
    });

    test('PATCH /site: 409 when adminGroups would leave no active admin, and nothing changes', async () => {
      assertConfluenceError(
        await call('PATCH', '/site', { adminGroups: ['brand-new-group'] }),
        409,
        /This change of adminGroups would leave the site without an active admin \(an active member of brand-new-group\)/,
      );
      const site = (await call('GET', '/site')).json();
      assert.deepEqual(site.adminGroups, ['confluence-admins']);
      assert.ok(
        !(await call('GET', '/groups')).json().results.some((g: { name: string }) => g.name === 'brand-new-group'),
        'the refused change created no group',
      );
      // Naming a group that has an active member works.
      const qa = await call('PATCH', '/site', { adminGroups: ['confluence-admins', 'qa'] });
      assert.equal(qa.statusCode, 200);
      assert.equal((await call('PATCH', '/site', { adminGroups: ['confluence-admins'] })).statusCode, 200);
    });
  });
}
