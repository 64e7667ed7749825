/**
 * Error envelopes (docs/behaviour.md §4, §1 "Error envelope, by path") and the order of
 * checks' first step (docs/behaviour.md §3): unknown routes, wrong methods, bodies that
 * are not JSON, and internal errors, on both stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basic, type Fixture, startFixture } from '../helpers/fixture.ts';
import { assertConfluenceError, assertJiraError, assertNoStackTrace, assertOAuthError } from '../helpers/security.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const MIA = '712020:mia';
const property = (key: string) => `/wiki/rest/api/user/${MIA}/property/${key}`;
const json = { 'content-type': 'application/json' };

/** What an internal error carries that must never reach a client. */
const SECRET_DETAIL = 'db password hunter2';

for (const kind of STORE_KINDS) {
  describe(`error envelopes on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
      // buildApp returns an instance that is not yet ready, so a test may
      // still add routes: these fail the way a bug in a handler would.
      const boom = async (): Promise<never> => {
        const error = new Error(`${SECRET_DETAIL}`);
        error.stack = `Error: ${SECRET_DETAIL}\n    at handler (/work/main/src/http/boom.ts:1:1)`;
        throw error;
      };
      const access = { kind: 'public' as const };
      fx.app.get('/wiki/rest/api/test-only/boom', { config: { access } }, boom);
      fx.app.get('/rest/api/3/test-only/boom', { config: { access } }, boom);
      fx.app.get('/wiki/rest/api/test-only/boom-sync', { config: { access } }, () => {
        throw new TypeError(`Cannot read properties of undefined (reading '${SECRET_DETAIL}')`);
      });
      fx.app.get('/wiki/rest/api/test-only/boom-value', { config: { access } }, async () => {
        throw { detail: SECRET_DETAIL };
      });
    });
    after(() => fx.close());

    test('404: unknown paths answer in the Confluence envelope, before credentials are looked at', async () => {
      for (const url of [
        '/nope',
        '/wiki/rest/api/nope',
        '/wiki/rest/api/user/712020:mia/property/k/extra',
        '/wiki/rest/api/content/1001/watch',
        '/rest/api/nope',
        '/rest/api/20/user',
        '/admin/api/nope',
      ]) {
        for (const headers of [{}, basic('mia'), { authorization: 'Bearer bad' }]) {
          const path = url.split('?')[0];
          assertConfluenceError(
            await fx.app.inject({ method: 'GET', url, headers }),
            404,
            new RegExp(`No resource at GET ${path!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
          );
        }
      }
      assertConfluenceError(
        await fx.app.inject({ method: 'POST', url: '/nope?x=1', headers: json, payload: '{"value": {' }),
        404,
        /No resource at POST \/nope$/,
      );
      // `/user` itself is served since the user directory (GET only): an unserved neighbour stands in.
      assertConfluenceError(
        await fx.app.inject({ method: 'DELETE', url: '/wiki/rest/api/group' }),
        404,
        /No resource at DELETE \/wiki\/rest\/api\/group/,
      );
      assertConfluenceError(
        await fx.app.inject({ method: 'DELETE', url: '/wiki/rest/api/user' }),
        405,
        /Method DELETE is not allowed on \/wiki\/rest\/api\/user; use GET, HEAD/,
      );
    });

    test('404: paths under /rest/api/2 and /rest/api/3 answer in the Jira envelope', async () => {
      for (const url of [
        '/rest/api/2/no-such-resource',
        '/rest/api/3/no/such/thing',
        '/rest/api/2',
        '/rest/api/3/',
        '/ex/jira/00000000-0000-0000-0000-000000000000/rest/api/3/nothing',
        // An empty cloudId (found by the fuzz run): a Jira route still matches, so its envelope must be Jira's.
        '/ex/jira//rest/api/2/user/properties/k',
        '/ex/jira//rest/api/3/user/properties',
      ]) {
        for (const headers of [{}, basic('mia')]) {
          assertJiraError(await fx.app.inject({ method: 'GET', url, headers }), 404, /No resource at GET/);
        }
      }
      assertJiraError(
        await fx.app.inject({
          method: 'PUT',
          url: '/rest/api/3/nothing',
          headers: { 'content-type': 'text/plain' },
          payload: 'x',
        }),
        404,
        /No resource at PUT \/rest\/api\/3\/nothing/,
      );
    });

    test('404: paths under /oauth2/ answer in the RFC 6749 envelope', async () => {
      assertOAuthError(
        await fx.app.inject({ method: 'GET', url: '/oauth2/no-such-endpoint' }),
        404,
        'invalid_request',
        /No resource at GET \/oauth2\/no-such-endpoint/,
      );
    });

    test('405: a known path with the wrong method names the methods in Allow, before credentials', async () => {
      const cases: Array<[string, string, string]> = [
        ['PATCH', property('k'), 'DELETE, GET, HEAD, POST, PUT'],
        ['POST', `/wiki/rest/api/user/${MIA}/property`, 'GET, HEAD'],
        ['DELETE', `/rest/api/user/${MIA}/property`, 'GET, HEAD'],
        ['PATCH', `/rest/api/user/${MIA}/property/k`, 'DELETE, GET, HEAD, POST, PUT'],
        ['POST', '/healthz', 'GET, HEAD'],
      ];
      for (const [method, url, allow] of cases) {
        for (const headers of [{}, basic('mia'), { authorization: 'Digest x' }]) {
          const response = await fx.app.inject({ method: method as 'GET', url, headers });
          assertConfluenceError(
            response,
            405,
            new RegExp(
              `Method ${method} is not allowed on ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; use ${allow}`,
            ),
          );
          assert.equal(response.headers.allow, allow);
        }
      }
      // The method is wrong before the body is: a malformed body does not turn a 405 into a 400.
      const malformed = await fx.app.inject({
        method: 'PATCH',
        url: property('k'),
        headers: { ...basic('mia'), ...json },
        payload: '{"value": {',
      });
      assertConfluenceError(malformed, 405, /Method PATCH is not allowed/);
      assert.equal(malformed.headers.allow, 'DELETE, GET, HEAD, POST, PUT');
    });

    test('400: a path parameter longer than the router matches, in the envelope of the path (found by the fuzz run)', async () => {
      const long = 'x'.repeat(2049);
      assertConfluenceError(
        await fx.app.inject({ method: 'GET', url: property(long), headers: basic('mia') }),
        400,
        /A path parameter is longer than 2048 characters/,
      );
      assertJiraError(
        await fx.app.inject({ method: 'DELETE', url: `/rest/api/3/user/properties/${long}?accountId=${MIA}` }),
        400,
        /A path parameter is longer than 2048 characters/,
      );
      // 2048 characters still route: the key is then refused by its own rule.
      assertConfluenceError(
        await fx.app.inject({ method: 'GET', url: property('x'.repeat(2048)), headers: basic('mia') }),
        400,
        /key/i,
      );
    });

    test('a client error raised by a plugin keeps its status, never a 500 (found by the fuzz run)', async () => {
      // The /docs assets refuse a path with an empty segment with their own 403.
      assertConfluenceError(
        await fx.app.inject({ method: 'GET', url: '/docs/static//index.html' }),
        403,
        /Forbidden: GET \/docs\/static\/\/index\.html/,
      );
      assert.equal((await fx.app.inject({ method: 'HEAD', url: '/docs/static//x' })).statusCode, 403);
    });

    test('400: bodies that are not valid JSON', async () => {
      const post = (payload: string, method: 'POST' | 'PUT' = 'POST') =>
        fx.app.inject({ method, url: property('malformed'), headers: { ...basic('mia'), ...json }, payload });
      assertConfluenceError(await post('{"value": {'), 400, /The request body is not valid JSON/);
      assertConfluenceError(await post('{value: {}}'), 400, /The request body is not valid JSON/);
      assertConfluenceError(await post("{'value': {}}"), 400, /The request body is not valid JSON/);
      assertConfluenceError(await post('{"value": {}} trailing'), 400, /The request body is not valid JSON/);
      assertConfluenceError(await post('{"value": {'), 400, /not valid JSON/);
      assertConfluenceError(await post('{"value": {', 'PUT'), 400, /not valid JSON/);
      assertConfluenceError(await post(''), 400, /The request body is empty/);
      // Deeper than any body a route takes: refused before it is parsed; brackets inside strings do not count.
      const deep = (levels: number) => `{"value": ${'['.repeat(levels)}1${']'.repeat(levels)}}`;
      assertConfluenceError(await post(deep(1000)), 400, /The request body is nested deeper than 1000 levels/);
      assertConfluenceError(await post(deep(500_000)), 400, /nested deeper than 1000 levels/);
      assertConfluenceError(await post(`{"value": ${'{"d":'.repeat(200)}1${'}'.repeat(200)}}`), 400, /deeper than 64/);
      assertConfluenceError(await post(`{"value": "${'['.repeat(5000)}"}`), 400, /^value must be a JSON object$/);
      // Nothing was written.
      assertConfluenceError(
        await fx.app.inject({ method: 'GET', url: property('malformed'), headers: basic('mia') }),
        404,
        /does not exist/,
      );
    });

    test('400, never 415: a body that is not labelled JSON names its content type', async () => {
      const send = (headers: Record<string, string>, payload: string, method: 'POST' | 'PUT' = 'POST') =>
        fx.app.inject({ method, url: property('typed'), headers: { ...basic('mia'), ...headers }, payload });
      const body = '{"value":{}}';
      for (const type of [
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'text/json',
      ]) {
        const response = await send({ 'content-type': type }, body);
        assert.notEqual(response.statusCode, 415);
        assertConfluenceError(
          response,
          400,
          new RegExp(
            `Content-Type "${type.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" is not supported: send application/json`,
          ),
        );
      }
      assertConfluenceError(
        await send({ 'content-type': 'text/plain' }, body, 'PUT'),
        400,
        /Content-Type "text\/plain" is not supported/,
      );
      assertConfluenceError(await send({}, body), 400, /The request body has no Content-Type: send application\/json/);
      // Not even a media type: Fastify's own answer would be 415.
      const invalid = await send({ 'content-type': 'not a type' }, body);
      assert.notEqual(invalid.statusCode, 415);
      assertConfluenceError(invalid, 400, /Content-Type "not a type" is not supported/);
      // The JSON type with parameters is still JSON.
      assert.equal((await send({ 'content-type': 'application/json; charset=utf-8' }, body)).statusCode, 201);
    });

    test('500: an internal error carries a request id and no detail or stack trace', async () => {
      const boom = await fx.app.inject({
        method: 'GET',
        url: '/wiki/rest/api/test-only/boom',
        headers: { 'x-request-id': 'req-test-0001' },
      });
      const body = assertConfluenceError(boom, 500, /^Internal server error \(request id req-test-0001\)$/);
      assert.equal(body.data.authorized, true);
      assert.doesNotMatch(boom.body, /hunter2|boom\.ts/);

      const generated = await fx.app.inject({ method: 'GET', url: '/wiki/rest/api/test-only/boom' });
      assertConfluenceError(generated, 500, /^Internal server error \(request id \S+\)$/);

      for (const url of ['/wiki/rest/api/test-only/boom-sync', '/wiki/rest/api/test-only/boom-value']) {
        const response = await fx.app.inject({ method: 'GET', url, headers: { 'x-request-id': 'req-test-0002' } });
        assertConfluenceError(response, 500, /^Internal server error \(request id req-test-0002\)$/);
        assert.doesNotMatch(response.body, /hunter2|TypeError|Cannot read/);
      }

      const jira = await fx.app.inject({
        method: 'GET',
        url: '/rest/api/3/test-only/boom',
        headers: { 'x-request-id': 'req-test-0003' },
      });
      assertJiraError(jira, 500, /^Internal server error \(request id req-test-0003\)$/);
      assert.doesNotMatch(jira.body, /hunter2/);
    });
  });

  describe(`internal errors from a failing database on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
      await fx.store.db.destroy();
    });
    after(() => fx.close());

    test('500 with a request id, in the envelope of the path, and no driver detail or stack trace', async () => {
      for (const headers of [basic('mia'), {}]) {
        const response = await fx.app.inject({
          method: 'GET',
          url: property('any'),
          headers: { ...headers, 'x-request-id': 'req-db-0001' },
        });
        assertConfluenceError(response, 500, /^Internal server error \(request id req-db-0001\)$/);
        assert.doesNotMatch(response.body, /sqlite|postgres|pool|destroy|connection|driver/i);
      }
      const write = await fx.app.inject({
        method: 'POST',
        url: property('any'),
        headers: { ...basic('mia'), ...json },
        payload: '{"value":{}}',
      });
      assertConfluenceError(write, 500, /^Internal server error \(request id \S+\)$/);
      assertNoStackTrace(write);
      // Routing needs no database: unknown paths and wrong methods still answer.
      assertConfluenceError(await fx.app.inject({ method: 'GET', url: '/nope' }), 404, /No resource/);
      assertConfluenceError(await fx.app.inject({ method: 'PATCH', url: property('any') }), 405, /not allowed/);
      assertJiraError(await fx.app.inject({ method: 'GET', url: '/rest/api/2/nope' }), 404, /No resource/);
    });
  });
}
