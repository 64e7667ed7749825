/**
 * An app written as Atlassian's rate-limiting guide recommends — honour
 * `Retry-After`, back off with jitter — against `rateLimits` with a tight
 * hourly quota (docs/behaviour.md §12), on a live server on both stores: 500
 * property writes complete with none lost. The app's sleep is the site's
 * rate-limit clock (`POST …/admin/api/rate-limits/advance`), so waiting for
 * the next hour takes milliseconds. jira.js and confluence.js then each meet
 * a quota 429 themselves: neither retries; jira.js's error keeps the headers,
 * confluence.js's keeps only the envelope, whose message names the reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpException } from 'jira.js';
import { startUserplane, type Userplane } from '../../src/testing.ts';
import { ConfluenceClient, Version3Client } from '../helpers/clients.ts';
import { bearer } from '../helpers/credentials.ts';
import { OAUTH_APPS, SECRET_KEY, USERS } from '../helpers/fixture.ts';
import { OPERATOR_TOKEN, siteSeed } from '../helpers/sites.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const WRITES = 500;
/** Points per app per hour on the site: five hours' worth of writes, each costing 1 (§12). */
const QUOTA = 100;
const mia = USERS.mia;
const app = OAUTH_APPS.oauth;

for (const kind of STORE_KINDS) {
  describe(`an app backing off under a tight quota on ${kind}`, () => {
    let server: Userplane;
    let siteUrl: string;
    const operator = { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' };

    /** The site's rate-limit clock: what the app's `sleep` moves instead of waiting. */
    const advance = async (seconds: number) => {
      const response = await fetch(`${siteUrl}/admin/api/rate-limits/advance`, {
        method: 'POST',
        headers: operator,
        body: JSON.stringify({ seconds }),
      });
      assert.equal(response.status, 200, await response.text());
    };

    /** A client_credentials token of the app: a bearer asApp, charged to the app's quota. */
    const appToken = async () => {
      const issued = await fetch(`${siteUrl}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: app.oauthClientId,
          client_secret: app.clientSecret,
        }),
      });
      assert.equal(issued.status, 200, await issued.clone().text());
      return ((await issued.json()) as { access_token: string }).access_token;
    };

    before(async () => {
      server = await startUserplane({
        database: databaseUrl(await freshLocation(kind)),
        seed: {},
        secretKey: SECRET_KEY,
        operatorToken: OPERATOR_TOKEN,
      });
      const seed = siteSeed();
      seed.site = {
        ...seed.site,
        maxPropertiesPerUser: 1000,
        rateLimits: { quota: { globalPerHour: QUOTA * 10, sitePerHour: QUOTA } },
      };
      const created = await fetch(`${server.url}/admin/api/sites`, {
        method: 'POST',
        headers: operator,
        body: JSON.stringify({ name: 'quota', seed }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      siteUrl = `${server.url}/sites/quota`;
    });
    after(() => server.close());

    test(`${WRITES} writes complete with none lost, the app honouring Retry-After with jittered back-off`, async () => {
      const token = bearer(await appToken());

      // The app: Atlassian's guide — on 429, wait Retry-After (plus jitter), else back off exponentially.
      let refusals = 0;
      let slept = 0;
      const sleep = async (seconds: number) => {
        slept += seconds;
        await advance(seconds);
      };
      const put = async (key: string, value: unknown) => {
        for (let attempt = 0; ; attempt++) {
          const response = await fetch(`${siteUrl}/rest/api/3/user/properties/${key}?accountId=${mia.accountId}`, {
            method: 'PUT',
            headers: { ...token, 'content-type': 'application/json' },
            body: JSON.stringify(value),
          });
          if (response.status !== 429) return response;
          // Atlassian's burst limits stay on (PUT: 50 a second) beside the tight quota.
          const reason = response.headers.get('ratelimit-reason') ?? '';
          assert.match(reason, /^jira-(burst|quota-tenant|quota-global)-based$/);
          if (reason.includes('quota')) refusals++;
          const retryAfter = Number(response.headers.get('retry-after'));
          assert.ok(retryAfter >= 1, 'Retry-After names the seconds to wait');
          const jitter = (attempt % 3) * 0.5;
          await sleep(retryAfter + jitter);
        }
      };

      for (let i = 0; i < WRITES; i++) {
        const response = await put(`batch-${i}`, { i });
        assert.ok(response.status === 200 || response.status === 201, `write ${i}: ${response.status}`);
      }
      assert.ok(refusals >= WRITES / QUOTA - 1, `the quota refused the app at each hour's end (${refusals} times)`);
      // The first wait ends with the clock's current hour, the later ones last a whole hour.
      assert.ok(
        slept >= 3600 * (WRITES / QUOTA - 2),
        `the app waited out the hours on the clock (${slept} s), not in real time`,
      );

      // None lost: every key is there with its value (read as the user, who is exempt from the quota).
      const basic = { authorization: `Basic ${Buffer.from(`${mia.email}:${mia.token}`).toString('base64')}` };
      const keys = await fetch(`${siteUrl}/rest/api/3/user/properties?accountId=${mia.accountId}`, { headers: basic });
      const listed = ((await keys.json()) as { keys: Array<{ key: string }> }).keys.map((k) => k.key);
      for (let i = 0; i < WRITES; i++) assert.ok(listed.includes(`batch-${i}`), `batch-${i} was written`);
      const sample = await fetch(
        `${siteUrl}/rest/api/3/user/properties/batch-${WRITES - 1}?accountId=${mia.accountId}`,
        {
          headers: basic,
        },
      );
      assert.deepEqual(((await sample.json()) as { value: unknown }).value, { i: WRITES - 1 });
    });

    test('jira.js meets a quota 429: no retry, and the reason and Retry-After are in its error', async () => {
      // Spend what is left of this hour, then one more call through jira.js with the app's token.
      const accessToken = await appToken();
      const client = new Version3Client({ host: siteUrl, authentication: { oauth2: { accessToken } } });
      const at = { accountId: mia.accountId, propertyKey: 'quota-probe' };
      const headersOf = (error: unknown) =>
        (error as { cause?: { response?: { headers?: Record<string, string> } } }).cause?.response?.headers ?? {};
      let quota: Record<string, string> | undefined;
      for (let i = 0; i <= 2 * QUOTA && quota === undefined; i++) {
        try {
          await client.userProperties.setUserProperty({ ...at, propertyValue: { i } });
        } catch (error) {
          assert.ok(error instanceof HttpException, `an HttpException, got ${String(error)}`);
          assert.equal(error.status, 429);
          const headers = headersOf(error);
          // A burst refusal on the way: a second on the clock refills the bucket.
          if (headers['ratelimit-reason']?.includes('burst')) await advance(1);
          else quota = headers;
        }
      }
      assert.ok(quota, 'the quota ran out');
      assert.match(quota['ratelimit-reason'] ?? '', /^jira-quota-(tenant|global)-based$/);
      assert.ok(Number(quota['retry-after']) >= 1);
    });

    test('confluence.js meets a quota 429: no retry, and only the envelope, whose message names the reason', async () => {
      // A fresh hour's ledgers (the tests before spent this one), and an empty journal to count what is sent.
      assert.equal(
        (await fetch(`${siteUrl}/admin/api/rate-limits`, { method: 'DELETE', headers: operator })).status,
        204,
      );
      assert.equal((await fetch(`${siteUrl}/admin/api/journal`, { method: 'DELETE', headers: operator })).status, 204);
      const client = new ConfluenceClient({
        host: siteUrl,
        authentication: { oauth2: { accessToken: await appToken() } },
      });
      const at = { userId: mia.accountId, key: 'quota-probe' };
      // A write costs 1 point, a read of one property 2 (§12): 1 + 2 × 49 = 99 < 100 still admits the
      // 50th read, which brings the site's ledger to 101; the 51st read is refused.
      await client.userProperties.createUserProperty({ ...at, value: { n: 1 } });
      let reads = 0;
      let error: unknown;
      while (error === undefined && reads <= QUOTA) {
        reads++;
        await client.userProperties.getUserProperty(at).then(
          (property) => assert.deepEqual(property.value, { n: 1 }),
          (rejection: unknown) => {
            error = rejection;
          },
        );
      }
      assert.equal(reads, QUOTA / 2 + 1, "the read after the hour's points ran out was refused");
      // confluence.js rejects with the body alone: no Error, no status line, no headers, so no Retry-After.
      assert.ok(!(error instanceof Error), 'the rejection is the body, not an error object');
      const body = error as { statusCode?: number; message?: string; data?: { errors?: unknown[] } };
      assert.equal(body.statusCode, 429);
      assert.match(String(body.message), /^Rate limit exceeded \(confluence-quota-tenant-based\)/);
      assert.match(String(body.message), /retry after \d+s$/);
      assert.deepEqual(Object.keys(body).sort(), ['data', 'message', 'statusCode']);

      // The server saw exactly what the client sent: 50 reads answered, one refused at the rate-limit step.
      const journal = await fetch(`${siteUrl}/admin/api/journal?operation=confluence.getUserProperty&limit=1000`, {
        headers: operator,
      });
      assert.equal(journal.status, 200);
      const entries = (
        (await journal.json()) as {
          results: Array<{ status: number; decision: { step: string; reason: string } | null }>;
        }
      ).results;
      assert.equal(entries.length, reads, 'one request per call: confluence.js sent no retry');
      assert.deepEqual(
        entries.filter((e) => e.status !== 200).map((e) => [e.status, e.decision?.step, e.decision?.reason]),
        [[429, 'rate-limit', 'confluence-quota-tenant-based']],
      );
      // The same hour refuses Jira too: one ledger per app and site across both products.
      const jira = await fetch(`${siteUrl}/rest/api/3/user/properties?accountId=${mia.accountId}`, {
        headers: bearer(await appToken()),
      });
      assert.equal(jira.status, 429);
      assert.equal(jira.headers.get('ratelimit-reason'), 'jira-quota-tenant-based');
    });
  });
}
