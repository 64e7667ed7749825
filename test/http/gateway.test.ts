/**
 * The OAuth gateway forms and `/_edge/tenant_info` (docs/behaviour.md §1), on both
 * stores: `/ex/confluence/{cloudId}` serves Confluence only, `/ex/jira/{cloudId}`
 * serves Jira only, and a wrong cloudId or product is a 404 in the envelope
 * of the path, before credentials and before a wrong method's 405.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CONFLUENCE_API, CONFLUENCE_API_ALIAS } from '../../src/http/paths.ts';
import { connectJwt, connectJwtToken } from '../helpers/credentials.ts';
import { APPS, basic, cloudIdOf, type Fixture, startFixture, USERS } from '../helpers/fixture.ts';
import { assertConfluenceError, assertJiraError } from '../helpers/security.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const MIA = USERS.mia.accountId;
const json = { 'content-type': 'application/json' };
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const kind of STORE_KINDS) {
  describe(`gateway paths on ${kind}`, () => {
    let fx: Fixture;
    let cloudId: string;
    before(async () => {
      fx = await startFixture(kind);
      cloudId = await cloudIdOf(fx);
    });
    after(() => fx.close());

    const send = (method: string, url: string, headers: Record<string, string> = basic('mia'), payload?: string) =>
      fx.app.inject({
        method: method as 'GET',
        url,
        headers: payload === undefined ? headers : { ...json, ...headers },
        payload,
      });

    test("GET /_edge/tenant_info answers the site's cloudId, to anyone", async () => {
      assert.match(cloudId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      for (const headers of [
        {},
        basic('mia'),
        { authorization: 'Basic bm90OnZhbGlk' },
        { authorization: 'JWT garbage' },
      ]) {
        const response = await send('GET', '/_edge/tenant_info', headers);
        assert.equal(response.statusCode, 200);
        assert.match(String(response.headers['content-type']), /^application\/json/);
        assert.deepEqual(response.json(), { cloudId });
      }
      const wrong = await send('POST', '/_edge/tenant_info', {}, '{}');
      assertConfluenceError(wrong, 405, /Method POST is not allowed on \/_edge\/tenant_info; use GET, HEAD/);
    });

    test('a seeded cloudId is the one served', async () => {
      const seeded = await startFixture(kind, { cloudId: '8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b' });
      try {
        assert.deepEqual((await seeded.app.inject({ method: 'GET', url: '/_edge/tenant_info' })).json(), {
          cloudId: '8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b',
        });
        const url = `/ex/jira/8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b/rest/api/3/user/properties?accountId=${MIA}`;
        assert.equal((await seeded.app.inject({ method: 'GET', url, headers: basic('mia') })).statusCode, 200);
      } finally {
        await seeded.close();
      }
    });

    test('/ex/jira/{cloudId}/rest/api/{2,3} serves Jira user properties: the same data as the direct paths', async () => {
      for (const v of [2, 3]) {
        const key = `gw-${v}`;
        const gateway = `/ex/jira/${cloudId}/rest/api/${v}/user/properties/${key}?accountId=${MIA}`;
        const direct = `/rest/api/${v}/user/properties/${key}?accountId=${MIA}`;
        const created = await send('PUT', gateway, basic('mia'), '{"via":"gateway"}');
        assert.equal(created.statusCode, 201, created.body);
        assert.equal(created.headers['x-aaccountid'], MIA);
        assert.deepEqual((await send('GET', direct)).json(), { key, value: { via: 'gateway' } });
        assert.equal((await send('PUT', direct, basic('mia'), '{"via":"direct"}')).statusCode, 200);
        const read = await send('GET', gateway);
        assert.equal(read.statusCode, 200);
        assert.deepEqual(read.json(), { key, value: { via: 'direct' } });

        // self links name the canonical site URL, in the requested version.
        const list = await send('GET', `/ex/jira/${cloudId}/rest/api/${v}/user/properties?accountId=${MIA}`);
        assert.deepEqual(
          list.json().keys.find((k: { key: string }) => k.key === key),
          {
            key,
            self: `http://userplane.test/rest/api/${v}/user/properties/${key}?accountId=712020%3Amia`,
          },
        );

        // Errors are Jira's, with the caller named.
        const missing = await send('GET', `/ex/jira/${cloudId}/rest/api/${v}/user/properties/nope?accountId=${MIA}`);
        assertJiraError(missing, 404, /The property "nope" does not exist/);
        assert.equal(missing.headers['x-aaccountid'], MIA);
        assertJiraError(
          await send('GET', `/ex/jira/${cloudId}/rest/api/${v}/user/properties/k`),
          400,
          /accountId is missing/,
        );
        assertJiraError(
          await send('GET', `/ex/jira/${cloudId}/rest/api/${v}/user/properties/k?accountId=${MIA}`, {}),
          401,
          /does not allow anonymous access/,
        );
        assertJiraError(
          await send('GET', `/ex/jira/${cloudId}/rest/api/${v}/user/properties/k?accountId=712020:noah`),
          403,
          /only your own/,
        );
        const put405 = await send('PUT', `/ex/jira/${cloudId}/rest/api/${v}/user/properties`, basic('mia'), '{}');
        assertJiraError(put405, 405, /Method PUT is not allowed/);
        assert.equal(put405.headers.allow, 'GET, HEAD');
        assertJiraError(
          await send('PUT', `/ex/jira/${cloudId}/rest/api/${v}/user/properties/`, basic('mia'), '{}'),
          405,
          /the property key is missing/,
        );
        assert.equal((await send('DELETE', gateway)).statusCode, 204);
      }
    });

    test('/ex/confluence/{cloudId} serves Confluence under /wiki/rest/api and /rest/api', async () => {
      for (const base of [CONFLUENCE_API, CONFLUENCE_API_ALIAS]) {
        const key = `gw${base.replace(/\//g, '-')}`;
        const gateway = `/ex/confluence/${cloudId}${base}/user/${MIA}/property/${key}`;
        const created = await send('POST', gateway, basic('mia'), '{"value":{"via":"gateway"}}');
        assert.equal(created.statusCode, 201, created.body);
        // Links name the canonical site URL, not the gateway.
        assert.equal(
          created.json()._links.self,
          `http://userplane.test/wiki/rest/api/user/712020%3Amia/property/${key}`,
        );
        assert.equal(created.headers['x-aaccountid'], undefined, "X-AAccountId is Jira's header");
        assert.deepEqual((await send('GET', `/wiki/rest/api/user/${MIA}/property/${key}`)).json().value, {
          via: 'gateway',
        });
        assert.equal((await send('PUT', gateway, basic('mia'), '{"value":{"via":"again"}}')).statusCode, 204);
        assert.deepEqual((await send('GET', gateway)).json().value, { via: 'again' });
        const list = await send('GET', `/ex/confluence/${cloudId}${base}/user/${MIA}/property`);
        assert.ok(list.json().results.some((r: { key: string }) => r.key === key));
        // Errors are Confluence's.
        assertConfluenceError(
          await send('GET', `/ex/confluence/${cloudId}${base}/user/${MIA}/property/nope`),
          404,
          /Property "nope" does not exist/,
        );
        assertConfluenceError(await send('GET', gateway, {}), 401, /does not allow anonymous access/);
        assertConfluenceError(
          await send('GET', `/ex/confluence/${cloudId}${base}/user/712020:noah/property/x`),
          403,
          /only your own/,
        );
        const wrongMethod = await send('PATCH', gateway);
        assertConfluenceError(wrongMethod, 405, /Method PATCH is not allowed/);
        assert.equal(wrongMethod.headers.allow, 'DELETE, GET, HEAD, POST, PUT');
        assert.equal((await send('DELETE', gateway)).statusCode, 204);
      }
    });

    test('a wrong cloudId is a 404 in the envelope of the path, before credentials and before 405', async () => {
      const others = [
        '00000000-0000-0000-0000-000000000000',
        cloudId.toUpperCase(),
        `${cloudId}x`,
        `${cloudId}%20`,
        'not%20a%20cloud',
        'x',
      ];
      const paths = (id: string): Array<[string, string, 'jira' | 'confluence']> => [
        ['GET', `/ex/jira/${id}/rest/api/3/user/properties?accountId=${MIA}`, 'jira'],
        ['GET', `/ex/jira/${id}/rest/api/2/user/properties/k?accountId=${MIA}`, 'jira'],
        ['PATCH', `/ex/jira/${id}/rest/api/3/user/properties/k`, 'jira'],
        ['PUT', `/ex/jira/${id}/rest/api/3/user/properties`, 'jira'],
        ['GET', `/ex/jira/${id}/rest/api/3/no-such-resource`, 'jira'],
        ['GET', `/ex/confluence/${id}/wiki/rest/api/user/${MIA}/property`, 'confluence'],
        ['POST', `/ex/confluence/${id}/rest/api/user/${MIA}/property/k`, 'confluence'],
        ['PATCH', `/ex/confluence/${id}/wiki/rest/api/user/${MIA}/property/k`, 'confluence'],
      ];
      for (const id of others) {
        if (id === cloudId) continue; // a cloudId without letters has no upper case
        for (const [method, url, envelope] of paths(id)) {
          for (const headers of [{}, basic('mia'), { authorization: 'Digest x' }]) {
            const response = await send(method, url, headers, method === 'GET' ? undefined : '{"value": {');
            const pattern = new RegExp(
              `No resource at ${method} ${escapeRegExp(url.split('?')[0]!)}: ".*" is not this site's cloudId`,
            );
            if (envelope === 'jira') assertJiraError(response, 404, pattern);
            else assertConfluenceError(response, 404, pattern);
            assert.equal(response.headers['x-aaccountid'], undefined);
          }
        }
      }
    });

    test("a product under the other product's name, or an unknown product, is a 404", async () => {
      const cases: Array<[string, 'jira' | 'confluence']> = [
        [`/ex/jira/${cloudId}/wiki/rest/api/user/${MIA}/property`, 'confluence'],
        [`/ex/jira/${cloudId}/rest/api/user/${MIA}/property`, 'confluence'],
        [`/ex/confluence/${cloudId}/rest/api/3/user/properties?accountId=${MIA}`, 'confluence'],
        [`/ex/confluence/${cloudId}/rest/api/2/user/properties/k?accountId=${MIA}`, 'confluence'],
        [`/ex/bitbucket/${cloudId}/rest/api/3/user/properties?accountId=${MIA}`, 'confluence'],
        [`/ex/jira/${cloudId}/rest/api/4/user/properties?accountId=${MIA}`, 'confluence'],
        [`/ex/jira/${cloudId}`, 'confluence'],
        [`/ex/jira/${cloudId}/`, 'confluence'],
        ['/ex/jira', 'confluence'],
        ['/ex/', 'confluence'],
      ];
      for (const [url, envelope] of cases) {
        for (const headers of [{}, basic('admin')]) {
          const response = await send('GET', url, headers);
          const pattern = new RegExp(`^No resource at GET ${escapeRegExp(url.split('?')[0]!)}$`);
          if (envelope === 'jira') assertJiraError(response, 404, pattern);
          else assertConfluenceError(response, 404, pattern);
        }
      }
      // A cloudId that is not even valid percent-encoding is a malformed URL.
      assertJiraError(
        await send('GET', `/ex/jira/%E0%A4%A/rest/api/3/user/properties?accountId=${MIA}`),
        400,
        /The request URL is not valid/,
      );
      assertConfluenceError(
        await send('GET', `/ex/confluence/%E0%A4%A/wiki/rest/api/user/${MIA}/property`),
        400,
        /The request URL is not valid/,
      );
      // Under its own name, the Jira envelope holds for unknown Jira paths too.
      assertJiraError(await send('GET', `/ex/jira/${cloudId}/rest/api/3/nothing`), 404, /^No resource at GET/);
    });

    test('Connect JWTs: the qsh is computed without the gateway prefix (docs/behaviour.md §3)', async () => {
      for (const [gateway, bare] of [
        [
          `/ex/jira/${cloudId}/rest/api/3/user/properties/jwt?accountId=${MIA}`,
          `/rest/api/3/user/properties/jwt?accountId=${MIA}`,
        ],
        [`/ex/confluence/${cloudId}/wiki/rest/api/user/${MIA}/property/jwt`, `/wiki/rest/api/user/${MIA}/property/jwt`],
        [`/ex/confluence/${cloudId}/rest/api/user/${MIA}/property/jwt`, `/rest/api/user/${MIA}/property/jwt`],
      ] as Array<[string, string]>) {
        const jira = gateway.includes('/ex/jira/');
        const method = jira ? 'PUT' : 'POST';
        const payload = jira ? '{"by":"notes"}' : '{"value":{"by":"notes"}}';
        const created = await send(method, gateway, connectJwt(APPS.notes, method, bare), payload);
        assert.equal(created.statusCode, 201, created.body);
        const read = await send(
          'GET',
          `${gateway}${gateway.includes('?') ? '&' : '?'}jwt=${connectJwtToken(APPS.notes, 'GET', bare)}`,
          {},
        );
        assert.equal(read.statusCode, 200, read.body);
        // A qsh over the full gateway path names another request.
        const full = await send('GET', gateway, connectJwt(APPS.notes, 'GET', gateway));
        if (jira) assertJiraError(full, 401, /the qsh claim does not match this request/);
        else assertConfluenceError(full, 401, /the qsh claim does not match this request/);
        assert.equal((await send('DELETE', gateway, connectJwt(APPS.notes, 'DELETE', bare))).statusCode, 204);
      }
    });
  });
}
