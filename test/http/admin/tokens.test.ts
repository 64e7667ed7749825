/** Contract tests for the API-token routes of /admin/api (docs/behaviour.md §2, §9), on both stores. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TokenAdmin } from '../../../src/domain/admin/tokens.ts';
import { adminCaller, UUID } from '../../helpers/admin.ts';
import { basicAuth } from '../../helpers/credentials.ts';
import { type Fixture, startFixture, USERS } from '../../helpers/fixture.ts';
import { assertConfluenceError } from '../../helpers/security.ts';
import { DEFAULT_SITE, STORE_KINDS } from '../../helpers/stores.ts';

const TOKEN_KEYS = ['accountId', 'createdAt', 'expiresAt', 'id', 'name'];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const kind of STORE_KINDS) {
  describe(`admin API: API tokens on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());
    const call = adminCaller(() => fx);

    let counter = 0;
    /** A fresh user in confluence-users, so their tokens can be tried on a product route. */
    async function newUser() {
      const email = `token-${kind}-${++counter}@example.com`;
      const response = await call('POST', '/users', { email, displayName: 'Token User', groups: ['confluence-users'] });
      assert.equal(response.statusCode, 201, response.body);
      return { accountId: response.json().accountId as string, email };
    }
    const tryToken = (user: { accountId: string; email: string }, token: string) =>
      fx.app.inject({
        method: 'GET',
        url: `/wiki/rest/api/user/${user.accountId}/property`,
        headers: basicAuth(user.email, token),
      });

    test('POST …/tokens: 201 with the token shown once, no-store, and only its digest stored', async () => {
      const user = await newUser();
      const response = await call('POST', `/users/${user.accountId}/tokens`, { name: 'ci' });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json();
      assert.deepEqual(Object.keys(body).sort(), [...TOKEN_KEYS, 'token'].sort());
      assert.match(body.id, UUID);
      assert.equal(body.name, 'ci');
      assert.equal(body.accountId, user.accountId);
      assert.match(body.createdAt, ISO);
      assert.equal(body.expiresAt, null);
      assert.match(body.token, /^upt_[A-Za-z0-9_-]{43}$/, '256 random bits');

      const rows = await fx.store.db.selectFrom('api_tokens').selectAll().where('id', '=', body.id).execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.digest, fx.secrets.digest(body.token));
      assert.ok(!JSON.stringify(rows).includes(body.token), 'the token itself is not stored');

      assert.equal((await tryToken(user, body.token)).statusCode, 200, 'the token authenticates');
    });

    test('POST …/tokens: no body, or {}, gives an unnamed token that never expires', async () => {
      const user = await newUser();
      const bare = await fx.app.inject({
        method: 'POST',
        url: `/admin/api/users/${user.accountId}/tokens`,
        headers: basicAuth(USERS.admin.email, USERS.admin.token),
      });
      assert.equal(bare.statusCode, 201, bare.body);
      assert.equal(bare.json().name, 'API token');
      assert.equal(bare.json().expiresAt, null);
      const empty = await call('POST', `/users/${user.accountId}/tokens`, {});
      assert.equal(empty.statusCode, 201);
      assert.notEqual(empty.json().token, bare.json().token);
    });

    test('POST …/tokens: expiresAt is kept, normalised to UTC', async () => {
      const user = await newUser();
      const response = await call('POST', `/users/${user.accountId}/tokens`, {
        expiresAt: '2999-01-01T01:00:00+01:00',
      });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal(response.json().expiresAt, '2999-01-01T00:00:00.000Z');
      assert.equal((await tryToken(user, response.json().token)).statusCode, 200);
    });

    test('POST …/tokens: 400, 404 and 409', async () => {
      const user = await newUser();
      const url = `/users/${user.accountId}/tokens`;
      assertConfluenceError(
        await call('POST', url, { expiresAt: '2000-01-01T00:00:00Z' }),
        400,
        /expiresAt 2000-01-01T00:00:00Z is not in the future/,
      );
      assertConfluenceError(
        await call('POST', url, { expiresAt: 'tomorrow' }),
        400,
        /request body expiresAt: must be an ISO-8601 date-time/,
      );
      assertConfluenceError(await call('POST', url, { name: '' }), 400, /request body name/);
      assertConfluenceError(await call('POST', url, { name: 'x'.repeat(256) }), 400, /request body name/);
      assertConfluenceError(await call('POST', url, { token: 'chosen-by-me' }), 400, /has unknown field token/);
      assertConfluenceError(await call('POST', url, []), 400, /request body: must be an object/);
      assertConfluenceError(await call('POST', '/users/bad%20id/tokens', {}), 400, /not a well-formed accountId/);
      assertConfluenceError(
        await call('POST', '/users/712020:nobody/tokens', {}),
        404,
        /No user with accountId 712020:nobody/,
      );
      assertConfluenceError(
        await call('POST', '/users/557058:notes-bot/tokens', {}),
        409,
        /is an app's bot user, which cannot log in/,
      );
      assert.equal((await call('GET', url)).json().size, 0, 'no token was written');
    });

    test('GET …/tokens: ids and names, never a token or a digest', async () => {
      const user = await newUser();
      const first = (await call('POST', `/users/${user.accountId}/tokens`, { name: 'one' })).json();
      const second = (
        await call('POST', `/users/${user.accountId}/tokens`, { name: 'two', expiresAt: '2999-12-31T00:00:00.000Z' })
      ).json();
      const response = await call('GET', `/users/${user.accountId}/tokens`);
      assert.equal(response.statusCode, 200);
      const body = response.json();
      // Oldest first; tokens of the same millisecond by id.
      const expected = [
        { id: first.id, name: 'one', accountId: user.accountId, createdAt: first.createdAt, expiresAt: null },
        {
          id: second.id,
          name: 'two',
          accountId: user.accountId,
          createdAt: second.createdAt,
          expiresAt: '2999-12-31T00:00:00.000Z',
        },
      ].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
      assert.deepEqual(body, {
        results: expected,
        start: 0,
        limit: 100,
        size: 2,
      });
      assert.ok(!response.body.includes(first.token) && !response.body.includes(second.token));
      assert.ok(!response.body.includes(fx.secrets.digest(first.token)));
      const page = await call('GET', `/users/${user.accountId}/tokens?start=1&limit=1`);
      assert.deepEqual(
        page.json().results.map((t: { id: string }) => t.id),
        [expected[1]!.id],
      );
      assertConfluenceError(
        await call('GET', `/users/${user.accountId}/tokens?limit=-1`),
        400,
        /query parameter limit/,
      );
      assertConfluenceError(
        await call('GET', '/users/712020:nobody/tokens'),
        404,
        /No user with accountId 712020:nobody/,
      );
      assertConfluenceError(await call('GET', '/users/bad%20id/tokens'), 400, /not a well-formed accountId/);
      // The seeded user's token is listed as "seed".
      assert.deepEqual(
        (await call('GET', `/users/${USERS.mia.accountId}/tokens`)).json().results.map((t: { name: string }) => t.name),
        ['seed'],
      );
    });

    test('DELETE /tokens/{id}: 204, and the token stops authenticating at once on this instance', async () => {
      const user = await newUser();
      const keep = (await call('POST', `/users/${user.accountId}/tokens`, { name: 'keep' })).json();
      const revoke = (await call('POST', `/users/${user.accountId}/tokens`, { name: 'revoke' })).json();
      assert.equal((await tryToken(user, revoke.token)).statusCode, 200);

      const response = await call('DELETE', `/tokens/${revoke.id}`);
      assert.equal(response.statusCode, 204);
      assert.equal(response.body, '');
      // The instance that revoked it forgets what it cached (docs/behaviour.md §10); others within a second (§7).
      assertConfluenceError(
        await tryToken(user, revoke.token),
        401,
        /Basic authentication failed: the email or API token is not valid/,
      );
      assert.equal((await tryToken(user, keep.token)).statusCode, 200, "the user's other token still works");
      assert.deepEqual(
        (await call('GET', `/users/${user.accountId}/tokens`)).json().results.map((t: { id: string }) => t.id),
        [keep.id],
      );

      assertConfluenceError(
        await call('DELETE', `/tokens/${revoke.id}`),
        404,
        new RegExp(`No API token with id ${revoke.id}`),
      );
      assertConfluenceError(await call('DELETE', `/tokens/${revoke.id.toUpperCase()}`), 404, /No API token with id/);
      assertConfluenceError(
        await call('DELETE', '/tokens/not-a-token-id'),
        400,
        /"not-a-token-id" is not a token id: token ids are UUIDs/,
      );
      const get = await call('GET', `/tokens/${keep.id}`);
      assertConfluenceError(get, 405, /Method GET is not allowed/);
      assert.equal(get.headers.allow, 'DELETE');
    });

    test("expired tokens and deactivated users' tokens do not authenticate", async () => {
      const user = await newUser();
      // Issued "a second ago" with an expiry half a second after that: already expired.
      const past = Date.now() - 1000;
      const expired = await new TokenAdmin(fx.store.db, DEFAULT_SITE, fx.secrets).create(
        user.accountId,
        { expiresAt: new Date(past + 500).toISOString() },
        new Date(past),
      );
      assertConfluenceError(await tryToken(user, expired.token), 401, /the API token has expired/);

      const valid = (await call('POST', `/users/${user.accountId}/tokens`, {})).json();
      assert.equal((await tryToken(user, valid.token)).statusCode, 200);
      assert.equal((await call('PATCH', `/users/${user.accountId}`, { active: false })).statusCode, 200);
      // A deactivated user may still be issued a token; it works only once they are reactivated.
      const issued = await call('POST', `/users/${user.accountId}/tokens`, {});
      assert.equal(issued.statusCode, 201);
      fx.clock.pastCacheLifetime();
      assertConfluenceError(await tryToken(user, valid.token), 401, /the account is deactivated/);
      assertConfluenceError(await tryToken(user, issued.json().token), 401, /the account is deactivated/);
    });
  });
}
