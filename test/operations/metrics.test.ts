/**
 * `--metrics` (docs/decisions.md, "Operations"): Prometheus `/metrics`,
 * public, counting requests by route template, method and status, with
 * latency histograms and authentication outcomes; absent when off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basicAuth } from '../helpers/credentials.ts';
import { basic, USERS } from '../helpers/fixture.ts';
import { assertConfluenceError } from '../helpers/security.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { type OperationsFixture, startOperationsFixture } from './app.ts';

const PROPERTY_ROUTE = '/wiki/rest/api/user/:userId/property/:key';
const MIA = USERS.mia.accountId;

/** `name{a="1",b="2"} 3` lines → value by `name{a="1",b="2"}`, labels sorted by name. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, name, value]) => `${name}="${value}"`)
      .sort();
    found.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return found;
}

const key = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .sort()
    .join(',')}}`;

for (const kind of STORE_KINDS) {
  describe(`--metrics on ${kind}`, () => {
    let fx: OperationsFixture;
    before(async () => {
      fx = await startOperationsFixture(kind, { metrics: true });
    });
    after(() => fx.close());

    test('counts requests by route template, method and status, with latency and authentication outcomes', async () => {
      const url = `/wiki/rest/api/user/${encodeURIComponent(MIA)}/property/metrics-theme`;
      const created = await fx.app.inject({
        method: 'POST',
        url,
        headers: basic('mia'),
        payload: { value: { dark: true } },
      });
      assert.equal(created.statusCode, 201, created.body);
      for (let i = 0; i < 2; i++) {
        assert.equal((await fx.app.inject({ method: 'GET', url, headers: basic('mia') })).statusCode, 200);
      }
      const wrong = basicAuth(USERS.mia.email, 'not-the-token');
      assert.equal((await fx.app.inject({ method: 'GET', url, headers: wrong })).statusCode, 401);
      assert.equal((await fx.app.inject({ method: 'GET', url })).statusCode, 401);
      assert.equal((await fx.app.inject({ method: 'GET', url: '/no/such/path/712020:mia' })).statusCode, 404);

      const scraped = await fx.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(scraped.statusCode, 200);
      assert.match(String(scraped.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const metrics = samples(scraped.body);
      const requests = (method: string, route: string, status: string) =>
        metrics.get(key('userplane_http_requests_total', { method, route, status }));
      assert.equal(requests('POST', PROPERTY_ROUTE, '201'), 1);
      assert.equal(requests('GET', PROPERTY_ROUTE, '200'), 2);
      assert.equal(requests('GET', PROPERTY_ROUTE, '401'), 2);
      assert.equal(requests('GET', '(unmatched)', '404'), 1);
      assert.equal(
        metrics.get(
          key('userplane_http_request_duration_seconds_count', { method: 'GET', route: PROPERTY_ROUTE, status: '200' }),
        ),
        2,
      );
      assert.equal(
        metrics.get(
          key('userplane_http_request_duration_seconds_bucket', {
            method: 'GET',
            route: PROPERTY_ROUTE,
            status: '200',
            le: '+Inf',
          }),
        ),
        2,
      );
      const auth = (mode: string, outcome: string) =>
        metrics.get(key('userplane_authentications_total', { mode, outcome }));
      assert.equal(auth('basic', 'ok'), 3);
      assert.equal(auth('basic', 'failed'), 1);
      assert.equal(auth('anonymous', 'failed'), 1);

      // Ids, keys and paths asked for never become label values.
      assert.doesNotMatch(scraped.body, /712020|metrics-theme|no\/such/);
      // The process's own figures.
      assert.ok(metrics.has(key('process_cpu_user_seconds_total', {})));
      assert.ok([...metrics.keys()].some((name) => name.startsWith('nodejs_heap_size_used_bytes')));
    });

    test('/metrics needs no credentials and reads none', async () => {
      for (const headers of [{}, { authorization: 'Basic bm9ib2R5Om5vdGhpbmc=' }, { authorization: 'JWT garbage' }]) {
        const response = await fx.app.inject({ method: 'GET', url: '/metrics', headers });
        assert.equal(response.statusCode, 200);
      }
      assert.ok(fx.app.routeAccess.some(({ url, access }) => url === '/metrics' && access.kind === 'public'));
    });

    test('a second app in the same process has its own registry', async () => {
      const other = await startOperationsFixture(kind, { metrics: true });
      try {
        const response = await other.app.inject({ method: 'GET', url: '/metrics' });
        assert.equal(response.statusCode, 200);
        assert.doesNotMatch(response.body, /route="\/wiki\/rest\/api\/user\/:userId\/property\/:key"/);
      } finally {
        await other.close();
      }
    });
  });

  describe(`without --metrics on ${kind}`, () => {
    let fx: OperationsFixture;
    before(async () => {
      fx = await startOperationsFixture(kind, {});
    });
    after(() => fx.close());

    test('/metrics does not exist', async () => {
      assertConfluenceError(
        await fx.app.inject({ method: 'GET', url: '/metrics' }),
        404,
        /No resource at GET \/metrics/,
      );
      assert.ok(!fx.app.routeAccess.some(({ url }) => url === '/metrics'));
    });
  });
}
