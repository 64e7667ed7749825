/**
 * Contract tests for /admin/api/spaces and /admin/api/content (docs/behaviour.md §2, §9),
 * on both stores: shapes, defaults, every 400/404/409, cascades, and the
 * `personalSpace` expansion of the user directory that personal spaces feed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminCaller } from '../../helpers/admin.ts';
import { APPS, basic, type Fixture, loadWatchFixture, startFixture, USERS } from '../../helpers/fixture.ts';
import { assertConfluenceError } from '../../helpers/security.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

const MIA = USERS.mia.accountId;
const NOAH = USERS.noah.accountId;
const SPACE_KEYS = ['id', 'key', 'name', 'owner', 'type', 'view'];
const CONTENT_KEYS = ['id', 'labels', 'restricted', 'restrictions', 'space', 'title', 'type'];

for (const kind of STORE_KINDS) {
  describe(`admin API: spaces and content on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
      await loadWatchFixture(fx);
    });
    after(() => fx.close());
    const call = adminCaller(() => fx);

    let counter = 0;
    const freshKey = () => `NEW${++counter}`;
    // Multiples of 1000, so a generated id (one past the largest) never takes a later fresh one.
    const freshId = () => String(10_000_000 + ++counter * 1000);

    describe('spaces', () => {
      test('GET /spaces and /spaces/{key}: by key in code-point order, with view permissions', async () => {
        const list = await call('GET', '/spaces');
        assert.equal(list.statusCode, 200);
        const body = list.json();
        assert.deepEqual(Object.keys(body).sort(), ['limit', 'results', 'size', 'start']);
        const keys = body.results.map((s: { key: string }) => s.key);
        assert.deepEqual(keys.slice(0, 5), ['ENG', 'PUB', 'QA', 'SEC', '~mia']);
        for (const space of body.results) assert.deepEqual(Object.keys(space).sort(), SPACE_KEYS);

        const eng = await call('GET', '/spaces/ENG');
        assert.equal(eng.statusCode, 200);
        assert.deepEqual(
          { ...(eng.json() as object), id: 0 },
          {
            id: 0,
            key: 'ENG',
            name: 'Engineering',
            type: 'global',
            owner: null,
            view: { groups: ['confluence-users'], users: [], anonymous: false },
          },
        );
        assert.equal(typeof eng.json().id, 'number');
        const mine = (await call('GET', '/spaces/~mia')).json();
        assert.deepEqual(
          [mine.type, mine.owner, mine.view],
          ['personal', MIA, { groups: [], users: [], anonymous: false }],
        );

        assert.deepEqual((await call('GET', '/spaces?start=1&limit=2')).json(), {
          results: body.results.slice(1, 3),
          start: 1,
          limit: 2,
          size: 2,
        });
        assert.deepEqual((await call('GET', '/spaces?limit=0')).json(), { results: [], start: 0, limit: 0, size: 0 });
        assertConfluenceError(await call('GET', '/spaces?limit=-1'), 400, /limit/);
        assertConfluenceError(await call('GET', '/spaces/NOPE'), 404, /^No space with key NOPE$/);
        assertConfluenceError(await call('GET', '/spaces/bad-key'), 400, /^key "bad-key" is not a valid space key/);
      });

      test('POST /spaces: 201 with Location; defaults: global, viewed by nobody', async () => {
        const key = freshKey();
        const created = await call('POST', '/spaces', { key, name: 'New space' });
        assert.equal(created.statusCode, 201, created.body);
        assert.equal(created.headers.location, `/admin/api/spaces/${key}`);
        assert.deepEqual(
          { ...(created.json() as object), id: 0 },
          {
            id: 0,
            key,
            name: 'New space',
            type: 'global',
            owner: null,
            view: { groups: [], users: [], anonymous: false },
          },
        );
        assert.deepEqual((await call('GET', `/spaces/${key}`)).json(), created.json());

        const full = freshKey();
        const withView = await call('POST', '/spaces', {
          key: full,
          name: 'Full',
          view: { groups: ['qa', 'confluence-users', 'qa'], users: [NOAH, MIA], anonymous: true },
        });
        assert.equal(withView.statusCode, 201, withView.body);
        assert.deepEqual(withView.json().view, {
          groups: ['confluence-users', 'qa'],
          users: [MIA, NOAH],
          anonymous: true,
        });
      });

      test('POST /spaces: personal spaces have exactly one owner, who owns no other', async () => {
        const created = await call('POST', '/users', { email: `owner-${++counter}@example.com`, displayName: 'Owner' });
        const owner = created.json().accountId as string;
        const key = `~owner${counter}`;
        const personal = await call('POST', '/spaces', { key, name: 'Owner', type: 'personal', owner });
        assert.equal(personal.statusCode, 201, personal.body);
        assert.deepEqual([personal.json().type, personal.json().owner], ['personal', owner]);
        assertConfluenceError(
          await call('POST', '/spaces', { key: `${key}x`, name: 'Second', type: 'personal', owner }),
          409,
          new RegExp(`already owns the personal space ${key}`),
        );
        assertConfluenceError(
          await call('POST', '/spaces', { key: freshKey(), name: 'No owner', type: 'personal' }),
          400,
          /^owner is required: a personal space has an owner$/,
        );
        assertConfluenceError(
          await call('POST', '/spaces', { key: freshKey(), name: 'Global', owner }),
          400,
          /^owner: only a personal space has an owner$/,
        );
        assertConfluenceError(
          await call('POST', '/spaces', { key: freshKey(), name: 'Ghost', type: 'personal', owner: '712020:nobody' }),
          400,
          /^owner: no user with accountId 712020:nobody$/,
        );
        assertConfluenceError(
          await call('POST', '/spaces', {
            key: freshKey(),
            name: 'Bot',
            type: 'personal',
            owner: APPS.notes.accountId,
          }),
          400,
          /app's bot user/,
        );
        assertConfluenceError(
          await call('POST', '/spaces', { key: freshKey(), name: 'Bad', type: 'personal', owner: 'bad id' }),
          400,
          /^owner "bad id" is not a well-formed accountId/,
        );
      });

      test('POST /spaces: 400 for bad fields, 409 for a taken key; nothing is half-written', async () => {
        const before = (await call('GET', '/spaces?limit=1000')).json().size;
        const cases: Array<[unknown, RegExp]> = [
          [{ name: 'No key' }, /request body: is missing key/],
          [{ key: 'A B', name: 'x' }, /^key "A B" is not a valid space key/],
          [{ key: 'A-B', name: 'x' }, /is not a valid space key/],
          [{ key: 'X'.repeat(256), name: 'x' }, /is not a valid space key/],
          [{ key: freshKey(), name: '  ' }, /^name must not be blank$/],
          [{ key: freshKey(), name: 'x'.repeat(256) }, /^name must be at most 255 characters long$/],
          [{ key: freshKey(), name: 'a\u0007b' }, /^name must not contain control characters$/],
          [{ key: freshKey(), name: 'x', type: 'team' }, /request body type/],
          [{ key: freshKey(), name: 'x', colour: 'blue' }, /request body: has unknown field colour/],
          [
            { key: freshKey(), name: 'x', view: { groups: ['nogroup'] } },
            /^view\.groups: group "nogroup" does not exist; create it first$/,
          ],
          [
            { key: freshKey(), name: 'x', view: { users: ['712020:nobody'] } },
            /^view\.users: no user with accountId 712020:nobody$/,
          ],
          [
            { key: freshKey(), name: 'x', view: { users: ['bad id'] } },
            /^view\.users\[0\] "bad id" is not a well-formed accountId/,
          ],
          [{ key: freshKey(), name: 'x', view: { admins: [] } }, /request body view: has unknown field admins/],
          [
            { key: freshKey(), name: 'x', view: { anonymous: 'yes' } },
            /request body view\.anonymous: must be a boolean/,
          ],
        ];
        for (const [body, pattern] of cases) assertConfluenceError(await call('POST', '/spaces', body), 400, pattern);
        assertConfluenceError(
          await call('POST', '/spaces', { key: 'ENG', name: 'Again' }),
          409,
          /^A space with key ENG already exists$/,
        );
        assertConfluenceError(await call('POST', '/spaces', 'not json'), 400, /not valid JSON/);
        assert.equal((await call('GET', '/spaces?limit=1000')).json().size, before, 'no space was created');
      });

      test("PATCH /spaces/{key}: name, the parts of view given, and a personal space's owner", async () => {
        const key = freshKey();
        await call('POST', '/spaces', { key, name: 'Before', view: { groups: ['qa'], users: [MIA], anonymous: true } });
        const renamed = await call('PATCH', `/spaces/${key}`, { name: 'After' });
        assert.equal(renamed.statusCode, 200, renamed.body);
        assert.deepEqual(
          [renamed.json().name, renamed.json().view],
          ['After', { groups: ['qa'], users: [MIA], anonymous: true }],
        );
        const viewed = await call('PATCH', `/spaces/${key}`, { view: { users: [NOAH] } });
        assert.deepEqual(viewed.json().view, { groups: ['qa'], users: [NOAH], anonymous: true });
        assert.deepEqual(
          (await call('PATCH', `/spaces/${key}`, { view: { groups: [], anonymous: false } })).json().view,
          { groups: [], users: [NOAH], anonymous: false },
        );
        assert.deepEqual((await call('PATCH', `/spaces/${key}`, {})).json().name, 'After');

        assertConfluenceError(
          await call('PATCH', `/spaces/${key}`, { owner: MIA }),
          400,
          new RegExp(`^owner: space ${key} is a global space, which has no owner$`),
        );
        assertConfluenceError(
          await call('PATCH', `/spaces/${key}`, { type: 'personal' }),
          400,
          /has unknown field type/,
        );
        assertConfluenceError(await call('PATCH', `/spaces/${key}`, { key: 'OTHER' }), 400, /has unknown field key/);
        assertConfluenceError(
          await call('PATCH', `/spaces/${key}`, { view: { groups: ['nogroup'] } }),
          400,
          /group "nogroup" does not exist/,
        );
        assertConfluenceError(await call('PATCH', '/spaces/NOPE', { name: 'x' }), 404, /^No space with key NOPE$/);
      });

      test('PATCH /spaces/{key}: handing a personal space over', async () => {
        const made = async () =>
          (await call('POST', '/users', { email: `p-${++counter}@example.com`, displayName: 'P' })).json()
            .accountId as string;
        const [first, second] = [await made(), await made()];
        const key = `~p${counter}`;
        assert.equal(
          (await call('POST', '/spaces', { key, name: 'P', type: 'personal', owner: first })).statusCode,
          201,
        );
        const orphaned = await call('PATCH', `/spaces/${key}`, { owner: null });
        assert.equal(orphaned.statusCode, 200, orphaned.body);
        assert.equal(orphaned.json().owner, null);
        assert.equal((await call('PATCH', `/spaces/${key}`, { owner: second })).json().owner, second);
        assertConfluenceError(
          await call('PATCH', '/spaces/~mia', { owner: second }),
          409,
          new RegExp(`already owns the personal space ${key}`),
        );
        assertConfluenceError(
          await call('PATCH', `/spaces/${key}`, { owner: '712020:nobody' }),
          400,
          /no user with accountId 712020:nobody/,
        );
      });

      test('DELETE /spaces/{key}: 204, then 404; its content goes too', async () => {
        const key = freshKey();
        await call('POST', '/spaces', { key, name: 'Doomed' });
        const id = freshId();
        assert.equal((await call('POST', '/content', { id, space: key, title: 'Doomed page' })).statusCode, 201);
        const deleted = await call('DELETE', `/spaces/${key}`);
        assert.equal(deleted.statusCode, 204);
        assert.equal(deleted.body, '');
        assertConfluenceError(await call('GET', `/spaces/${key}`), 404, /No space with key/);
        assertConfluenceError(await call('DELETE', `/spaces/${key}`), 404, /No space with key/);
        assertConfluenceError(await call('GET', `/content/${id}`), 404, new RegExp(`^No content with id ${id}$`));
      });

      test('deleting a group or user leaves the view permissions that named them', async () => {
        const group = `viewers-${++counter}`;
        assert.equal((await call('POST', '/groups', { name: group })).statusCode, 201);
        const user = (
          await call('POST', '/users', { email: `viewer-${counter}@example.com`, displayName: 'Viewer' })
        ).json().accountId as string;
        const key = freshKey();
        await call('POST', '/spaces', { key, name: 'Viewed', view: { groups: [group, 'qa'], users: [user, MIA] } });
        assert.equal((await call('DELETE', `/groups/${group}`)).statusCode, 204);
        assert.equal((await call('DELETE', `/users/${encodeURIComponent(user)}`)).statusCode, 204);
        assert.deepEqual((await call('GET', `/spaces/${key}`)).json().view, {
          groups: ['qa'],
          users: [MIA],
          anonymous: false,
        });
      });
    });

    describe('content', () => {
      test('GET /content and /content/{id}: numeric id order, labels, restrictions; ?space= filters', async () => {
        const list = await call('GET', '/content?limit=1000');
        assert.equal(list.statusCode, 200);
        const ids = list.json().results.map((c: { id: string }) => c.id);
        assert.deepEqual(ids.slice(0, 8), ['1001', '1002', '1003', '1004', '2001', '3001', '4001', '5001']);
        for (const item of list.json().results) assert.deepEqual(Object.keys(item).sort(), CONTENT_KEYS);
        assert.deepEqual((await call('GET', '/content/1001')).json(), {
          id: '1001',
          type: 'page',
          title: 'Release plan',
          space: 'ENG',
          labels: ['planning', 'release'],
          restricted: false,
          restrictions: { users: [], groups: [] },
        });
        assert.deepEqual((await call('GET', '/content/1004')).json().restrictions, {
          users: [NOAH],
          groups: ['confluence-admins'],
        });
        assert.equal((await call('GET', '/content/1003')).json().type, 'blogpost');
        const sec = await call('GET', '/content?space=SEC');
        assert.deepEqual(
          sec.json().results.map((c: { id: string }) => c.id),
          ['2001'],
        );
        assertConfluenceError(await call('GET', '/content?space=NOPE'), 404, /^No space with key NOPE$/);
        assertConfluenceError(await call('GET', '/content?space=a-b'), 400, /^space "a-b" is not a valid space key/);
        assertConfluenceError(await call('GET', '/content/999999'), 404, /^No content with id 999999$/);
        assertConfluenceError(await call('GET', '/content/abc'), 400, /^id "abc" is not a content id/);
        // Numeric, not textual, order: 99 before 100.
        await call('POST', '/content', { id: '99', space: 'PUB', title: 'Ninety-nine' });
        await call('POST', '/content', { id: '100', space: 'PUB', title: 'Hundred' });
        assert.deepEqual(
          (await call('GET', '/content?space=PUB')).json().results.map((c: { id: string }) => c.id),
          ['99', '100', '3001'],
        );
      });

      test('POST /content: 201 with Location; labels lower-cased and distinct; restricted while the restriction names anyone', async () => {
        const id = freshId();
        const created = await call('POST', '/content', {
          id,
          type: 'blogpost',
          space: 'ENG',
          title: 'News',
          labels: ['Zeta', 'alpha', 'ZETA', 'Ärger'],
          restrictions: { users: [NOAH, MIA, NOAH], groups: ['qa'] },
        });
        assert.equal(created.statusCode, 201, created.body);
        assert.equal(created.headers.location, `/admin/api/content/${id}`);
        assert.deepEqual(created.json(), {
          id,
          type: 'blogpost',
          title: 'News',
          space: 'ENG',
          labels: ['alpha', 'zeta', 'ärger'],
          restricted: true,
          restrictions: { users: [MIA, NOAH], groups: ['qa'] },
        });
        const plain = await call('POST', '/content', {
          space: 'ENG',
          title: 'Plain',
          restrictions: { users: [], groups: [] },
        });
        assert.equal(plain.statusCode, 201, plain.body);
        assert.deepEqual(
          { ...(plain.json() as object), id: 'x' },
          {
            id: 'x',
            type: 'page',
            title: 'Plain',
            space: 'ENG',
            labels: [],
            restricted: false,
            restrictions: { users: [], groups: [] },
          },
        );
        // A generated id is one past the largest.
        assert.match(plain.json().id, /^\d+$/);
        const next = await call('POST', '/content', { space: 'ENG', title: 'Next' });
        assert.equal(next.json().id, String(BigInt(plain.json().id) + 1n));
      });

      test('POST /content: 400 for bad fields, 409 for a taken id; nothing is half-written', async () => {
        const before = (await call('GET', '/content?limit=1000')).json().size;
        const cases: Array<[unknown, RegExp]> = [
          [{ title: 'No space' }, /request body: is missing space/],
          [{ id: 'abc', space: 'ENG', title: 'x' }, /^id "abc" is not a content id/],
          [{ id: '1'.repeat(19), space: 'ENG', title: 'x' }, /is not a content id/],
          [{ space: 'NOPE', title: 'x' }, /^space: no space with key NOPE$/],
          [{ space: 'E-G', title: 'x' }, /^space "E-G" is not a valid space key/],
          [{ space: 'ENG', title: '' }, /^title must not be blank$/],
          [{ space: 'ENG', title: 'x', type: 'comment' }, /request body type/],
          [
            { space: 'ENG', title: 'x', labels: ['two words'] },
            /^labels\[0\] "two words" is not a valid label name: it must not contain white space/,
          ],
          [
            { space: 'ENG', title: 'x', labels: ['ok', 'a&b'] },
            /^labels\[1\] "a&b" is not a valid label name.*found "&"/,
          ],
          [{ space: 'ENG', title: 'x', labels: [''] }, /must be 1 to 255 characters long/],
          [
            { space: 'ENG', title: 'x', restrictions: { users: ['712020:nobody'] } },
            /^restrictions\.users: no user with accountId 712020:nobody$/,
          ],
          [
            { space: 'ENG', title: 'x', restrictions: { groups: ['nogroup'] } },
            /^restrictions\.groups: group "nogroup" does not exist/,
          ],
          [{ space: 'ENG', title: 'x', restrictions: { everyone: true } }, /has unknown field everyone/],
          [{ space: 'ENG', title: 'x', restricted: true }, /has unknown field restricted/],
        ];
        for (const [body, pattern] of cases) assertConfluenceError(await call('POST', '/content', body), 400, pattern);
        assertConfluenceError(
          await call('POST', '/content', { id: '1001', space: 'ENG', title: 'Again' }),
          409,
          /^Content with id 1001 already exists$/,
        );
        assert.equal((await call('GET', '/content?limit=1000')).json().size, before, 'no content was created');
      });

      test('PATCH /content/{id}: title, type, moving spaces, replacing labels, the parts of restrictions given', async () => {
        const id = freshId();
        const draft = await call('POST', '/content', {
          id,
          space: 'ENG',
          title: 'Draft',
          labels: ['one', 'two'],
          restrictions: { users: [MIA], groups: ['qa'] },
        });
        assert.equal(draft.statusCode, 201, draft.body);
        const moved = await call('PATCH', `/content/${id}`, {
          title: 'Final',
          type: 'blogpost',
          space: 'PUB',
          labels: ['Three'],
        });
        assert.equal(moved.statusCode, 200, moved.body);
        assert.deepEqual(moved.json(), {
          id,
          type: 'blogpost',
          title: 'Final',
          space: 'PUB',
          labels: ['three'],
          restricted: true,
          restrictions: { users: [MIA], groups: ['qa'] },
        });
        assert.deepEqual((await call('PATCH', `/content/${id}`, { restrictions: { users: [] } })).json().restrictions, {
          users: [],
          groups: ['qa'],
        });
        const lifted = (await call('PATCH', `/content/${id}`, { restrictions: { groups: [] } })).json();
        assert.deepEqual([lifted.restricted, lifted.restrictions], [false, { users: [], groups: [] }]);
        // Labels it no longer carries stay: they can still be watched.
        const watched = await fx.app.inject({
          method: 'GET',
          url: '/wiki/rest/api/user/watch/label/one',
          headers: basic('mia'),
        });
        assert.deepEqual(watched.json(), { watching: false });

        assertConfluenceError(await call('PATCH', `/content/${id}`, { id: '1' }), 400, /has unknown field id/);
        assertConfluenceError(
          await call('PATCH', `/content/${id}`, { space: 'NOPE' }),
          400,
          /^space: no space with key NOPE$/,
        );
        assertConfluenceError(
          await call('PATCH', `/content/${id}`, { title: 'a\u0007b' }),
          400,
          /^title must not contain control characters$/,
        );
        assertConfluenceError(
          await call('PATCH', `/content/${id}`, { labels: ['a b'] }),
          400,
          /not a valid label name/,
        );
        assertConfluenceError(
          await call('PATCH', '/content/999999', { title: 'x' }),
          404,
          /^No content with id 999999$/,
        );
        assertConfluenceError(await call('PATCH', '/content/x1', { title: 'x' }), 400, /^id "x1" is not a content id/);
      });

      test('DELETE /content/{id}: 204, then 404; its labels stay', async () => {
        const id = freshId();
        const label = `only-${counter}`;
        assert.equal(
          (await call('POST', '/content', { id, space: 'ENG', title: 'Doomed', labels: [label] })).statusCode,
          201,
        );
        const deleted = await call('DELETE', `/content/${id}`);
        assert.equal(deleted.statusCode, 204);
        assert.equal(deleted.body, '');
        assertConfluenceError(await call('DELETE', `/content/${id}`), 404, /No content with id/);
        const watched = await fx.app.inject({
          method: 'GET',
          url: `/wiki/rest/api/user/watch/label/${label}`,
          headers: basic('mia'),
        });
        assert.equal(watched.statusCode, 200, 'the label still exists');
      });

      test('only site admins: 401 anonymous, 403 users and apps', async () => {
        for (const path of ['/spaces', '/content', '/spaces/ENG', '/content/1001']) {
          assertConfluenceError(
            await call('GET', path, undefined, {}),
            401,
            /the administration API is for site admins/,
          );
          assertConfluenceError(
            await call('GET', path, undefined, basic('mia')),
            403,
            /^Only site admins may use the administration API$/,
          );
        }
      });
    });

    describe('the personalSpace expansion of the user directory', () => {
      test("a user's personal space appears in /user?expand=personalSpace; a user without one has none", async () => {
        const response = await fx.app.inject({
          method: 'GET',
          url: `/wiki/rest/api/user?accountId=${MIA}&expand=personalSpace`,
          headers: basic('noah'),
        });
        assert.equal(response.statusCode, 200, response.body);
        const body = response.json();
        const id = (await call('GET', '/spaces/~mia')).json().id;
        assert.deepEqual(body.personalSpace, {
          id,
          key: '~mia',
          name: 'Mia Krystof',
          type: 'personal',
          status: 'current',
          _expandable: {},
          _links: {
            base: 'http://userplane.test/wiki',
            context: '/wiki',
            self: 'http://userplane.test/wiki/rest/api/space/~mia',
          },
        });
        assert.equal('personalSpace' in body._expandable, false);
        const noah = (
          await fx.app.inject({
            method: 'GET',
            url: `/wiki/rest/api/user?accountId=${NOAH}&expand=personalSpace`,
            headers: basic('noah'),
          })
        ).json();
        assert.equal('personalSpace' in noah, false);
        // Not expanded: only named in _expandable.
        const plain = (
          await fx.app.inject({ method: 'GET', url: `/wiki/rest/api/user?accountId=${MIA}`, headers: basic('noah') })
        ).json();
        assert.equal('personalSpace' in plain, false);
        assert.equal(plain._expandable.personalSpace, '');
        // Also in /user/current and /user/bulk.
        const current = (
          await fx.app.inject({
            method: 'GET',
            url: '/wiki/rest/api/user/current?expand=personalSpace',
            headers: basic('mia'),
          })
        ).json();
        assert.equal(current.personalSpace.key, '~mia');
        const bulk = (
          await fx.app.inject({
            method: 'GET',
            url: `/wiki/rest/api/user/bulk?accountId=${NOAH},${MIA}&expand=personalSpace`,
            headers: basic('noah'),
          })
        ).json();
        assert.deepEqual(
          bulk.results.map((u: { personalSpace?: { key: string } }) => u.personalSpace?.key),
          [undefined, '~mia'],
        );
      });

      test("a space handed to another owner moves with it; a global space is nobody's", async () => {
        const owner = (
          await call('POST', '/users', {
            email: `mover-${++counter}@example.com`,
            displayName: 'Mover',
            groups: ['confluence-users'],
          })
        ).json().accountId as string;
        const key = `~mover${counter}`;
        await call('POST', '/spaces', { key, name: 'Mover', type: 'personal', owner });
        const expanded = async (accountId: string) =>
          (
            await fx.app.inject({
              method: 'GET',
              url: `/wiki/rest/api/user?accountId=${accountId}&expand=personalSpace`,
              headers: basic('noah'),
            })
          ).json().personalSpace;
        assert.equal((await expanded(owner)).key, key);
        await call('PATCH', `/spaces/${key}`, { owner: null });
        assert.equal(await expanded(owner), undefined);
      });
    });
  });
}
