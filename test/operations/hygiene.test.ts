/**
 * HTTP hygiene (docs/decisions.md, "Operations"): the `/docs` page and its
 * assets carry a same-origin Content-Security-Policy that no page may frame,
 * nosniff and no referrer; CORS is off unless `--cors-origin` names the
 * origins, and then answers exactly those.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basic, USERS } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { type OperationsFixture, startOperationsFixture } from './app.ts';

const ALLOWED = 'http://localhost:3000';
const ALSO_ALLOWED = 'https://dev.example.com:8443';
const OTHER = 'https://evil.example';
const PROPERTIES = `/wiki/rest/api/user/${encodeURIComponent(USERS.mia.accountId)}/property`;

const corsHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((name) => name.toLowerCase().startsWith('access-control-'));

const preflight = (origin: string, url = PROPERTIES) => ({
  method: 'OPTIONS' as const,
  url,
  headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' },
});

for (const kind of STORE_KINDS) {
  describe(`HTTP hygiene on ${kind}, CORS off (the default)`, () => {
    let fx: OperationsFixture;
    before(async () => {
      fx = await startOperationsFixture(kind, {});
    });
    after(() => fx.close());

    test('the /docs page and its assets carry the security headers', async () => {
      for (const url of ['/docs', '/docs/static/swagger-initializer.js', '/docs/static/swagger-ui.css', '/docs/json']) {
        const response = await fx.app.inject({ method: 'GET', url });
        assert.equal(response.statusCode, 200, url);
        const policy = String(response.headers['content-security-policy']);
        assert.match(policy, /default-src 'self'/, url);
        assert.match(policy, /frame-ancestors 'none'/, url);
        // Same origin, and nothing that would move a plain-http server's assets to https.
        assert.doesNotMatch(policy, /upgrade-insecure-requests|https:/, url);
        assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
        assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
      }
    });

    test('no CORS header on answers, and a preflight is not answered with CORS', async () => {
      const answer = await fx.app.inject({
        method: 'GET',
        url: PROPERTIES,
        headers: { ...basic('mia'), origin: ALLOWED },
      });
      assert.equal(answer.statusCode, 200);
      assert.deepEqual(corsHeaders(answer.headers), []);
      const response = await fx.app.inject(preflight(ALLOWED));
      assert.notEqual(response.statusCode, 204);
      assert.deepEqual(corsHeaders(response.headers), []);
    });
  });

  describe(`HTTP hygiene on ${kind}, --cors-origin`, () => {
    let fx: OperationsFixture;
    before(async () => {
      fx = await startOperationsFixture(kind, { corsOrigin: `${ALLOWED},${ALSO_ALLOWED}` });
    });
    after(() => fx.close());

    test('a listed origin gets its preflight answered, before credentials, and its answers name it', async () => {
      for (const origin of [ALLOWED, ALSO_ALLOWED]) {
        const response = await fx.app.inject(preflight(origin));
        assert.equal(response.statusCode, 204, response.body);
        assert.equal(response.headers['access-control-allow-origin'], origin);
        assert.match(String(response.headers['access-control-allow-methods']), /PUT/);
        assert.match(String(response.headers['access-control-allow-headers']), /authorization/i);
      }
      const answer = await fx.app.inject({
        method: 'GET',
        url: PROPERTIES,
        headers: { ...basic('mia'), origin: ALLOWED },
      });
      assert.equal(answer.statusCode, 200);
      assert.equal(answer.headers['access-control-allow-origin'], ALLOWED);
      assert.match(String(answer.headers['access-control-expose-headers']), /ETag/);
      // A refusal names the origin too, so the browser lets the caller read why.
      const refused = await fx.app.inject({ method: 'GET', url: PROPERTIES, headers: { origin: ALLOWED } });
      assert.equal(refused.statusCode, 401);
      assert.equal(refused.headers['access-control-allow-origin'], ALLOWED);
    });

    test('any other origin gets no CORS header, and no preflight answer', async () => {
      const answer = await fx.app.inject({
        method: 'GET',
        url: PROPERTIES,
        headers: { ...basic('mia'), origin: OTHER },
      });
      assert.equal(answer.statusCode, 200);
      assert.deepEqual(corsHeaders(answer.headers), []);
      const response = await fx.app.inject(preflight(OTHER));
      assert.notEqual(response.statusCode, 204);
      assert.deepEqual(corsHeaders(response.headers), []);
    });

    test('the preflight route is public and reads no credentials; every other route keeps its access', async () => {
      const entries = fx.app.routeAccess.filter(({ url }) => url === '*');
      assert.deepEqual(
        entries.map(({ method, access }) => [method, access.kind]),
        [['OPTIONS', 'public']],
      );
      const response = await fx.app.inject({
        ...preflight(ALLOWED),
        headers: { ...preflight(ALLOWED).headers, authorization: 'Basic bm9ib2R5Om5vdGhpbmc=' },
      });
      assert.equal(response.statusCode, 204);
    });
  });
}
