/** Contract tests for Confluence user properties (docs/behaviour.md §5), on both stores. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Compile } from 'typebox/compile';
import { BODY_LIMIT_BYTES } from '../../../src/http/json-body.ts';
import { UserPropertyKeyArraySchema, UserPropertySchema } from '../../../src/schemas/user-properties.ts';
import { connectJwt } from '../../helpers/credentials.ts';
import { APPS, basic, type Fixture, startFixture } from '../../helpers/fixture.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

const MIA = '712020:mia';
const path = (user: string, key?: string) =>
  `/wiki/rest/api/user/${user}/property${key === undefined ? '' : `/${key}`}`;
const json = { 'content-type': 'application/json' };

for (const kind of STORE_KINDS) {
  describe(`Confluence user properties on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind, { maxPropertiesPerUser: 30 });
    });
    after(() => fx.close());

    const send = (method: string, url: string, body?: unknown, headers: Record<string, string> = basic('mia')) =>
      fx.app.inject({
        method: method as 'GET',
        url,
        headers: { ...json, ...headers },
        payload: body === undefined ? undefined : JSON.stringify(body),
      });
    const get = (url: string, headers: Record<string, string> = basic('mia')) =>
      fx.app.inject({ method: 'GET', url, headers });

    function assertConfluenceError(
      response: { statusCode: number; json(): any; headers: Record<string, unknown> },
      status: number,
      pattern: RegExp,
    ) {
      assert.equal(response.statusCode, status);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const body = response.json();
      assert.equal(body.statusCode, status);
      assert.equal(body.data.successful, false);
      assert.equal(body.data.authorized, status !== 401 && status !== 403);
      assert.equal(body.data.valid, status !== 400);
      assert.match(body.message, pattern);
      assert.equal(body.data.errors[0].message.translation, body.message);
      assert.deepEqual(body.data.errors[0].message.args, []);
    }

    test('create, read, list, update and delete', async () => {
      const created = await send('POST', path(MIA, 'crud'), { value: { dark: true, n: [1, 2] } });
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers.etag, '"1"');
      const body = created.json();
      assert.deepEqual(Object.keys(body).sort(), ['_links', 'createdDate', 'id', 'key', 'lastModifiedDate', 'value']);
      assert.equal(body.key, 'crud');
      assert.deepEqual(body.value, { dark: true, n: [1, 2] });
      assert.equal(typeof body.id, 'string');
      assert.match(body.createdDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(body._links, {
        base: 'http://userplane.test/wiki',
        context: '/wiki',
        self: 'http://userplane.test/wiki/rest/api/user/712020%3Amia/property/crud',
      });

      const read = await get(path(MIA, 'crud'));
      assert.equal(read.statusCode, 200);
      assert.equal(read.headers.etag, '"1"');
      assert.deepEqual(read.json(), body);
      assert.equal('version' in read.json(), false);

      const updated = await send('PUT', path(MIA, 'crud'), { value: { dark: false } });
      assert.equal(updated.statusCode, 204);
      assert.equal(updated.body, '');
      assert.equal(updated.headers.etag, '"2"');
      const reread = await get(path(MIA, 'crud'));
      assert.deepEqual(reread.json().value, { dark: false });
      assert.equal(reread.json().createdDate, body.createdDate);
      assert.equal(reread.json().id, body.id);
      assert.ok(reread.json().lastModifiedDate >= body.lastModifiedDate);

      const list = await get(path(MIA));
      assert.equal(list.statusCode, 200);
      assert.ok(list.json().results.some((r: { key: string }) => r.key === 'crud'));

      const deleted = await send('DELETE', path(MIA, 'crud'), undefined);
      assert.equal(deleted.statusCode, 204);
      assert.equal(deleted.body, '');
      assertConfluenceError(await get(path(MIA, 'crud')), 404, /Property "crud" does not exist/);
      assertConfluenceError(await send('DELETE', path(MIA, 'crud')), 404, /does not exist/);
    });

    test('the /rest/api alias serves the same properties', async () => {
      assert.equal((await send('POST', `/rest/api/user/${MIA}/property/alias`, { value: {} })).statusCode, 201);
      const read = await get(`/wiki/rest/api/user/${MIA}/property/alias`);
      assert.equal(read.statusCode, 200);
      assert.deepEqual(read.json().value, {});
    });

    test('values keep their key order and unknown top-level fields are ignored', async () => {
      const value = { z: 1, a: { y: 'ü', b: null }, m: [3, 1, 2] };
      const created = await send('POST', path(MIA, 'order'), { value, extra: 'ignored' });
      assert.equal(created.statusCode, 201);
      const read = await get(path(MIA, 'order'));
      assert.equal(JSON.stringify(read.json().value), JSON.stringify(value));
    });

    test('a property body is compact JSON in the order of UserPropertySchema, the value as it was sent', async () => {
      // Integer-like keys, escapes, a lone surrogate, -0 and 1e21: the stored value is embedded as stored (http/confluence/user-properties.ts).
      const value = { z: { '2': 'two', '1': ['tab\t', '\u2028', '\ud800', '"q"'] }, n: [-0, 1e21, 0.1], '': {} };
      const created = await send('POST', path(MIA, 'bytes'), { value });
      const read = await get(path(MIA, 'bytes'));
      for (const response of [created, read]) {
        assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
        const body: Record<string, unknown> = response.json();
        assert.equal(Compile(UserPropertySchema).Check(body), true);
        const inSchemaOrder = Object.fromEntries(
          Object.keys(UserPropertySchema.properties).map((field) => [field, body[field]]),
        );
        assert.equal(response.body, JSON.stringify(inSchemaOrder));
        assert.equal(JSON.stringify(body.value), JSON.stringify(value));
      }
    });

    test('list: keys in code-point order, paging with _links.next, clamping', async () => {
      const user = '712020:noah';
      const keys = ['b', 'B', '_x', '-y', 'a1', 'a', 'Z9', '0'];
      for (const key of keys)
        assert.equal((await send('POST', path(user, key), { value: {} }, basic('noah'))).statusCode, 201);
      const sorted = [...keys].sort();

      const first = await get(path(user), basic('noah'));
      assert.equal(first.statusCode, 200);
      const page = first.json();
      assert.deepEqual(
        page.results,
        sorted.slice(0, 5).map((key) => ({ key })),
      );
      assert.equal(page.start, 0);
      assert.equal(page.limit, 5);
      assert.equal(page.size, 5);
      assert.equal(page._links.next, '/rest/api/user/712020%3Anoah/property?start=5&limit=5');
      assert.equal(page._links.base, 'http://userplane.test/wiki');

      const second = await get(`${path(user)}?start=5&limit=5`, basic('noah'));
      assert.deepEqual(
        second.json().results,
        sorted.slice(5).map((key) => ({ key })),
      );
      assert.equal(second.json().size, 3);
      assert.equal(second.json()._links.next, undefined);

      const clamped = await get(`${path(user)}?limit=1000`, basic('noah'));
      assert.equal(clamped.json().limit, 25);
      assert.equal(clamped.json().size, keys.length);

      const empty = await get(`${path(user)}?limit=0`, basic('noah'));
      assert.deepEqual(empty.json().results, []);
      assert.equal(empty.json().size, 0);
      assert.equal(empty.json()._links.next, undefined);

      const other = await get(`${path(user)}?limit=2&start=2&expand=x`, basic('noah'));
      assert.deepEqual(
        other.json().results,
        sorted.slice(2, 4).map((key) => ({ key })),
      );
      assert.equal(other.json()._links.next, '/rest/api/user/712020%3Anoah/property?limit=2&start=4&expand=x');

      assertConfluenceError(await get(`${path(user)}?start=-1`, basic('noah')), 400, /start/);
      assertConfluenceError(await get(`${path(user)}?limit=abc`, basic('noah')), 400, /limit/);
      assertConfluenceError(await get(`${path(user)}?limit=1.5`, basic('noah')), 400, /limit/);
    });

    test('a list body is compact JSON in the order of UserPropertyKeyArraySchema, with or without a next page', async () => {
      const user = '712020:noah';
      for (const key of ['list-order-a', 'list-order-b', 'list-order-c'])
        assert.equal((await send('POST', path(user, key), { value: {} }, basic('noah'))).statusCode, 201);
      for (const query of ['?limit=1&start=1', '?limit=25', '?start=1000']) {
        const response = await get(`${path(user)}${query}`, basic('noah'));
        assert.equal(response.statusCode, 200);
        assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
        const body: Record<string, unknown> = response.json();
        assert.equal(Compile(UserPropertyKeyArraySchema).Check(body), true);
        // The body as the schema's serializer writes it: the schema's field order, links base, context, self, next.
        const links = body._links as Record<string, unknown>;
        const expected = {
          ...Object.fromEntries(
            Object.keys(UserPropertyKeyArraySchema.properties).map((field) => [field, body[field]]),
          ),
          _links: Object.fromEntries(
            ['base', 'context', 'self', 'next'].filter((name) => name in links).map((name) => [name, links[name]]),
          ),
        };
        assert.equal(response.body, JSON.stringify(expected));
      }
      const paged = (await get(`${path(user)}?limit=1&start=1`, basic('noah'))).json();
      assert.equal(paged._links.next, '/rest/api/user/712020%3Anoah/property?limit=1&start=2');
    });

    test('a list or a property asked again by the same URL follows every change: keys, values, another caller, the base URL', async () => {
      // An admin may write any user's properties: a user no other test lists.
      const user = '712020:gone';
      const url = `${path(user)}?limit=2`;
      const keysOf = async (headers = basic('admin')) => {
        const response = await get(url, headers);
        assert.equal(response.statusCode, 200);
        const body = response.json();
        return {
          keys: body.results.map((r: { key: string }) => r.key),
          next: body._links.next,
          self: body._links.self,
        };
      };
      assert.deepEqual((await keysOf()).keys, []);
      assert.equal((await send('POST', path(user, 'b'), { value: {} }, basic('admin'))).statusCode, 201);
      assert.deepEqual(await keysOf().then((p) => [p.keys, p.next]), [['b'], undefined]);
      assert.equal((await send('POST', path(user, 'a'), { value: {} }, basic('admin'))).statusCode, 201);
      assert.deepEqual((await keysOf()).keys, ['a', 'b']);
      assert.equal((await send('POST', path(user, 'c'), { value: {} }, basic('admin'))).statusCode, 201);
      const full = await keysOf();
      assert.deepEqual([full.keys, full.next], [['a', 'b'], '/rest/api/user/712020%3Agone/property?limit=2&start=2']);
      assert.equal((await send('DELETE', path(user, 'a'), undefined, basic('admin'))).statusCode, 204);
      assert.deepEqual(await keysOf().then((p) => [p.keys, p.next]), [['b', 'c'], undefined]);

      // The same URL from an app lists the app's own namespace; and again from the user, the user's.
      const asNotes = () => connectJwt(APPS.notes, 'GET', url);
      assert.deepEqual((await keysOf(asNotes())).keys, []);
      const notesKey = path(user, 'n');
      assert.equal(
        (await send('POST', notesKey, { value: {} }, connectJwt(APPS.notes, 'POST', notesKey))).statusCode,
        201,
      );
      assert.deepEqual((await keysOf(asNotes())).keys, ['n']);
      assert.deepEqual((await keysOf()).keys, ['b', 'c']);

      // One property read again: each change of its value, and the app's own property under the same URL.
      const one = path(user, 'b');
      const read = async (headers = basic('admin')) => {
        const response = await get(one, headers);
        return response.statusCode === 200
          ? {
              status: 200,
              value: response.json().value,
              etag: response.headers.etag,
              self: response.json()._links.self,
              id: response.json().id,
              modified: response.json().lastModifiedDate,
            }
          : { status: response.statusCode };
      };
      const first = await read();
      assert.deepEqual([first.value, first.etag], [{}, '"1"']);
      assert.deepEqual(await read(), first);
      assert.equal((await send('PUT', one, { value: { v: 2 } }, basic('admin'))).statusCode, 204);
      assert.deepEqual(await read().then((r) => [r.value, r.etag]), [{ v: 2 }, '"2"']);
      // A later millisecond than the first write's, so its lastModifiedDate differs.
      await new Promise((resolve) => setTimeout(resolve, 2));
      assert.equal((await send('PUT', one, { value: {} }, basic('admin'))).statusCode, 204);
      const again = await read();
      assert.deepEqual([again.value, again.etag], [{}, '"3"'], 'a value seen before, a new version');
      assert.notEqual(again.modified, first.modified);
      const asNotesOne = (method: string) => connectJwt(APPS.notes, method, one);
      assert.equal((await read(asNotesOne('GET'))).status, 404, "the app's namespace has no b");
      assert.equal((await send('POST', one, { value: { by: 'notes' } }, asNotesOne('POST'))).statusCode, 201);
      assert.deepEqual((await read(asNotesOne('GET'))).value, { by: 'notes' });
      assert.deepEqual((await read()).value, {});
      assert.equal((await send('DELETE', one, undefined, basic('admin'))).statusCode, 204);
      assert.equal((await read()).status, 404);
      assert.equal((await send('POST', one, { value: {} }, basic('admin'))).statusCode, 201);
      const remade = await read();
      assert.deepEqual([remade.value, remade.etag], [{}, '"1"'], 'made again: version 1');
      assert.notEqual(remade.id, first.id);

      // A new base URL is in the very next answer's links.
      const admin = { ...basic('admin'), 'content-type': 'application/json' };
      const patch = (baseUrl: string) =>
        fx.app.inject({
          method: 'PATCH',
          url: '/admin/api/site',
          headers: admin,
          payload: JSON.stringify({ baseUrl }),
        });
      const before = (await keysOf()).self;
      assert.equal((await patch('http://moved.example')).statusCode, 200);
      assert.equal((await keysOf()).self, 'http://moved.example/wiki/rest/api/user/712020%3Agone/property');
      assert.equal((await read()).self, 'http://moved.example/wiki/rest/api/user/712020%3Agone/property/b');
      assert.notEqual(before, 'http://moved.example/wiki/rest/api/user/712020%3Agone/property');
      assert.equal((await patch(new URL(before).origin)).statusCode, 200);
      assert.equal((await keysOf()).self, before);
      assert.equal((await read()).self, `${before}/b`);
    });

    test('a user with no properties has an empty list; an unknown user is 404 for admins', async () => {
      const list = await get(path('712020:outsider'), basic('admin'));
      assert.equal(list.statusCode, 200);
      assert.deepEqual(list.json().results, []);
      assertConfluenceError(
        await get(path('712020:nobody'), basic('admin')),
        404,
        /No user with accountId 712020:nobody/,
      );
    });

    test('400: malformed keys, user ids and values', async () => {
      assertConfluenceError(await send('POST', path(MIA, 'bad.key'), { value: {} }), 400, /key "bad.key" is invalid/);
      assertConfluenceError(await send('POST', path(MIA, 'k%20y'), { value: {} }), 400, /key "k y" is invalid/);
      assertConfluenceError(
        await send('POST', path(MIA, 'x'.repeat(256)), { value: {} }),
        400,
        /key is too long: at most 255/,
      );
      assertConfluenceError(
        await send('POST', path('bad%20id', 'k'), { value: {} }, basic('admin')),
        400,
        /userId "bad id" is not a well-formed accountId/,
      );
      assertConfluenceError(await get(path('x'.repeat(129), 'k'), basic('admin')), 400, /not a well-formed accountId/);
      assertConfluenceError(await send('POST', path(MIA, 'v'), {}), 400, /^value is empty$/);
      assertConfluenceError(await send('POST', path(MIA, 'v'), { value: null }), 400, /^value is empty$/);
      assertConfluenceError(await send('POST', path(MIA, 'v'), { value: [1] }), 400, /^value must be a JSON object$/);
      assertConfluenceError(
        await send('POST', path(MIA, 'v'), { value: 'text' }),
        400,
        /^value must be a JSON object$/,
      );
      assertConfluenceError(await send('POST', path(MIA, 'v'), { value: 7 }), 400, /^value must be a JSON object$/);
      assertConfluenceError(
        await send('POST', path(MIA, 'v'), { value: { s: 'x'.repeat(32768) } }),
        400,
        /^value is too long/,
      );
      assertConfluenceError(await send('PUT', path(MIA, 'v'), { value: null }), 400, /^value is empty$/);
      assertConfluenceError(await send('POST', path(MIA, 'v'), [1, 2]), 400, /body/);

      let deep: object = {};
      for (let i = 0; i < 64; i++) deep = { d: deep };
      assertConfluenceError(
        await send('POST', path(MIA, 'deep'), { value: deep }),
        400,
        /nested deeper than 64 levels/,
      );
      let fits: object = {};
      for (let i = 0; i < 63; i++) fits = { d: fits };
      assert.equal((await send('POST', path(MIA, 'deep'), { value: fits })).statusCode, 201);

      const exactly = { s: 'x'.repeat(32768 - '{"s":""}'.length) };
      assert.equal((await send('POST', path(MIA, 'max'), { value: exactly })).statusCode, 201);
      // Nothing was written by the refused requests.
      assertConfluenceError(await get(path(MIA, 'v')), 404, /does not exist/);
    });

    test('400: bodies that are not JSON, and NUL characters', async () => {
      const raw = (payload: string, headers: Record<string, string>) =>
        fx.app.inject({ method: 'POST', url: path(MIA, 'raw'), headers: { ...basic('mia'), ...headers }, payload });
      assertConfluenceError(await raw('{"value": {', json), 400, /not valid JSON/);
      assertConfluenceError(await raw('', json), 400, /body is empty/);
      assertConfluenceError(
        await raw('value=1', { 'content-type': 'application/x-www-form-urlencoded' }),
        400,
        /Content-Type "application\/x-www-form-urlencoded" is not supported/,
      );
      assertConfluenceError(
        await raw('{"value":{}}', { 'content-type': 'text/plain' }),
        400,
        /Content-Type "text\/plain" is not supported/,
      );
      assertConfluenceError(await raw('{"value":{"a":"\\u0000"}}', json), 400, /NUL character/);
      assertConfluenceError(await raw('{"__proto__":{"x":1},"value":{}}', json), 400, /not valid JSON|prototype/i);
      assert.equal(
        (await raw('{"value":{"a":"\\\\u0000"}}', json)).statusCode,
        201,
        'an escaped backslash before u0000 is not a NUL',
      );
      assertConfluenceError(await get(`${path(MIA)}?start=%00`), 400, /NUL character/);
      assertConfluenceError(await get(path(MIA, 'a%00b')), 400, /NUL character/);
    });

    test('413: bodies over 1 MiB', async () => {
      const big = JSON.stringify({ value: { s: 'x'.repeat(BODY_LIMIT_BYTES) } });
      const response = await fx.app.inject({
        method: 'POST',
        url: path(MIA, 'big'),
        headers: { ...basic('mia'), ...json },
        payload: big,
      });
      assertConfluenceError(response, 413, /larger than the 1 MiB limit/);
      assertConfluenceError(await get(path(MIA, 'big')), 404, /does not exist/);
    });

    test('409 on a duplicate create; exactly one 201 among concurrent creates', async () => {
      assert.equal((await send('POST', path(MIA, 'dup'), { value: { v: 1 } })).statusCode, 201);
      assertConfluenceError(
        await send('POST', path(MIA, 'dup'), { value: { v: 2 } }),
        409,
        /Property "dup" already exists/,
      );
      assert.deepEqual((await get(path(MIA, 'dup'))).json().value, { v: 1 });

      const racers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => send('POST', path(MIA, 'race'), { value: { i } })),
      );
      const statuses = racers.map((r) => r.statusCode).sort();
      assert.deepEqual(statuses, [201, ...Array(11).fill(409)]);
    });

    test('PUT never creates: 404 when absent', async () => {
      assertConfluenceError(
        await send('PUT', path(MIA, 'absent'), { value: {} }),
        404,
        /Property "absent" does not exist/,
      );
      assertConfluenceError(await get(path(MIA, 'absent')), 404, /does not exist/);
    });

    test('ETag and If-Match: 412 on a stale version, 404 before 412', async () => {
      assert.equal((await send('POST', path(MIA, 'etag'), { value: { v: 1 } })).statusCode, 201);
      const stale = { ...basic('mia'), 'if-match': '"7"' };
      assertConfluenceError(
        await send('PUT', path(MIA, 'etag'), { value: { v: 2 } }, stale),
        412,
        /If-Match does not match/,
      );
      assert.deepEqual((await get(path(MIA, 'etag'))).json().value, { v: 1 });

      const ok = await send('PUT', path(MIA, 'etag'), { value: { v: 2 } }, { ...basic('mia'), 'if-match': '"1"' });
      assert.equal(ok.statusCode, 204);
      assert.equal(ok.headers.etag, '"2"');
      const list = await send(
        'PUT',
        path(MIA, 'etag'),
        { value: { v: 3 } },
        { ...basic('mia'), 'if-match': '"9", "2"' },
      );
      assert.equal(list.headers.etag, '"3"');
      const star = await send('PUT', path(MIA, 'etag'), { value: { v: 4 } }, { ...basic('mia'), 'if-match': '*' });
      assert.equal(star.headers.etag, '"4"');
      assertConfluenceError(
        await send('PUT', path(MIA, 'etag'), { value: {} }, { ...basic('mia'), 'if-match': 'W/"4"' }),
        412,
        /If-Match/,
      );

      assertConfluenceError(
        await send('DELETE', path(MIA, 'etag'), undefined, { ...basic('mia'), 'if-match': '"3"' }),
        412,
        /If-Match/,
      );
      assert.equal(
        (await send('DELETE', path(MIA, 'etag'), undefined, { ...basic('mia'), 'if-match': '"4"' })).statusCode,
        204,
      );
      assertConfluenceError(
        await send('PUT', path(MIA, 'etag'), { value: {} }, { ...basic('mia'), 'if-match': '"4"' }),
        404,
        /does not exist/,
      );
      assertConfluenceError(
        await send('DELETE', path(MIA, 'etag'), undefined, { ...basic('mia'), 'if-match': '"4"' }),
        404,
        /does not exist/,
      );
    });

    test('app isolation: the same key in two apps and in "" is three properties', async () => {
      const url = path(MIA, 'theme');
      const asApp = (app: 'notes' | 'tasks', method: string) => connectJwt(APPS[app], method, url);
      assert.equal((await send('POST', url, { value: { by: 'notes' } }, asApp('notes', 'POST'))).statusCode, 201);
      assert.equal((await send('POST', url, { value: { by: 'tasks' } }, asApp('tasks', 'POST'))).statusCode, 201);
      assert.equal((await send('POST', url, { value: { by: 'mia' } })).statusCode, 201);

      assert.deepEqual((await get(url, asApp('notes', 'GET'))).json().value, { by: 'notes' });
      assert.deepEqual((await get(url, basic('mia'))).json().value, { by: 'mia' });
      assert.deepEqual(
        (await get(url, basic('admin'))).json().value,
        { by: 'mia' },
        'an admin without an app sees namespace ""',
      );

      assert.equal((await send('DELETE', url, undefined, asApp('notes', 'DELETE'))).statusCode, 204);
      assert.equal((await get(url, asApp('notes', 'GET'))).statusCode, 404);
      assert.deepEqual((await get(url, basic('mia'))).json().value, { by: 'mia' });
    });

    test('the access rule: own properties for users, any user for apps and admins', async () => {
      const noahKey = path('712020:noah', 'private');
      assert.equal((await send('POST', noahKey, { value: {} }, basic('noah'))).statusCode, 201);
      assertConfluenceError(await get(noahKey, basic('mia')), 403, /only your own/);
      assertConfluenceError(await send('PUT', noahKey, { value: { x: 1 } }, basic('mia')), 403, /only your own/);
      assertConfluenceError(await send('DELETE', noahKey, undefined, basic('mia')), 403, /only your own/);
      assertConfluenceError(
        await send('POST', path('712020:noah', 'new'), { value: {} }, basic('mia')),
        403,
        /only your own/,
      );
      assertConfluenceError(await get(path('712020:noah'), basic('mia')), 403, /only your own/);
      // Not 404: a non-admin learns nothing about which accounts exist.
      assertConfluenceError(await get(path('712020:nobody', 'x'), basic('mia')), 403, /only your own/);

      assert.equal((await get(noahKey, basic('admin'))).statusCode, 200);
      assert.equal((await send('PUT', noahKey, { value: { by: 'admin' } }, basic('admin'))).statusCode, 204);
      assert.equal(
        (await get(path('712020:noah', 'x'), connectJwt(APPS.notes, 'GET', path('712020:noah', 'x')))).statusCode,
        404,
      );
      assertConfluenceError(
        await get(path('712020:nobody', 'x'), connectJwt(APPS.notes, 'GET', path('712020:nobody', 'x'))),
        404,
        /No user with accountId/,
      );
      const deactivated = path('712020:gone', 'kept');
      assert.equal(
        (await send('POST', deactivated, { value: {} }, connectJwt(APPS.notes, 'POST', deactivated))).statusCode,
        201,
        "apps still write a deactivated user's properties",
      );
    });
  });
}
