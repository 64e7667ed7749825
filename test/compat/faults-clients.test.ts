/**
 * How the real clients behave against an injected 429 with `Retry-After: 1`
 * (docs/behaviour.md §12), on a live server on both stores. Neither retries:
 * - jira.js (5.4, `BaseClient.sendRequestFullResponse`) retries only a 401
 *   with OAuth 2.0 refresh; a 429 rejects at once with an `HttpException`
 *   whose `status` is 429 and whose `cause` (the AxiosError) carries the
 *   response headers, so an app can read `Retry-After` itself;
 * - confluence.js (2.1, `BaseClient.sendRequest`) rejects with the response
 *   body alone (`e.response.data`): the Confluence envelope's `statusCode`
 *   429 is all an app sees; the headers are lost.
 * The journal shows one request per call: no retry was sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpException } from 'jira.js';
import { startUserplane, type Userplane } from '../../src/testing.ts';
import { ConfluenceClient, Version3Client } from '../helpers/clients.ts';
import { bearer } from '../helpers/credentials.ts';
import { fixtureSeed, SECRET_KEY, USERS } from '../helpers/fixture.ts';
import { OPERATOR_TOKEN } from '../helpers/sites.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const mia = USERS.mia;
const OPERATOR = { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' };

for (const kind of STORE_KINDS) {
  describe(`real clients against an injected 429 on ${kind}`, () => {
    let server: Userplane;

    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}/admin/api${path}`, {
        method,
        headers: OPERATOR,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const injectOne429 = async (operation: string) => {
      const response = await admin('POST', '/faults', { match: { operation }, action: { status: 429 }, times: 1 });
      assert.equal(response.status, 201, await response.text());
    };
    const journalOf = async (operation: string) => {
      const response = await admin('GET', `/journal?operation=${operation}`);
      assert.equal(response.status, 200);
      return ((await response.json()) as { results: Array<{ status: number; decision: { step: string } | null }> })
        .results;
    };

    before(async () => {
      server = await startUserplane({
        database: databaseUrl(await freshLocation(kind)),
        seed: fixtureSeed(),
        secretKey: SECRET_KEY,
        operatorToken: OPERATOR_TOKEN,
      });
    });
    after(() => server.close());

    test('jira.js Version3Client: no retry; an HttpException 429 whose cause carries Retry-After', async () => {
      const client = new Version3Client({
        host: server.url,
        authentication: { basic: { email: mia.email, apiToken: mia.token } },
      });
      const at = { accountId: mia.accountId, propertyKey: 'backoff' };
      await client.userProperties.setUserProperty({ ...at, propertyValue: { n: 1 } });
      await admin('DELETE', '/journal');
      await injectOne429('jira.getUserProperty');

      const error = await client.userProperties.getUserProperty(at).then(
        () => assert.fail('the faulted call succeeded'),
        (rejection: unknown) => rejection,
      );
      assert.ok(error instanceof HttpException, String(error));
      assert.equal(error.status, 429);
      assert.deepEqual((error.response as { data?: unknown }).data, {
        errorMessages: ['Rate limit exceeded'],
        errors: {},
      });
      // The cause is axios's error (axios is jira.js's dependency, not ours): its response keeps the headers.
      const cause = error.cause as { isAxiosError?: boolean; response?: { headers?: Record<string, string> } };
      assert.equal(cause.isAxiosError, true);
      const headers = cause.response?.headers ?? {};
      assert.equal(headers['retry-after'], '1');
      assert.equal(headers['ratelimit-reason'], 'jira-burst-based');
      assert.equal(headers['x-ratelimit-remaining'], '0');

      // One request reached the server: jira.js sent no retry.
      const entries = await journalOf('jira.getUserProperty');
      assert.deepEqual(
        entries.map((e) => [e.status, e.decision?.step ?? null]),
        [[429, 'fault']],
      );
      // The rule applied once; the app's own retry succeeds.
      assert.deepEqual(await client.userProperties.getUserProperty(at), { key: 'backoff', value: { n: 1 } });
    });

    test('confluence.js: no retry; it rejects with the envelope alone, without the headers', async () => {
      const client = new ConfluenceClient({
        host: server.url,
        authentication: { basic: { email: mia.email, apiToken: mia.token } },
      });
      const at = { userId: mia.accountId, key: 'backoff' };
      await client.userProperties.createUserProperty({ ...at, value: { n: 2 } });
      await admin('DELETE', '/journal');
      await injectOne429('confluence.getUserProperty');

      const error = await client.userProperties.getUserProperty(at).then(
        () => assert.fail('the faulted call succeeded'),
        (rejection: unknown) => rejection,
      );
      assert.ok(!(error instanceof Error), 'the rejection is the body, not an error object');
      assert.deepEqual(error, {
        statusCode: 429,
        data: {
          authorized: true,
          valid: true,
          errors: [{ message: { translation: 'Rate limit exceeded', args: [] } }],
          successful: false,
        },
        message: 'Rate limit exceeded',
      });

      const entries = await journalOf('confluence.getUserProperty');
      assert.deepEqual(
        entries.map((e) => [e.status, e.decision?.step ?? null]),
        [[429, 'fault']],
      );
      assert.deepEqual((await client.userProperties.getUserProperty(at)).value, { n: 2 });
    });
  });
}
