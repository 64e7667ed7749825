/** Contract tests for /admin/api/groups and memberships (docs/behaviour.md §2, §9), on both stores. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminCaller, UUID } from '../../helpers/admin.ts';
import { basic, type Fixture, startFixture, USERS } from '../../helpers/fixture.ts';
import { assertConfluenceError } from '../../helpers/security.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

const names = (body: { results: Array<{ name: string }> }) => body.results.map((g) => g.name);

for (const kind of STORE_KINDS) {
  describe(`admin API: groups on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());
    const call = adminCaller(() => fx);

    test('GET /groups: every group, by name in code-point order', async () => {
      for (const name of ['beta', 'Zeta', 'alpha', 'Ärger', '_under'])
        assert.equal((await call('POST', '/groups', { name })).statusCode, 201);
      const response = await call('GET', '/groups');
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.deepEqual(Object.keys(body).sort(), ['limit', 'results', 'size', 'start']);
      assert.deepEqual(names(body), [
        'Zeta',
        '_under',
        'alpha',
        'beta',
        'confluence-admins',
        'confluence-users',
        'qa',
        'Ärger',
      ]);
      for (const group of body.results) {
        assert.deepEqual(Object.keys(group).sort(), ['id', 'name']);
        assert.match(group.id, UUID);
      }
      const page = await call('GET', '/groups?start=2&limit=3');
      assert.deepEqual(page.json(), { results: body.results.slice(2, 5), start: 2, limit: 3, size: 3 });
      assert.equal((await call('GET', '/groups?limit=99999')).json().limit, 1000);
      assertConfluenceError(await call('GET', '/groups?start=x'), 400, /query parameter start/);
    });

    test('POST /groups: 201 with a Location; 400 for bad names; 409 for a taken one', async () => {
      const created = await call('POST', '/groups', { name: 'team space' });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.headers.location, '/admin/api/groups/team%20space');
      assert.deepEqual(Object.keys(created.json()).sort(), ['id', 'name']);
      assert.equal(created.json().name, 'team space');

      assertConfluenceError(
        await call('POST', '/groups', { name: 'team space' }),
        409,
        /A group named "team space" already exists/,
      );
      assertConfluenceError(
        await call('POST', '/groups', { name: '' }),
        400,
        /group name must be 1 to 255 characters long/,
      );
      assertConfluenceError(
        await call('POST', '/groups', { name: 'x'.repeat(256) }),
        400,
        /group name must be 1 to 255 characters long/,
      );
      assertConfluenceError(await call('POST', '/groups', { name: 'tab\there' }), 400, /contains a control character/);
      assertConfluenceError(await call('POST', '/groups', { name: ' padded' }), 400, /starts or ends with white space/);
      assertConfluenceError(await call('POST', '/groups', {}), 400, /request body: is missing name/);
      assertConfluenceError(await call('POST', '/groups', { name: 'ok', id: 'mine' }), 400, /has unknown field id/);
      assertConfluenceError(await call('POST', '/groups', { name: 7 }), 400, /request body name: must be a string/);
      assert.ok(!names((await call('GET', '/groups')).json()).includes('ok'));
    });

    test('members: PUT adds (idempotently), GET lists, DELETE removes (idempotently)', async () => {
      assert.equal((await call('POST', '/groups', { name: 'crew' })).statusCode, 201);
      for (let i = 0; i < 2; i++) {
        const put = await call('PUT', `/groups/crew/members/${USERS.mia.accountId}`);
        assert.equal(put.statusCode, 204, put.body);
        assert.equal(put.body, '');
      }
      assert.equal(
        (await call('PUT', `/groups/crew/members/${USERS.gone.accountId}`)).statusCode,
        204,
        'deactivated users may be members',
      );
      const labelled = await fx.app.inject({
        method: 'PUT',
        url: `/admin/api/groups/crew/members/${USERS.noah.accountId}`,
        headers: { ...basic('admin'), 'content-type': 'application/json' },
      });
      assert.equal(labelled.statusCode, 204, 'an empty body labelled JSON is no body');
      assert.equal((await call('DELETE', `/groups/crew/members/${USERS.noah.accountId}`)).statusCode, 204);
      const members = await call('GET', '/groups/crew/members');
      assert.equal(members.statusCode, 200);
      assert.deepEqual(
        members.json().results.map((u: { accountId: string }) => u.accountId),
        [USERS.gone.accountId, USERS.mia.accountId],
      );
      assert.deepEqual(members.json().results[1].groups, ['confluence-users', 'crew']);
      assert.deepEqual((await call('GET', `/users/${USERS.mia.accountId}`)).json().groups, [
        'confluence-users',
        'crew',
      ]);

      for (let i = 0; i < 2; i++)
        assert.equal((await call('DELETE', `/groups/crew/members/${USERS.mia.accountId}`)).statusCode, 204);
      assert.deepEqual(
        (await call('GET', '/groups/crew/members')).json().results.map((u: { accountId: string }) => u.accountId),
        [USERS.gone.accountId],
      );
      assert.deepEqual((await call('GET', `/users/${USERS.mia.accountId}`)).json().groups, ['confluence-users']);
    });

    test('members: 400, 404 and 409', async () => {
      assertConfluenceError(await call('PUT', '/groups/qa/members/bad%20id'), 400, /not a well-formed accountId/);
      assertConfluenceError(
        await call('PUT', '/groups/%20qa/members/712020:mia'),
        400,
        /starts or ends with white space/,
      );
      assertConfluenceError(
        await call('PUT', '/groups/no-such-group/members/712020:mia'),
        404,
        /No group named "no-such-group"/,
      );
      assertConfluenceError(
        await call('PUT', '/groups/qa/members/712020:nobody'),
        404,
        /No user with accountId 712020:nobody/,
      );
      assertConfluenceError(
        await call('PUT', '/groups/qa/members/557058:notes-bot'),
        409,
        /is an app's bot user, which belongs to no groups/,
      );
      assertConfluenceError(await call('DELETE', '/groups/qa/members/bad%20id'), 400, /not a well-formed accountId/);
      assertConfluenceError(await call('DELETE', '/groups/no-such-group/members/712020:mia'), 404, /No group named/);
      assertConfluenceError(await call('DELETE', '/groups/qa/members/712020:nobody'), 404, /No user with accountId/);
      assertConfluenceError(await call('GET', '/groups/no-such-group/members'), 404, /No group named "no-such-group"/);
      const wrong = await call('GET', '/groups/qa/members/712020:mia');
      assertConfluenceError(wrong, 405, /Method GET is not allowed/);
      assert.equal(wrong.headers.allow, 'DELETE, PUT');
    });

    test('membership decides who may use the site and who is an admin', async () => {
      const url = `/wiki/rest/api/user/${USERS.outsider.accountId}/property`;
      assertConfluenceError(
        await fx.app.inject({ method: 'GET', url, headers: basic('outsider') }),
        403,
        /may not use this site/,
      );
      assertConfluenceError(await call('GET', '/site', undefined, basic('outsider')), 403, /Only site admins/);
      assert.equal(
        (await call('PUT', `/groups/confluence-admins/members/${USERS.outsider.accountId}`)).statusCode,
        204,
      );
      fx.clock.pastCacheLifetime();
      assert.equal((await fx.app.inject({ method: 'GET', url, headers: basic('outsider') })).statusCode, 200);
      assert.equal((await call('GET', '/site', undefined, basic('outsider'))).statusCode, 200);
      assert.equal(
        (await call('DELETE', `/groups/confluence-admins/members/${USERS.outsider.accountId}`)).statusCode,
        204,
      );
      fx.clock.pastCacheLifetime();
      assertConfluenceError(await call('GET', '/site', undefined, basic('outsider')), 403, /Only site admins/);
    });

    test('DELETE /groups/{name}: 204 and the memberships go; 404; 409 while the site names it', async () => {
      assert.equal((await call('POST', '/groups', { name: 'doomed' })).statusCode, 201);
      assert.equal((await call('PUT', `/groups/doomed/members/${USERS.noah.accountId}`)).statusCode, 204);
      const deleted = await call('DELETE', '/groups/doomed');
      assert.equal(deleted.statusCode, 204);
      assert.equal(deleted.body, '');
      assert.ok(!names((await call('GET', '/groups')).json()).includes('doomed'));
      assert.deepEqual((await call('GET', `/users/${USERS.noah.accountId}`)).json().groups, ['confluence-users']);
      assertConfluenceError(await call('DELETE', '/groups/doomed'), 404, /No group named "doomed"/);
      assertConfluenceError(await call('DELETE', '/groups/%01'), 400, /contains a control character/);
      assertConfluenceError(
        await call('DELETE', '/groups/confluence-admins'),
        409,
        /Group "confluence-admins" is named in the site's adminGroups: change the site settings before deleting it/,
      );
      assertConfluenceError(
        await call('DELETE', '/groups/confluence-users'),
        409,
        /is named in the site's canUseGroups/,
      );
      // A group named again after deletion is a new group.
      const again = await call('POST', '/groups', { name: 'doomed' });
      assert.equal(again.statusCode, 201);
      assert.deepEqual((await call('GET', '/groups/doomed/members')).json().results, []);
    });
  });
}
