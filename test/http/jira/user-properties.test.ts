/** Contract tests for Jira user properties (docs/behaviour.md §6), under /rest/api/2 and /rest/api/3, on both stores. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkSeed, loadSeed } from '../../../src/domain/seed.ts';
import { BODY_LIMIT_BYTES } from '../../../src/http/json-body.ts';
import { deleteUser } from '../../../src/store/users.ts';
import { basicAuth, connectJwt } from '../../helpers/credentials.ts';
import { APPS, basic, type Fixture, startFixture, USERS } from '../../helpers/fixture.ts';
import { assertJiraError, type Reply } from '../../helpers/security.ts';
import { DEFAULT_SITE, STORE_KINDS } from '../../helpers/stores.ts';

const VERSIONS = [2, 3] as const;
type Version = (typeof VERSIONS)[number];
const MIA = USERS.mia.accountId;
const NOAH = USERS.noah.accountId;
const json = { 'content-type': 'application/json' };

/** A user with the legacy identifiers, loaded on top of the base fixture. */
const LENA = {
  accountId: '712020:lena',
  email: 'lena@example.com',
  token: 'lena-token-0001',
  username: 'lena',
  userKey: 'lena-key-0001',
};
const lenaAuth = basicAuth(LENA.email, LENA.token);
/** A user whose key list only the listing test touches. */
const LISTER = { accountId: '712020:lister', email: 'lister@example.com', token: 'lister-token-01' };
const listerAuth = basicAuth(LISTER.email, LISTER.token);

/** `/rest/api/{v}/user/properties[/key][?query]`; the key is percent-encoded, the query is taken as written. */
function url(version: Version, key?: string, query: string = `accountId=${MIA}`): string {
  const path = `/rest/api/${version}/user/properties${key === undefined ? '' : `/${encodeURIComponent(key)}`}`;
  return query === '' ? path : `${path}?${query}`;
}

const selfOf = (version: Version, key: string, accountId: string = MIA) =>
  `http://userplane.test/rest/api/${version}/user/properties/${encodeURIComponent(key)}?accountId=${encodeURIComponent(accountId)}`;

for (const kind of STORE_KINDS) {
  describe(`Jira user properties on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
      await loadSeed(
        fx.store.db,
        fx.secrets,
        checkSeed({
          users: [
            {
              accountId: LENA.accountId,
              email: LENA.email,
              displayName: 'Lena',
              username: LENA.username,
              userKey: LENA.userKey,
              groups: ['confluence-users'],
              apiTokens: [LENA.token],
            },
            {
              accountId: LISTER.accountId,
              email: LISTER.email,
              displayName: 'Lister',
              groups: ['confluence-users'],
              apiTokens: [LISTER.token],
            },
          ],
          properties: [{ product: 'jira', user: LENA.accountId, key: 'seeded', value: { done: false } }],
        }),
      );
    });
    after(() => fx.close());

    /** `type: null` sends no Content-Type. */
    const put = (
      target: string,
      payload: string | undefined,
      headers: Record<string, string> = basic('mia'),
      type: string | null = 'application/json',
    ) =>
      fx.app.inject({
        method: 'PUT',
        url: target,
        headers: type === null ? headers : { 'content-type': type, ...headers },
        payload,
      });
    const get = (target: string, headers: Record<string, string> = basic('mia')) =>
      fx.app.inject({ method: 'GET', url: target, headers });
    const del = (target: string, headers: Record<string, string> = basic('mia')) =>
      fx.app.inject({ method: 'DELETE', url: target, headers });

    /** A 2xx with an empty body, naming the caller. */
    function assertEmpty(response: Reply, status: number, caller: string = MIA): void {
      assert.equal(response.statusCode, status, response.body);
      assert.equal(response.body, '');
      assert.equal(response.headers['x-aaccountid'], caller);
    }

    for (const v of VERSIONS) {
      test(`v${v}: PUT creates (201) then replaces (200), GET reads {key, value}, DELETE answers 204`, async () => {
        const key = `crud-${v}`;
        assertEmpty(await put(url(v, key), JSON.stringify({ dark: true, n: [1, 2] })), 201);
        const read = await get(url(v, key));
        assert.equal(read.statusCode, 200);
        assert.match(String(read.headers['content-type']), /^application\/json/);
        assert.equal(read.headers['x-aaccountid'], MIA);
        assert.equal(read.headers.warning, undefined);
        assert.deepEqual(read.json(), { key, value: { dark: true, n: [1, 2] } });

        assertEmpty(await put(url(v, key), '{"dark":false}'), 200);
        assert.deepEqual((await get(url(v, key))).json(), { key, value: { dark: false } });

        assertEmpty(await del(url(v, key)), 204);
        assertJiraError(
          await get(url(v, key)),
          404,
          new RegExp(`The property "${key}" does not exist for user 712020:mia`),
        );
        assertJiraError(await del(url(v, key)), 404, /does not exist/);
        // A deleted property is created afresh.
        assertEmpty(await put(url(v, key), '1'), 201);
      });

      test(`v${v}: any non-null JSON value is a value, stored exactly`, async () => {
        const values: Array<[string, string]> = [
          ['object', '{}'],
          ['empty-string', '""'],
          ['zero', '0'],
          ['false', 'false'],
          ['true', 'true'],
          ['array', '[]'],
          ['string', '"hello"'],
          ['number', '-12.5'],
          ['ordered', '{"z":1,"a":{"y":"ü","b":null},"m":[3,1,2]}'],
          ['unicode', '"\u{1F600} \u00e9"'],
        ];
        for (const [name, text] of values) {
          const key = `value-${name}-${v}`;
          assertEmpty(await put(url(v, key), text), 201);
          const read = await get(url(v, key));
          assert.equal(read.statusCode, 200, read.body);
          // Compared as text: key order and types survive the store.
          assert.equal(read.body, `{"key":${JSON.stringify(key)},"value":${JSON.stringify(JSON.parse(text))}}`);
        }
        // Pretty-printed JSON is stored compactly.
        assertEmpty(await put(url(v, `pretty-${v}`), '{\n  "a": [ 1, 2 ]\n}\n'), 201);
        assert.equal((await get(url(v, `pretty-${v}`))).body, `{"key":"pretty-${v}","value":{"a":[1,2]}}`);
      });

      test(`v${v}: the key list is sorted by code point, with absolute self URLs in v${v}`, async () => {
        const user = LISTER.accountId;
        const keys = ['b', 'B', '_x', '-y', 'a1', 'a', 'Z9', '0', 'é', 'a.b', 'with space', 'slash/key', '\u{1F600}'];
        for (const key of keys) assertEmpty(await put(url(v, key, `accountId=${user}`), '{}', listerAuth), 201, user);
        // Code-point order: what JavaScript's default sort does on strings without astral characters,
        // and the astral one last (its UTF-16 surrogates sort the same as its code point here).
        const sorted = [...keys].sort();

        for (const version of VERSIONS) {
          const list = await get(url(version, undefined, `accountId=${user}`), listerAuth);
          assert.equal(list.statusCode, 200, list.body);
          assert.equal(list.headers['x-aaccountid'], user);
          assert.deepEqual(list.json(), { keys: sorted.map((key) => ({ key, self: selfOf(version, key, user) })) });
          // Each self URL reads its property back.
          for (const { self } of list.json().keys.slice(0, 3) as Array<{ self: string }>) {
            assert.equal((await get(self.replace('http://userplane.test', ''), listerAuth)).statusCode, 200);
          }
        }
        // Without a key, `…/user/properties/` lists the keys too, as Jira documents.
        const slash = await get(`/rest/api/${v}/user/properties/?accountId=${user}`, listerAuth);
        assert.equal(slash.statusCode, 200);
        assert.deepEqual(
          slash.json().keys.map((k: { key: string }) => k.key),
          sorted,
        );

        for (const key of keys) assertEmpty(await del(url(v, key, `accountId=${user}`), listerAuth), 204, user);
        const empty = await get(url(v, undefined, `accountId=${user}`), listerAuth);
        assert.equal(empty.statusCode, 200);
        assert.deepEqual(empty.json(), { keys: [] });
      });

      test(`v${v}: 400 when no user is named, or the accountId is too long`, async () => {
        for (const target of [
          url(v, 'k', ''),
          url(v, 'k', 'accountId='),
          url(v, 'k', 'accountId=&userKey=&username='),
          url(v, 'k', 'expand=x'),
        ]) {
          assertJiraError(await get(target), 400, /^accountId is missing/);
          assertJiraError(await put(target, '{}'), 400, /^accountId is missing/);
          assertJiraError(await del(target), 400, /^accountId is missing/);
        }
        assertJiraError(await get(url(v, undefined, '')), 400, /^accountId is missing/);
        assertJiraError(
          await get(url(v, undefined, `accountId=${'a'.repeat(129)}`), basic('admin')),
          400,
          /accountId is too long: at most 128 characters/,
        );
        assertJiraError(
          await put(url(v, 'k', `accountId=${'a'.repeat(129)}`), '{}', basic('admin')),
          400,
          /accountId is too long/,
        );
        // 128 characters is a well-formed request about nobody: 404 for an admin, 403 for anyone else.
        assertJiraError(
          await get(url(v, 'k', `accountId=${'a'.repeat(128)}`), basic('admin')),
          404,
          /No user with accountId a{128}$/,
        );
        assertJiraError(await get(url(v, 'k', `accountId=${'a'.repeat(128)}`)), 403, /only your own/);
        // Repeated parameters are not one user.
        assertJiraError(
          await get(url(v, 'k', `accountId=${MIA}&accountId=${NOAH}`)),
          400,
          /query parameter accountId: must be a string/,
        );
      });

      test(`v${v}: 400 for keys that are too long or hold control characters`, async () => {
        const longest = `${'k'.repeat(254)}${v}`;
        assertEmpty(await put(url(v, longest), '{}'), 201);
        assert.equal((await get(url(v, longest))).json().key, longest);
        assertJiraError(
          await put(url(v, 'k'.repeat(256)), '{}'),
          400,
          /propertyKey is too long: at most 255 characters/,
        );
        assertJiraError(await get(url(v, 'k'.repeat(256))), 400, /propertyKey is too long/);
        assertJiraError(await del(url(v, 'k'.repeat(256))), 400, /propertyKey is too long/);
        // Code points, not UTF-16 units: 255 emoji fit.
        const astral = `${'\u{1F600}'.repeat(254)}${v}`;
        assertEmpty(await put(url(v, astral), '{}'), 201);
        assert.equal((await get(url(v, astral))).json().key, astral);
        assertJiraError(await put(url(v, '\u{1F600}'.repeat(256)), '{}'), 400, /propertyKey is too long/);
        for (const key of ['a\tb', 'a\nb', '\u007f', 'x\u0085']) {
          assertJiraError(await put(url(v, key), '{}'), 400, /propertyKey must not contain control characters/);
        }
        assertJiraError(
          await get(`/rest/api/${v}/user/properties/a%00b?accountId=${MIA}`),
          400,
          /NUL|control characters/,
        );
        const malformed = await get(`/rest/api/${v}/user/properties/a%ZZ?accountId=${MIA}&jwt=a-token-never-echoed`);
        assertJiraError(
          malformed,
          400,
          new RegExp(
            `^The request URL is not valid: /rest/api/${v}/user/properties/a%ZZ is not percent-encoded UTF-8$`,
          ),
        );
        assert.doesNotMatch(malformed.body, /a-token-never-echoed/);
        // Syntax before the access rule: another user's data with a bad key is still a 400.
        assertJiraError(await put(url(v, 'k'.repeat(256), `accountId=${NOAH}`), '{}'), 400, /propertyKey is too long/);
      });

      test(`v${v}: 400 for bodies that are empty, null, not JSON or too large; nothing is written`, async () => {
        const key = `refused-${v}`;
        assertJiraError(await put(url(v, key), 'null'), 400, /^The property value must not be null$/);
        assertJiraError(await put(url(v, key), ''), 400, /The request body is empty/);
        assertJiraError(await put(url(v, key), '   \n'), 400, /not valid JSON/);
        assertJiraError(await put(url(v, key), undefined, basic('mia'), null), 400, /The property value is empty/);
        assertJiraError(await put(url(v, key), '{"a":'), 400, /not valid JSON/);
        assertJiraError(await put(url(v, key), 'hello'), 400, /not valid JSON/);
        assertJiraError(await put(url(v, key), "{'a':1}"), 400, /not valid JSON/);
        // jira.js sends a bare string form-encoded: refused, and told how to send it.
        assertJiraError(
          await put(url(v, key), 'hello', basic('mia'), 'application/x-www-form-urlencoded'),
          400,
          /The property value must be JSON sent with Content-Type application\/json, not "application\/x-www-form-urlencoded" \(a string value is sent as a quoted JSON string\)/,
        );
        assertJiraError(
          await put(url(v, key), 'a=1&b=2', basic('mia'), 'application/x-www-form-urlencoded; charset=utf-8'),
          400,
          /must be JSON sent with Content-Type application\/json/,
        );
        for (const type of [
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'text/json',
          'application/jsonp',
        ]) {
          assertJiraError(
            await put(url(v, key), '{}', basic('mia'), type),
            400,
            /must be JSON sent with Content-Type application\/json/,
          );
        }
        assertJiraError(await put(url(v, key), '{}', basic('mia'), null), 400, /no Content-Type/);
        // The JSON type with parameters, in any case, is JSON.
        assertEmpty(await put(url(v, `charset-${v}`), '{}', basic('mia'), 'Application/JSON; charset=utf-8'), 201);
        assertJiraError(await put(url(v, key), '{"a":"\\u0000"}'), 400, /NUL character/);
        assertJiraError(await put(url(v, key), '{"__proto__":{"x":1}}'), 400, /not valid JSON|prototype/i);

        // 32768 bytes of compact JSON fit; one more does not.
        const fits = JSON.stringify('x'.repeat(32768 - 2));
        assertEmpty(await put(url(v, `max-${v}`), fits), 201);
        assert.equal((await get(url(v, `max-${v}`))).json().value.length, 32766);
        assertJiraError(
          await put(url(v, key), JSON.stringify('x'.repeat(32767))),
          400,
          /The property value is too long: at most 32768 bytes/,
        );
        // Bytes of UTF-8, not characters: 16380 two-byte characters fit exactly, one more does not.
        assertEmpty(await put(url(v, `max-utf8-${v}`), JSON.stringify({ s: 'é'.repeat(16380) })), 201);
        assertJiraError(await put(url(v, key), JSON.stringify({ s: 'é'.repeat(16381) })), 400, /too long/);
        let deep: unknown = 1;
        for (let i = 0; i < 65; i++) deep = [deep];
        assertJiraError(await put(url(v, key), JSON.stringify(deep)), 400, /nested deeper than 64 levels/);
        let fitsDepth: unknown = 1;
        for (let i = 0; i < 64; i++) fitsDepth = [fitsDepth];
        assertEmpty(await put(url(v, `deep-${v}`), JSON.stringify(fitsDepth)), 201);
        // Over 1 MiB: 413, the server's body limit.
        assertJiraError(
          await put(url(v, key), JSON.stringify('x'.repeat(BODY_LIMIT_BYTES))),
          413,
          /larger than the 1 MiB limit/,
        );

        // A refused body never overwrites a stored value.
        assertEmpty(await put(url(v, `kept-${v}`), '{"v":1}'), 201);
        assertJiraError(await put(url(v, `kept-${v}`), 'null'), 400, /must not be null/);
        assertJiraError(
          await put(url(v, `kept-${v}`), 'v=2', basic('mia'), 'application/x-www-form-urlencoded'),
          400,
          /must be JSON/,
        );
        assert.deepEqual((await get(url(v, `kept-${v}`))).json().value, { v: 1 });
        assertJiraError(await get(url(v, key)), 404, /does not exist/);
      });

      test(`v${v}: 405 for a PUT or DELETE without a key, and other methods, before credentials`, async () => {
        const cases: Array<[string, string, string]> = [
          ['PUT', `/rest/api/${v}/user/properties`, 'GET, HEAD'],
          ['PUT', `/rest/api/${v}/user/properties/`, 'GET, HEAD'],
          ['DELETE', `/rest/api/${v}/user/properties`, 'GET, HEAD'],
          ['DELETE', `/rest/api/${v}/user/properties/`, 'GET, HEAD'],
          ['POST', `/rest/api/${v}/user/properties`, 'GET, HEAD'],
          ['POST', `/rest/api/${v}/user/properties/k`, 'DELETE, GET, HEAD, PUT'],
          ['PATCH', `/rest/api/${v}/user/properties/k`, 'DELETE, GET, HEAD, PUT'],
        ];
        for (const [method, path, allow] of cases) {
          for (const headers of [{}, basic('mia'), { authorization: 'Basic bm90OnZhbGlk' }]) {
            const response = await fx.app.inject({
              method: method as 'PUT',
              url: `${path}?accountId=${MIA}`,
              headers: { ...json, ...headers },
              payload: '{}',
            });
            assertJiraError(
              response,
              405,
              new RegExp(`Method ${method} is not allowed on ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
            );
            assert.equal(response.headers.allow, allow);
          }
        }
      });

      test(`v${v}: 404 for an unknown user or property, after the access rule`, async () => {
        assertJiraError(
          await get(url(v, 'nothing-here')),
          404,
          /The property "nothing-here" does not exist for user 712020:mia/,
        );
        assertJiraError(await del(url(v, 'nothing-here')), 404, /The property "nothing-here" does not exist/);
        for (const headers of [basic('admin'), connectJwt(APPS.notes, 'GET', url(v, 'k', 'accountId=712020:nobody'))]) {
          assertJiraError(
            await get(url(v, 'k', 'accountId=712020:nobody'), headers),
            404,
            /No user with accountId 712020:nobody$/,
          );
        }
        assertJiraError(
          await get(url(v, undefined, 'accountId=712020:nobody'), basic('admin')),
          404,
          /No user with accountId 712020:nobody$/,
        );
        assertJiraError(
          await put(url(v, 'k', 'accountId=712020:nobody'), '{}', basic('admin')),
          404,
          /No user with accountId 712020:nobody$/,
        );
        assertJiraError(
          await del(url(v, 'k', 'accountId=712020:nobody'), basic('admin')),
          404,
          /No user with accountId 712020:nobody$/,
        );
        // An accountId that is not even well-formed names nobody.
        assertJiraError(
          await get(url(v, 'k', 'accountId=not%20an%20id'), basic('admin')),
          404,
          /No user with accountId not an id$/,
        );
        assertJiraError(
          await get(url(v, 'k', 'userKey=no-such-key'), basic('admin')),
          404,
          /No user with userKey no-such-key$/,
        );
        assertJiraError(
          await get(url(v, 'k', 'username=nobody'), basic('admin')),
          404,
          /No user with username nobody$/,
        );
      });

      test(`v${v}: the access rule: own record, admins and apps reach any user; 403 otherwise`, async () => {
        const key = `access-${v}`;
        assertEmpty(await put(url(v, key, `accountId=${NOAH}`), '{"by":"noah"}', basic('noah')), 201, NOAH);
        const onlyOwn =
          /You may not access the properties of user 712020:noah: only your own, unless you are a site admin or an app/;
        for (const response of [
          await get(url(v, key, `accountId=${NOAH}`)),
          await get(url(v, undefined, `accountId=${NOAH}`)),
          await put(url(v, key, `accountId=${NOAH}`), '{"by":"mia"}'),
          await put(url(v, `new-${v}`, `accountId=${NOAH}`), '{}'),
          await del(url(v, key, `accountId=${NOAH}`)),
        ]) {
          assertJiraError(response, 403, onlyOwn);
          assert.equal(response.headers['x-aaccountid'], MIA);
        }
        // Not 404: a non-admin learns nothing about which accounts exist (docs/behaviour.md §3).
        assertJiraError(await get(url(v, key, 'accountId=712020:nobody')), 403, /user 712020:nobody: only your own/);
        assertJiraError(
          await get(url(v, key, 'userKey=no-such-key')),
          403,
          /user with userKey no-such-key: only your own/,
        );
        assertJiraError(await get(url(v, key, `userKey=${LENA.userKey}`)), 403, /only your own/);
        assert.deepEqual((await get(url(v, key, `accountId=${NOAH}`), basic('noah'))).json().value, { by: 'noah' });

        // Admins ("Administer Jira") reach any user's record, and so do apps acting as themselves.
        assertEmpty(
          await put(url(v, key, `accountId=${NOAH}`), '{"by":"admin"}', basic('admin')),
          200,
          USERS.admin.accountId,
        );
        const asNotes = url(v, key, `accountId=${NOAH}`);
        const read = await get(asNotes, connectJwt(APPS.notes, 'GET', asNotes));
        assert.equal(read.statusCode, 200);
        assert.equal(read.headers['x-aaccountid'], '557058:notes-bot');
        assert.deepEqual(read.json().value, { by: 'admin' });

        // A deactivated user's properties stay reachable for apps and admins (docs/behaviour.md §2).
        const gone = url(v, `kept-${v}`, `accountId=${USERS.gone.accountId}`);
        assertEmpty(await put(gone, '{}', connectJwt(APPS.notes, 'PUT', gone)), 201, '557058:notes-bot');
        assert.equal((await get(gone, basic('admin'))).statusCode, 200);
        assertEmpty(await del(gone, basic('admin')), 204, USERS.admin.accountId);
      });

      test(`v${v}: userKey and username select the user, with a deprecation Warning; accountId wins`, async () => {
        const key = `legacy-${v}`;
        const byKey = url(v, key, `userKey=${LENA.userKey}`);
        const created = await put(byKey, '{"via":"userKey"}', lenaAuth);
        assertEmpty(created, 201, LENA.accountId);
        assert.equal(created.headers.warning, '299 - "Deprecated API"');

        const byName = await get(url(v, key, `username=${LENA.username}`), lenaAuth);
        assert.equal(byName.statusCode, 200);
        assert.equal(byName.headers.warning, '299 - "Deprecated API"');
        assert.deepEqual(byName.json(), { key, value: { via: 'userKey' } });

        // The list's self links name the user by accountId.
        const list = await get(url(v, undefined, `username=${LENA.username}`), lenaAuth);
        assert.ok(
          list
            .json()
            .keys.some(
              (k: { key: string; self: string }) => k.key === key && k.self === selfOf(v, key, LENA.accountId),
            ),
        );
        assert.ok(
          list.json().keys.some((k: { key: string }) => k.key === 'seeded'),
          'the seeded Jira property is in the same namespace',
        );
        assert.deepEqual((await get(url(v, 'seeded', `accountId=${LENA.accountId}`), lenaAuth)).json(), {
          key: 'seeded',
          value: { done: false },
        });

        // accountId > userKey > username; empty values count as absent.
        const both = await get(url(v, key, `accountId=${LENA.accountId}&userKey=${USERS.mia.accountId}`), lenaAuth);
        assert.equal(both.statusCode, 200);
        assert.equal(both.headers.warning, '299 - "Deprecated API"', 'a legacy parameter was sent');
        assert.equal(
          (await get(url(v, key, `userKey=${LENA.userKey}&username=someone-else`), lenaAuth)).statusCode,
          200,
        );
        assert.equal(
          (await get(url(v, key, `accountId=&userKey=&username=${LENA.username}`), lenaAuth)).statusCode,
          200,
        );
        const plain = await get(url(v, key, `accountId=${LENA.accountId}`), lenaAuth);
        assert.equal(plain.headers.warning, undefined);
        // The Warning also goes on errors.
        const denied = await get(url(v, key, `userKey=${LENA.userKey}`));
        assertJiraError(denied, 403, /only your own/);
        assert.equal(denied.headers.warning, '299 - "Deprecated API"');

        const removed = await del(url(v, key, `username=${LENA.username}`), lenaAuth);
        assertEmpty(removed, 204, LENA.accountId);
        assert.equal(removed.headers.warning, '299 - "Deprecated API"');
      });

      test(`v${v}: one namespace per user, shared by every caller and apart from Confluence's`, async () => {
        const key = `shared-${v}`;
        const target = url(v, key);
        assertEmpty(
          await put(target, '{"by":"notes"}', connectJwt(APPS.notes, 'PUT', target)),
          201,
          '557058:notes-bot',
        );
        // The tasks app, the user and an admin all see the notes app's write: Jira is not app-isolated.
        assert.deepEqual((await get(target, connectJwt(APPS.tasks, 'GET', target))).json().value, { by: 'notes' });
        assert.deepEqual((await get(target)).json().value, { by: 'notes' });
        assert.deepEqual((await get(target, basic('admin'))).json().value, { by: 'notes' });
        assertEmpty(
          await put(target, '{"by":"tasks"}', connectJwt(APPS.tasks, 'PUT', target)),
          200,
          '557058:tasks-bot',
        );
        assert.deepEqual((await get(target)).json().value, { by: 'tasks' });

        // The same key as a Confluence property is another property.
        const confluence = `/wiki/rest/api/user/${MIA}/property/${key}`;
        assertConfluenceNotFound(await get(confluence));
        assert.equal(
          (
            await fx.app.inject({
              method: 'POST',
              url: confluence,
              headers: { ...json, ...basic('mia') },
              payload: '{"value":{"by":"confluence"}}',
            })
          ).statusCode,
          201,
        );
        assert.deepEqual((await get(target)).json().value, { by: 'tasks' });
        assertEmpty(await del(target), 204);
        assert.deepEqual((await get(confluence)).json().value, { by: 'confluence' });

        // Both versions are one store.
        const other: Version = v === 2 ? 3 : 2;
        assertEmpty(await put(url(v, `versions-${v}`), '"both"'), 201);
        assert.deepEqual((await get(url(other, `versions-${v}`))).json(), { key: `versions-${v}`, value: 'both' });
        assertEmpty(await put(url(other, `versions-${v}`), '"again"'), 200);
      });
    }

    test('X-AAccountId names every authenticated caller, errors included, and no one else', async () => {
      const target = url(3, 'header');
      for (const [headers, caller] of [
        [basic('mia'), MIA],
        [basic('admin'), USERS.admin.accountId],
        [connectJwt(APPS.notes, 'GET', target), '557058:notes-bot'],
        [connectJwt(APPS.reader, 'GET', target), '557058:reader-bot'],
      ] as Array<[Record<string, string>, string]>) {
        const response = await get(target, headers);
        assertJiraError(response, 404, /does not exist/);
        assert.equal(response.headers['x-aaccountid'], caller);
      }
      // 403 from the auth hook itself: a user outside can-use, an app without the scope.
      const outsider = await get(target, basic('outsider'));
      assertJiraError(outsider, 403, /may not use this site/);
      assert.equal(outsider.headers['x-aaccountid'], USERS.outsider.accountId);
      const scoped = await del(target, connectJwt(APPS.reader, 'DELETE', target));
      assertJiraError(scoped, 403, /lacks the scope/);
      assert.equal(scoped.headers['x-aaccountid'], '557058:reader-bot');
      // No authenticated caller, no header.
      for (const headers of [
        {},
        { authorization: 'Basic bm90OnZhbGlk' },
        basic('gone'),
        { authorization: 'JWT garbage' },
      ]) {
        const response = await get(target, headers);
        assertJiraError(response, 401, /./);
        assert.equal(response.headers['x-aaccountid'], undefined);
      }
      assert.equal((await get('/rest/api/3/nothing', basic('mia'))).headers['x-aaccountid'], undefined);
    });

    test('maxPropertiesPerUser applies on create, never on replace; the check and insert are one step', async () => {
      const small = await startFixture(kind, { maxPropertiesPerUser: 10 });
      try {
        const user = USERS.admin.accountId;
        const at = (key: string) => url(3, key, `accountId=${user}`);
        const send = (method: 'PUT' | 'DELETE', target: string, payload?: string) =>
          small.app.inject({ method, url: target, headers: { ...json, ...basic('admin') }, payload });
        const created = await Promise.all(
          Array.from({ length: 25 }, (_, i) => send('PUT', at(`limit-${String(i).padStart(2, '0')}`), `${i}`)),
        );
        assert.equal(created.filter((r) => r.statusCode === 201).length, 10, 'exactly the limit was created');
        for (const refused of created.filter((r) => r.statusCode !== 201)) {
          assertJiraError(
            refused,
            400,
            /User 712020:admin already has the maximum of 10 Jira properties \(maxPropertiesPerUser\)/,
          );
        }
        const list = await small.app.inject({
          method: 'GET',
          url: url(3, undefined, `accountId=${user}`),
          headers: basic('admin'),
        });
        assert.equal(list.json().keys.length, 10);
        const first = list.json().keys[0].key as string;
        assertEmpty(await send('PUT', at(first), '"replaced at the limit"'), 200, user);
        // Confluence properties have their own allowance.
        const confluence = await small.app.inject({
          method: 'POST',
          url: `/wiki/rest/api/user/${user}/property/apart`,
          headers: { ...json, ...basic('admin') },
          payload: '{"value":{}}',
        });
        assert.equal(confluence.statusCode, 201, confluence.body);
        assertEmpty(await send('DELETE', at(first)), 204, user);
        assertEmpty(await send('PUT', at('limit-after-delete'), '1'), 201, user);
        assertJiraError(await send('PUT', at('one-too-many'), '1'), 400, /maximum of 10 Jira properties/);
      } finally {
        await small.close();
      }
    });

    test('concurrent PUTs of one new key: exactly one 201, the others replace it', async () => {
      const target = url(2, 'race');
      const racers = await Promise.all(Array.from({ length: 12 }, (_, i) => put(target, `{"i":${i}}`)));
      assert.deepEqual(
        racers.map((r) => r.statusCode).sort(),
        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201],
      );
      const value = (await get(target)).json().value as { i: number };
      assert.ok(value.i >= 0 && value.i < 12);
    });

    test('deleting a user removes their Jira properties', async () => {
      const doomed = { accountId: '712020:doomed', email: 'doomed@example.com' };
      await loadSeed(
        fx.store.db,
        fx.secrets,
        checkSeed({ users: [{ ...doomed, displayName: 'Doomed', groups: ['confluence-users'] }] }),
      );
      const target = url(3, 'soon-gone', `accountId=${doomed.accountId}`);
      assertEmpty(await put(target, '{}', basic('admin')), 201, USERS.admin.accountId);
      await deleteUser(fx.store.db, DEFAULT_SITE, doomed.accountId);
      assertJiraError(await get(target, basic('admin')), 404, /No user with accountId 712020:doomed$/);
      await loadSeed(
        fx.store.db,
        fx.secrets,
        checkSeed({ users: [{ ...doomed, displayName: 'Doomed again', groups: ['confluence-users'] }] }),
      );
      assertJiraError(await get(target, basic('admin')), 404, /The property "soon-gone" does not exist/);
    });
  });
}

/** A Confluence 404, in the Confluence envelope. */
function assertConfluenceNotFound(response: Reply): void {
  assert.equal(response.statusCode, 404);
  assert.equal(response.json().statusCode, 404);
}
