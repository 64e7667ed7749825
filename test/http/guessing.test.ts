/**
 * Throttling of credential guessing (docs/behaviour.md §3), on both stores:
 * failed credentials counted per identity (a Basic email, a Connect JWT's
 * iss, the token endpoint's client_id) and per client address; past the
 * site's limits, 429 with Retry-After for the rest of the minute, even for
 * the right credential, in the path's envelope; other identities unaffected;
 * successes never counted. The minute passes on the fixture's clock.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { GUESSING_WINDOW_MS } from '../../src/domain/guessing.ts';
import type { SeedFile } from '../../src/schemas/seed.ts';
import { adminCaller } from '../helpers/admin.ts';
import { basicAuth, bearer, connectJwt, connectJwtToken, type Headers } from '../helpers/credentials.ts';
import { APPS, basic, type Fixture, loadOAuthFixture, OAUTH_APPS, startFixture, USERS } from '../helpers/fixture.ts';
import { assertConfluenceError, assertJiraError, assertOAuthError } from '../helpers/security.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const CURRENT = '/wiki/rest/api/user/current';
const JIRA_PROPERTY = `/rest/api/3/user/properties/theme?accountId=${USERS.mia.accountId}`;
const USER = `/wiki/rest/api/user?accountId=${USERS.mia.accountId}`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const THROTTLED = /Too many failed credentials/;
const wrongMia = () => basicAuth(USERS.mia.email, 'not-mias-token');

for (const kind of STORE_KINDS) {
  describe(`credential guessing on ${kind}`, () => {
    let fx: Fixture | undefined;
    const start = async (site: SeedFile['site'] = {}) => {
      fx = await startFixture(kind, site);
      return fx;
    };
    afterEach(async () => {
      await fx?.close();
      fx = undefined;
    });

    const get = (url: string, headers: Headers, remoteAddress?: string) =>
      fx!.app.inject({ method: 'GET', url, headers, ...(remoteAddress ? { remoteAddress } : {}) });
    const token = (params: Record<string, string>, remoteAddress?: string) =>
      fx!.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: FORM,
        payload: new URLSearchParams(params).toString(),
        ...(remoteAddress ? { remoteAddress } : {}),
      });

    test('the 11th failed Basic credential for one email and those after it get 429, the right token included, until the minute ends', async () => {
      const { clock } = await start();
      for (let i = 0; i < 10; i++) assertConfluenceError(await get(CURRENT, wrongMia()), 401, /not valid/);

      const refused = await get(CURRENT, wrongMia());
      assertConfluenceError(refused, 429, THROTTLED);
      assert.equal(refused.headers['retry-after'], '60');
      // The right token is not even checked, whatever the case of the email or the product.
      assertConfluenceError(await get(CURRENT, basic('mia')), 429, THROTTLED);
      assertConfluenceError(await get(CURRENT, basicAuth('MIA@example.com', USERS.mia.token)), 429, THROTTLED);
      assertJiraError(await get(JIRA_PROPERTY, basic('mia')), 429, THROTTLED);
      // Another user is unaffected.
      assert.equal((await get(CURRENT, basic('noah'))).statusCode, 200);

      clock.advance(GUESSING_WINDOW_MS / 2);
      assert.equal((await get(CURRENT, basic('mia'))).headers['retry-after'], '30');
      clock.advance(GUESSING_WINDOW_MS / 2);
      const after = await get(CURRENT, basic('mia'));
      assert.equal(after.statusCode, 200, after.body);
      assert.equal(after.json().accountId, USERS.mia.accountId);
    });

    test("a Connect JWT's iss is an identity: wrong signatures for one app end in 429, another app is unaffected", async () => {
      const { clock } = await start();
      const { notes, reader } = APPS;
      const forged = { ...notes, sharedSecret: 'not-the-notes-shared-secret-of-32-chars' };
      for (let i = 0; i < 10; i++) assertConfluenceError(await get(USER, connectJwt(forged, 'GET', USER)), 401, /JWT/);

      const refused = await get(USER, connectJwt(notes, 'GET', USER));
      assertConfluenceError(refused, 429, THROTTLED);
      assert.equal(refused.headers['retry-after'], '60');
      const inQuery = `${USER}&jwt=${connectJwtToken(notes, 'GET', USER)}`;
      assertConfluenceError(await get(inQuery, {}), 429, THROTTLED);
      assert.equal((await get(USER, connectJwt(reader, 'GET', USER))).statusCode, 200);

      clock.advance(GUESSING_WINDOW_MS);
      assert.equal((await get(USER, connectJwt(notes, 'GET', USER))).statusCode, 200);
    });

    test('POST /oauth2/token counts failed client authentications per client_id and answers 429 in the RFC 6749 envelope', async () => {
      const started = await start();
      await loadOAuthFixture(started);
      const { oauth, noImpersonation } = OAUTH_APPS;
      const wrong = { grant_type: 'client_credentials', client_id: oauth.oauthClientId, client_secret: 'wrong' };
      const right = { ...wrong, client_secret: oauth.clientSecret };
      for (let i = 0; i < 10; i++) assertOAuthError(await token(wrong), 401, 'invalid_client', /not valid/);

      const refused = await token(right);
      const body = assertOAuthError(refused, 429, 'temporarily_unavailable', THROTTLED);
      assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
      assert.equal(refused.headers['retry-after'], '60');
      assert.equal(refused.headers['cache-control'], 'no-store');
      const other = await token({
        grant_type: 'client_credentials',
        client_id: noImpersonation.oauthClientId,
        client_secret: noImpersonation.clientSecret,
      });
      assert.equal(other.statusCode, 200, other.body);

      started.clock.advance(GUESSING_WINDOW_MS);
      const issued = await token(right);
      assert.equal(issued.statusCode, 200, issued.body);
    });

    test('failures from one address, whatever they name, end in 429 for every credential from it; other addresses are unaffected', async () => {
      const { clock } = await start({ failedCredentialsPerAddress: 3 });
      const guesser = '203.0.113.7';
      assert.equal((await get(CURRENT, wrongMia(), guesser)).statusCode, 401);
      assert.equal((await get(CURRENT, basicAuth('nobody@example.com', 'guess'), guesser)).statusCode, 401);
      // A bearer token names no identity but counts against its address.
      assert.equal((await get(CURRENT, bearer('upb_not-a-token'), guesser)).statusCode, 401);

      const refused = await get(CURRENT, basic('noah'), guesser);
      assertConfluenceError(refused, 429, THROTTLED);
      assert.equal(refused.headers['retry-after'], '60');
      assertOAuthError(
        await token({ grant_type: 'client_credentials', client_id: 'any', client_secret: 'any' }, guesser),
        429,
        'temporarily_unavailable',
        THROTTLED,
      );
      // Mia's own count is 1: from another address her token works.
      assert.equal((await get(CURRENT, basic('mia'), '198.51.100.2')).statusCode, 200);

      clock.advance(GUESSING_WINDOW_MS);
      assert.equal((await get(CURRENT, basic('noah'), guesser)).statusCode, 200);
    });

    test('successes never count, and the limits are site settings the admin API changes', async () => {
      const started = await start();
      const admin = adminCaller(() => started);
      const patched = await admin('PATCH', '/site', {
        failedCredentialsPerIdentity: 2,
        failedCredentialsPerAddress: 5,
      });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().failedCredentialsPerIdentity, 2);
      assert.equal(patched.json().failedCredentialsPerAddress, 5);
      for (const bad of [0, 1_000_001, 1.5]) {
        assert.equal((await admin('PATCH', '/site', { failedCredentialsPerIdentity: bad })).statusCode, 400);
      }

      // Cached and uncached successes alike, far past both limits.
      for (let i = 0; i < 20; i++) {
        if (i % 5 === 0) started.clock.pastCacheLifetime();
        assert.equal((await get(CURRENT, basic('mia'))).statusCode, 200);
      }
      assert.equal((await get(CURRENT, wrongMia())).statusCode, 401);
      assert.equal((await get(CURRENT, basic('mia'))).statusCode, 200);
      assert.equal((await get(CURRENT, wrongMia())).statusCode, 401);
      assertConfluenceError(await get(CURRENT, basic('mia')), 429, THROTTLED);
    });
  });
}
