/**
 * Rate limits (docs/behaviour.md §12) through the real app on both stores:
 * off by default; the burst bucket per (site, operation), shared by the
 * alias, the gateway and Jira's versions, refilled by the site's clock; the
 * 429's envelope and headers for each product; quotas for apps with Basic
 * users exempt, the hourly rollover, the success headers; the journal's step;
 * reset and `DELETE` emptying a site's state; one site apart from another.
 * The app's clock stands still (test/helpers/clock.ts), so only `advance`
 * refills a bucket: nothing here waits or depends on timing.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { loadSeed } from '../../src/domain/seed.ts';
import type { SeedFile } from '../../src/schemas/seed.ts';
import type { Store } from '../../src/store/database.ts';
import { TestClock } from '../helpers/clock.ts';
import { bearer, connectJwt } from '../helpers/credentials.ts';
import {
  APPS,
  BASE_URL,
  basic,
  bearerToken,
  cloudIdOf,
  type Fixture,
  OAUTH_APPS,
  SECRET_KEY,
  USERS,
} from '../helpers/fixture.ts';
import { jsonCaller, OPERATOR_TOKEN, siteSeed } from '../helpers/sites.ts';
import { freshStore, STORE_KINDS } from '../helpers/stores.ts';

const OPERATOR = bearer(OPERATOR_TOKEN);
const MIA = USERS.mia.accountId;
const ONE = '/sites/one';
const TWO = '/sites/two';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The sites' seed; the OAuth apps only on the default site, whose `/oauth2/token` then knows their client ids. */
function seedWith(rateLimits: unknown, baseUrl?: string): SeedFile {
  const seed = siteSeed();
  const oauthKeys = new Set<string>(Object.values(OAUTH_APPS).map((a) => a.key));
  return {
    ...seed,
    site: { ...seed.site, ...(baseUrl && { baseUrl }), rateLimits } as SeedFile['site'],
    apps: baseUrl ? seed.apps : seed.apps?.filter((a) => !oauthKeys.has(a.key)),
  };
}

for (const kind of STORE_KINDS) {
  describe(`rate limits on ${kind}`, () => {
    let store: Store;
    let app: FastifyInstance;

    const call = jsonCaller(() => app);
    const ok = async (response: Promise<LightMyRequestResponse>, status = 200) => {
      const answered = await response;
      assert.equal(answered.statusCode, status, answered.body);
      return answered;
    };
    const patchSite = (prefix: string, body: Record<string, unknown>) =>
      ok(call('PATCH', `${prefix}/admin/api/site`, OPERATOR, body));
    const advance = (prefix: string, seconds: number) =>
      ok(call('POST', `${prefix}/admin/api/rate-limits/advance`, OPERATOR, { seconds }));
    const propertyUrl = (prefix: string, key = 'theme') => `${prefix}/wiki/rest/api/user/${MIA}/property/${key}`;
    const jiraUrl = (prefix: string, version = 3) =>
      `${prefix}/rest/api/${version}/user/properties/theme?accountId=${encodeURIComponent(MIA)}`;
    const notesJwt = (method: string, url: string) => connectJwt(APPS.notes, method, url.replace(/^\/sites\/\w+/, ''));

    before(async () => {
      store = await freshStore(kind);
      const secrets = new Secrets(SECRET_KEY);
      await loadSeed(store.db, secrets, seedWith('off', BASE_URL));
      app = await buildApp({
        db: store.db,
        secrets,
        logLevel: 'silent',
        baseUrl: BASE_URL,
        operatorToken: OPERATOR_TOKEN,
        clock: new TestClock(),
      });
      for (const name of ['one', 'two']) {
        await ok(call('POST', '/admin/api/sites', OPERATOR, { name, seed: seedWith({ burst: { GET: 5 } }) }), 201);
      }
      for (const prefix of ['', ONE, TWO]) {
        await ok(call('POST', propertyUrl(prefix), basic('mia'), { value: { n: 1 } }), 201);
        await ok(call('PUT', jiraUrl(prefix), basic('mia'), 1), 201);
      }
    });
    after(async () => {
      await app.close();
      await store.close();
    });
    beforeEach(async () => {
      for (const prefix of ['', ONE, TWO]) {
        await ok(call('DELETE', `${prefix}/admin/api/rate-limits`, OPERATOR), 204);
      }
      await patchSite('', { rateLimits: 'off' });
      for (const prefix of [ONE, TWO]) await patchSite(prefix, { rateLimits: { burst: { GET: 5 } } });
    });

    test('off by default: the setting reads off, many requests pass, nothing is kept', async () => {
      // A site made from a seed that names no rate limits.
      await ok(call('POST', '/admin/api/sites', OPERATOR, { name: 'plain', seed: seedWith(undefined) }), 201);
      assert.equal((await ok(call('GET', '/sites/plain/admin/api/site', OPERATOR))).json().rateLimits, 'off');
      const site = await ok(call('GET', '/admin/api/site', OPERATOR));
      assert.equal(site.json().rateLimits, 'off');
      for (let i = 0; i < 120; i += 1) {
        const response = await ok(call('GET', propertyUrl(''), basic('mia')));
        assert.equal(response.headers['x-ratelimit-limit'], undefined);
      }
      const view = (await ok(call('GET', '/admin/api/rate-limits', OPERATOR))).json();
      assert.deepEqual({ buckets: view.buckets, ledgers: view.ledgers }, { buckets: [], ledgers: [] });
    });

    test('burst: the sixth GET within the second is a 429 with every header, in the Confluence envelope', async () => {
      for (let i = 0; i < 5; i += 1) await ok(call('GET', propertyUrl(ONE), basic('mia')));
      const refused = await call('GET', propertyUrl(ONE), basic('mia'));
      assert.equal(refused.statusCode, 429);
      const view = (await ok(call('GET', `${ONE}/admin/api/rate-limits`, OPERATOR))).json();
      const message =
        'Rate limit exceeded (confluence-burst-based): Too many requests to this operation; retry after 1s';
      assert.deepEqual(refused.json(), {
        statusCode: 429,
        data: {
          authorized: true,
          valid: true,
          errors: [{ message: { translation: message, args: [] } }],
          successful: false,
        },
        message,
      });
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(refused.headers['x-ratelimit-limit'], '5');
      assert.equal(refused.headers['x-ratelimit-remaining'], '0');
      assert.equal(refused.headers['ratelimit-reason'], 'confluence-burst-based');
      const reset = String(refused.headers['x-ratelimit-reset']);
      assert.match(reset, ISO);
      // The next token comes a fifth of a second later on the site's clock.
      assert.equal(Date.parse(reset) - Date.parse(view.now), 200);
      assert.deepEqual(view.buckets, [{ operation: 'confluence.getUserProperty', capacity: 5, tokens: 0 }]);

      // A write is another operation, with its own bucket.
      await ok(call('PUT', propertyUrl(ONE), basic('mia'), { value: { n: 2 } }), 204);
      // The clock's advance refills it.
      await advance(ONE, 1);
      for (let i = 0; i < 5; i += 1) await ok(call('GET', propertyUrl(ONE), basic('mia')));
      assert.equal((await call('GET', propertyUrl(ONE), basic('mia'))).statusCode, 429);
      await advance(ONE, 0.2);
      await ok(call('GET', propertyUrl(ONE), basic('mia')));
    });

    test('burst: Jira in its envelope; v2 and v3 share the bucket, and so do the alias and the gateway', async () => {
      for (let i = 0; i < 3; i += 1) await ok(call('GET', jiraUrl(ONE, 2), basic('mia')));
      for (let i = 0; i < 2; i += 1) await ok(call('GET', jiraUrl(ONE, 3), basic('mia')));
      const refused = await call('GET', jiraUrl(ONE, 2), basic('mia'));
      assert.equal(refused.statusCode, 429);
      const message = 'Rate limit exceeded (jira-burst-based): Too many requests to this operation; retry after 1s';
      assert.deepEqual(refused.json(), { errorMessages: [message], errors: {} });
      assert.equal(refused.headers['ratelimit-reason'], 'jira-burst-based');
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(refused.headers['x-ratelimit-remaining'], '0');

      // The default site: the path, the /rest/api alias and the gateway form, one bucket.
      await patchSite('', { rateLimits: { burst: { GET: 3 }, quota: false } });
      const token = await bearerToken({ app } as Fixture, 'oauth');
      const cloudId = await cloudIdOf({ app, store } as Fixture);
      await ok(call('GET', propertyUrl(''), basic('mia')));
      await ok(call('GET', `/rest/api/user/${MIA}/property/theme`, basic('mia')));
      await ok(call('GET', `/ex/confluence/${cloudId}/wiki/rest/api/user/${MIA}/property/theme`, bearer(token)), 404);
      const gateway = await call('GET', `/ex/confluence/${cloudId}/rest/api/user/${MIA}/property/theme`, bearer(token));
      assert.equal(gateway.statusCode, 429, gateway.body);
      assert.equal(gateway.headers['ratelimit-reason'], 'confluence-burst-based');
    });

    test('quota: an app runs out of its site ledger, then the global one; Basic users are exempt', async () => {
      await patchSite(ONE, { rateLimits: { burst: false, quota: { sitePerHour: 10, globalPerHour: 1000 } } });
      await patchSite(TWO, { rateLimits: { burst: false, quota: { sitePerHour: 1000, globalPerHour: 12 } } });
      // A property GET costs 2 points: 1, and 1 for the property.
      const first = await ok(call('GET', propertyUrl(ONE), notesJwt('GET', propertyUrl(ONE))), 404);
      // Not this app's property (its namespace): a 404 is refused and costs nothing.
      assert.equal(first.headers['x-ratelimit-limit'], undefined);
      await ok(
        call('POST', propertyUrl(ONE, 'app'), notesJwt('POST', propertyUrl(ONE, 'app')), { value: { n: 1 } }),
        201,
      );
      const read = await ok(call('GET', propertyUrl(ONE, 'app'), notesJwt('GET', propertyUrl(ONE, 'app'))));
      assert.equal(read.headers['x-ratelimit-limit'], '10');
      assert.equal(read.headers['x-ratelimit-remaining'], '7');
      assert.equal(read.headers['x-ratelimit-nearlimit'], undefined);
      for (let i = 0; i < 3; i += 1)
        await ok(call('GET', propertyUrl(ONE, 'app'), notesJwt('GET', propertyUrl(ONE, 'app'))));
      // 9 spent: one point left, below 20 %.
      const near = await ok(
        call('PUT', propertyUrl(ONE, 'app'), notesJwt('PUT', propertyUrl(ONE, 'app')), { value: { n: 2 } }),
        204,
      );
      assert.equal(near.headers['x-ratelimit-remaining'], '0');
      assert.equal(near.headers['x-ratelimit-nearlimit'], 'true');
      const refused = await call('GET', propertyUrl(ONE, 'app'), notesJwt('GET', propertyUrl(ONE, 'app')));
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.headers['ratelimit-reason'], 'confluence-quota-tenant-based');
      assert.equal(refused.headers['x-ratelimit-limit'], '10');
      assert.equal(refused.headers['x-ratelimit-remaining'], '0');
      const view = (await ok(call('GET', `${ONE}/admin/api/rate-limits`, OPERATOR))).json();
      const nextHour = Math.floor(Date.parse(view.now) / 3_600_000 + 1) * 3_600_000;
      assert.equal(refused.headers['x-ratelimit-reset'], new Date(nextHour).toISOString());
      assert.equal(refused.headers['retry-after'], String(Math.ceil((nextHour - Date.parse(view.now)) / 1000)));
      assert.deepEqual(view.ledgers, [
        { app: APPS.notes.key, hour: new Date(nextHour - 3_600_000).toISOString(), sitePoints: 10, globalPoints: 10 },
      ]);
      // Jira's reason for a Jira request; a Basic user is not charged nor refused.
      const jira = await call('GET', jiraUrl(ONE), notesJwt('GET', jiraUrl(ONE)));
      assert.equal(jira.statusCode, 429);
      assert.equal(jira.headers['ratelimit-reason'], 'jira-quota-tenant-based');
      const user = await ok(call('GET', propertyUrl(ONE), basic('mia')));
      assert.equal(user.headers['x-ratelimit-limit'], undefined);

      // Site two: its own ledger has room, the global one (12, 10 spent) runs out.
      await ok(
        call('POST', propertyUrl(TWO, 'app'), notesJwt('POST', propertyUrl(TWO, 'app')), { value: { n: 1 } }),
        201,
      );
      await ok(
        call('PUT', propertyUrl(TWO, 'app'), notesJwt('PUT', propertyUrl(TWO, 'app')), { value: { n: 2 } }),
        204,
      );
      const global = await call('GET', propertyUrl(TWO, 'app'), notesJwt('GET', propertyUrl(TWO, 'app')));
      assert.equal(global.statusCode, 429);
      assert.equal(global.headers['ratelimit-reason'], 'confluence-quota-global-based');
      assert.equal(global.headers['x-ratelimit-limit'], '12');

      // The hour rolls over on site one's clock: its ledgers start again.
      await advance(ONE, 3600);
      const again = await ok(call('GET', propertyUrl(ONE, 'app'), notesJwt('GET', propertyUrl(ONE, 'app'))));
      assert.equal(again.headers['x-ratelimit-remaining'], '8');
    });

    test('points: a key list costs 1 per key, a group list 2 per group, a user 2; bearer apps pay too', async () => {
      await patchSite('', { rateLimits: { burst: false, quota: { sitePerHour: 1000 } } });
      const token = await bearerToken({ app } as Fixture, 'oauth');
      const remaining = async (url: string) => {
        const response = await ok(call('GET', url, bearer(token)));
        return Number(response.headers['x-ratelimit-remaining']);
      };
      // Mia's Jira properties: one key ("theme") → 1 + 1.
      const keys = `/rest/api/3/user/properties?accountId=${encodeURIComponent(MIA)}`;
      assert.equal(await remaining(keys), 998);
      // Mia's one group → 1 + 2.
      assert.equal(await remaining(`/wiki/rest/api/user/memberof?accountId=${encodeURIComponent(MIA)}`), 995);
      // One user → 1 + 2.
      assert.equal(await remaining(`/wiki/rest/api/user?accountId=${encodeURIComponent(MIA)}`), 992);
      const view = (await ok(call('GET', '/admin/api/rate-limits', OPERATOR))).json();
      assert.deepEqual(
        view.ledgers.map((l: { app: string; sitePoints: number }) => [l.app, l.sitePoints]),
        [[OAUTH_APPS.oauth.key, 8]],
      );
    });

    test('beta headers, when asked for', async () => {
      await patchSite(ONE, { rateLimits: { burst: false, quota: { sitePerHour: 100 }, betaHeaders: true } });
      await ok(
        call('POST', propertyUrl(ONE, 'beta'), notesJwt('POST', propertyUrl(ONE, 'beta')), { value: { n: 1 } }),
        201,
      );
      const read = await ok(call('GET', propertyUrl(ONE, 'beta'), notesJwt('GET', propertyUrl(ONE, 'beta'))));
      assert.equal(read.headers['x-ratelimit-remaining'], '97');
      assert.equal(
        read.headers['beta-ratelimit-policy'],
        '"global-app-quota";q=65000;w=3600, "tenant-app-quota";q=100;w=3600',
      );
      assert.match(String(read.headers['beta-ratelimit']), /^"tenant-app-quota";r=97;t=\d+$/);
    });

    test('the journal names the step; reset and DELETE empty the site, and only that site', async () => {
      await ok(call('DELETE', `${ONE}/admin/api/journal`, OPERATOR), 204);
      for (let i = 0; i < 5; i += 1) {
        await ok(call('GET', propertyUrl(ONE), basic('mia')));
        await ok(call('GET', propertyUrl(TWO), basic('mia')));
      }
      assert.equal((await call('GET', propertyUrl(ONE), basic('mia'))).statusCode, 429);
      const [entry] = (await ok(call('GET', `${ONE}/admin/api/journal?limit=1`, OPERATOR))).json().results;
      assert.equal(entry.status, 429);
      assert.deepEqual(entry.decision, { step: 'rate-limit', reason: 'confluence-burst-based' });

      // DELETE empties site one's bucket; site two's stays empty.
      await ok(call('DELETE', `${ONE}/admin/api/rate-limits`, OPERATOR), 204);
      await ok(call('GET', propertyUrl(ONE), basic('mia')));
      assert.equal((await call('GET', propertyUrl(TWO), basic('mia'))).statusCode, 429);
      // Reset (§11) empties site two's.
      await ok(call('POST', `${TWO}/admin/api/reset`, OPERATOR), 204);
      const view = (await ok(call('GET', `${TWO}/admin/api/rate-limits`, OPERATOR))).json();
      assert.deepEqual({ buckets: view.buckets, offsetSeconds: view.offsetSeconds }, { buckets: [], offsetSeconds: 0 });
    });

    test('the order: a 401 takes no token; the limit comes before the scope check', async () => {
      await patchSite(ONE, { rateLimits: { burst: { PUT: 1, GET: 1 } } });
      for (let i = 0; i < 3; i += 1) assert.equal((await call('GET', propertyUrl(ONE))).statusCode, 401);
      await ok(call('GET', propertyUrl(ONE), basic('mia')));
      const url = propertyUrl(ONE);
      const reader = (method: string) => connectJwt(APPS.reader, method, url.slice(ONE.length));
      assert.equal((await call('PUT', url, reader('PUT'), { value: { n: 3 } })).statusCode, 403);
      const limited = await call('PUT', url, reader('PUT'), { value: { n: 3 } });
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.headers['ratelimit-reason'], 'confluence-burst-based');
    });

    test("deleting a site takes its points out of its apps' global ledgers", async () => {
      const quota = { burst: false, quota: { sitePerHour: 100 } };
      await ok(call('POST', '/admin/api/sites', OPERATOR, { name: 'three', seed: seedWith(quota) }), 201);
      await patchSite(ONE, { rateLimits: quota });
      for (const prefix of [ONE, '/sites/three']) {
        const url = propertyUrl(prefix, 'gone');
        await ok(call('POST', url, notesJwt('POST', url), { value: { n: 1 } }), 201);
      }
      const ledgers = async () => (await ok(call('GET', `${ONE}/admin/api/rate-limits`, OPERATOR))).json().ledgers;
      assert.deepEqual(
        (await ledgers()).map((l: { sitePoints: number; globalPoints: number }) => [l.sitePoints, l.globalPoints]),
        [[1, 2]],
      );
      await ok(call('DELETE', '/admin/api/sites/three', OPERATOR), 204);
      assert.deepEqual(
        (await ledgers()).map((l: { sitePoints: number; globalPoints: number }) => [l.sitePoints, l.globalPoints]),
        [[1, 1]],
      );
    });

    test('the settings: an unknown field or a bad number is a 400; the clock refuses a backward move', async () => {
      for (const rateLimits of ['fast', { burst: { GET: 0 } }, { burst: { PATCH: 5 } }, { quota: true }]) {
        const response = await call('PATCH', `${ONE}/admin/api/site`, OPERATOR, { rateLimits });
        assert.equal(response.statusCode, 400, JSON.stringify(rateLimits));
      }
      assert.equal(
        (await call('POST', `${ONE}/admin/api/rate-limits/advance`, OPERATOR, { seconds: -1 })).statusCode,
        400,
      );
      const user = await call('GET', `${ONE}/admin/api/rate-limits`, basic('mia'));
      assert.equal(user.statusCode, 403);
    });
  });
}
