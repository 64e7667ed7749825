/**
 * `--metrics` (docs/decisions.md, "Operations"): Prometheus `/metrics`,
 * public, counting requests by route template, method and status, with
 * latency histograms and authentication outcomes, the token endpoint's
 * outcomes by grant, and the database's figures (PostgreSQL's pool, SQLite's
 * group-commit batches), §12's rate-limit refusals by reason and kind and
 * injected faults by action; absent when off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadSeed } from '../../src/domain/seed.ts';
import { POOL_SIZE } from '../../src/store/postgres.ts';
import { basicAuth, bearer, connectJwt } from '../helpers/credentials.ts';
import { APPS, basic, impersonationAssertion, OAUTH_APPS, oauthSeed, USERS } from '../helpers/fixture.ts';
import { assertConfluenceError } from '../helpers/security.ts';
import { OPERATOR_TOKEN } from '../helpers/sites.ts';
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

    test(`the database's figures: ${kind === 'postgres' ? "the pool's connections" : 'group-commit batch sizes'}`, async () => {
      const url = (key: string) => `/wiki/rest/api/user/${encodeURIComponent(MIA)}/property/batch-${key}`;
      const keys = ['a', 'b', 'c', 'd'];
      for (const k of keys) {
        const created = await fx.app.inject({
          method: 'POST',
          url: url(k),
          headers: basic('mia'),
          payload: { value: { n: 0 } },
        });
        assert.equal(created.statusCode, 201, created.body);
      }
      // Concurrent updates: the hot PUT's single statement, group-committed on SQLite.
      const updated = await Promise.all(
        keys.map((k) =>
          fx.app.inject({ method: 'PUT', url: url(k), headers: basic('mia'), payload: { value: { n: 1 } } }),
        ),
      );
      for (const response of updated) assert.equal(response.statusCode, 204, response.body);

      const metrics = samples((await fx.app.inject({ method: 'GET', url: '/metrics' })).body);
      const value = (name: string) => metrics.get(key(name, {}));
      const batches = {
        count: value('userplane_database_group_commit_statements_count'),
        sum: value('userplane_database_group_commit_statements_sum'),
        single: metrics.get(key('userplane_database_group_commit_statements_bucket', { le: '1' })),
      };
      const pool = {
        total: value('userplane_database_pool_connections'),
        idle: value('userplane_database_pool_idle_connections'),
        waiting: value('userplane_database_pool_waiting_requests'),
        max: value('userplane_database_pool_max_connections'),
      };
      if (kind === 'sqlite') {
        // Every update was one statement of some batch; a batch holds at least one.
        assert.ok(batches.sum !== undefined && batches.sum >= keys.length, `statements: ${batches.sum}`);
        assert.ok(batches.count !== undefined && batches.count >= 1 && batches.count <= batches.sum);
        assert.ok(batches.single !== undefined && batches.single <= batches.count);
        // One connection, no pool: no pool figures rather than made-up ones.
        assert.deepEqual(pool, { total: undefined, idle: undefined, waiting: undefined, max: undefined });
      } else {
        // The connections the requests used stay open in the pool, idle, until its idle timeout.
        assert.ok(pool.total !== undefined && pool.total >= 1 && pool.total <= POOL_SIZE, `total: ${pool.total}`);
        assert.ok(pool.idle !== undefined && pool.idle <= pool.total, `idle: ${pool.idle}`);
        assert.equal(pool.waiting, 0);
        assert.equal(pool.max, POOL_SIZE);
        assert.deepEqual(batches, { count: undefined, sum: undefined, single: undefined });
      }
    });

    test('POST /oauth2/token: outcomes by grant type', async () => {
      await loadSeed(fx.store.db, fx.secrets, oauthSeed());
      const { oauth, noImpersonation } = OAUTH_APPS;
      const token = (params: Record<string, string>) =>
        fx.app.inject({
          method: 'POST',
          url: '/oauth2/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams(params).toString(),
        });
      const credentials = { grant_type: 'client_credentials', client_id: oauth.oauthClientId };
      const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
      assert.equal((await token({ ...credentials, client_secret: oauth.clientSecret })).statusCode, 200);
      assert.equal(
        (await token({ grant_type: jwtBearer, assertion: impersonationAssertion('oauth', MIA) })).statusCode,
        200,
      );
      // The app lacks ACT_AS_USER.
      assert.equal(
        (await token({ grant_type: jwtBearer, assertion: impersonationAssertion('noImpersonation', MIA) })).statusCode,
        400,
      );
      assert.equal((await token({ grant_type: 'password', username: 'mia' })).statusCode, 400);
      assert.equal((await token({ client_id: noImpersonation.oauthClientId })).statusCode, 400);
      // Ten wrong secrets for one client_id, then the guessing limit refuses the eleventh.
      for (let i = 0; i < 10; i++)
        assert.equal((await token({ ...credentials, client_secret: 'wrong' })).statusCode, 401);
      assert.equal((await token({ ...credentials, client_secret: oauth.clientSecret })).statusCode, 429);

      const scraped = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
      const counted = [...samples(scraped)]
        .filter(([name]) => name.startsWith('userplane_oauth_token_requests_total{'))
        .sort(([a], [b]) => a.localeCompare(b));
      const series = (grant_type: string, outcome: string) =>
        key('userplane_oauth_token_requests_total', { grant_type, outcome });
      assert.deepEqual(
        counted,
        [
          [series('client_credentials', 'invalid_client'), 10],
          [series('client_credentials', 'issued'), 1],
          [series('client_credentials', 'throttled'), 1],
          [series('jwt_bearer', 'invalid_grant'), 1],
          [series('jwt_bearer', 'issued'), 1],
          [series('none', 'invalid_request'), 1],
          [series('other', 'unsupported_grant_type'), 1],
        ].sort(([a], [b]) => String(a).localeCompare(String(b))),
      );
      assert.doesNotMatch(scraped, /password|oauth-app-client-id/);
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

  describe(`--metrics and §12's refusals and faults on ${kind}`, () => {
    let fx: OperationsFixture;
    before(async () => {
      // One GET a second per operation (the test clock stands still), and one point an hour per app.
      fx = await startOperationsFixture(
        kind,
        { metrics: true, operatorToken: OPERATOR_TOKEN },
        { rateLimits: { burst: { GET: 1 }, quota: { sitePerHour: 1 } } },
      );
    });
    after(() => fx.close());

    test('a burst 429 and a quota 429 by reason and kind; faults by action; no rule id, app or account', async () => {
      const confluence = `/wiki/rest/api/user/${encodeURIComponent(MIA)}/property/metrics-limits`;
      // Burst: Mia's first read takes the operation's one token (404: no such property), the second is refused.
      assert.equal((await fx.app.inject({ method: 'GET', url: confluence, headers: basic('mia') })).statusCode, 404);
      const burst = await fx.app.inject({ method: 'GET', url: confluence, headers: basic('mia') });
      assert.equal(burst.statusCode, 429, burst.body);
      assert.equal(burst.headers['ratelimit-reason'], 'confluence-burst-based');
      // Quota: the app's first list of keys is answered and spends its hour's point; the second is refused
      // before its bucket is looked at (§12: the quota is checked first).
      const jira = `/rest/api/3/user/properties?accountId=${encodeURIComponent(MIA)}`;
      const asApp = () => fx.app.inject({ method: 'GET', url: jira, headers: connectJwt(APPS.reader, 'GET', jira) });
      assert.equal((await asApp()).statusCode, 200);
      const quota = await asApp();
      assert.equal(quota.statusCode, 429, quota.body);
      assert.equal(quota.headers['ratelimit-reason'], 'jira-quota-tenant-based');

      // Faults on PUTs, whose bucket (Atlassian's 50) is not in the way: one of each action.
      const rule = async (action: Record<string, unknown>) => {
        const added = await fx.app.inject({
          method: 'POST',
          url: '/admin/api/faults',
          headers: { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' },
          payload: JSON.stringify({ match: { method: 'PUT' }, action, times: 1 }),
        });
        assert.equal(added.statusCode, 201, added.body);
        return (added.json() as { id: string }).id;
      };
      const put = () =>
        fx.app.inject({ method: 'PUT', url: confluence, headers: basic('mia'), payload: { value: { n: 1 } } });
      const ids = [await rule({ status: 503 })];
      assert.equal((await put()).statusCode, 503);
      ids.push(await rule({ status: 429 }));
      const injected = await put();
      assert.equal(injected.statusCode, 429);
      ids.push(await rule({ delayMs: 1 }));
      assert.notEqual((await put()).statusCode, 429);
      ids.push(await rule({ reset: true }));
      await assert.rejects(put(), /destroyed before completion/);

      const scraped = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
      const counted = (prefix: string) =>
        [...samples(scraped)].filter(([name]) => name.startsWith(`${prefix}{`)).sort(([a], [b]) => a.localeCompare(b));
      // The injected 429 is a fault, not a refusal of the limits.
      assert.deepEqual(counted('userplane_rate_limited_total'), [
        [key('userplane_rate_limited_total', { reason: 'confluence-burst-based', kind: 'burst' }), 1],
        [key('userplane_rate_limited_total', { reason: 'jira-quota-tenant-based', kind: 'quota' }), 1],
      ]);
      assert.deepEqual(counted('userplane_faults_injected_total'), [
        [key('userplane_faults_injected_total', { action: 'delay' }), 1],
        [key('userplane_faults_injected_total', { action: 'reset' }), 1],
        [key('userplane_faults_injected_total', { action: 'status' }), 2],
      ]);
      for (const id of ids) assert.ok(!scraped.includes(id), `rule ${id} is no label value`);
      assert.doesNotMatch(scraped, /com\.example\.reader|712020|metrics-limits/);
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
