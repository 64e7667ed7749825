/**
 * Injected faults (docs/behaviour.md §12) through the real app on both
 * stores: each action (a status in the product's envelope with Atlassian's
 * headers, a delay, a destroyed connection), each match field, `times`,
 * `probability` with a `seed` that faults the same requests twice, the
 * journal's `fault` step with the rule's id, reset, one site's rules apart
 * from another's, validation, and who may manage rules.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { basicAuth, bearer, connectJwt, type Headers } from '../helpers/credentials.ts';
import { APPS, basic, USERS } from '../helpers/fixture.ts';
import { jsonCaller, OPERATOR_TOKEN, type SitesFixture, siteSeed, startSitesFixture } from '../helpers/sites.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const OPERATOR = bearer(OPERATOR_TOKEN);
const ONE = '/sites/one';
const TWO = '/sites/two';
const MIA = USERS.mia.accountId;
const NOAH = USERS.noah.accountId;

interface Rule {
  id: string;
  match: Record<string, unknown>;
  action: Record<string, unknown>;
  times: number | null;
  probability: number;
  seed: number;
  applied: number;
}

for (const kind of STORE_KINDS) {
  describe(`injected faults on ${kind}`, () => {
    let fx: SitesFixture;
    let app: FastifyInstance;

    const call = jsonCaller(() => app);
    const addRule = async (body: Record<string, unknown>, prefix = ONE): Promise<Rule> => {
      const response = await call('POST', `${prefix}/admin/api/faults`, OPERATOR, body);
      assert.equal(response.statusCode, 201, response.body);
      const rule = response.json() as Rule;
      assert.equal(response.headers.location, `/admin/api/faults/${rule.id}`);
      return rule;
    };
    const rules = async (prefix = ONE): Promise<Rule[]> => {
      const response = await call('GET', `${prefix}/admin/api/faults`, OPERATOR);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json() as { results: Rule[]; size: number };
      assert.equal(body.size, body.results.length);
      return body.results;
    };
    const confluenceUrl = (accountId: string = MIA, key = 'theme', prefix = ONE) =>
      `${prefix}/wiki/rest/api/user/${accountId}/property/${key}`;
    const jiraUrl = (accountId: string = MIA, key = 'theme', prefix = ONE) =>
      `${prefix}/rest/api/3/user/properties/${key}?accountId=${encodeURIComponent(accountId)}`;
    /** A Confluence property read by Mia: 404 when no fault applies (the property does not exist). */
    const read = (headers: Headers = basic('mia'), url = confluenceUrl()) => call('GET', url, headers);

    before(async () => {
      fx = await startSitesFixture(kind);
      ({ app } = fx);
      for (const name of ['one', 'two']) {
        const created = await call('POST', '/admin/api/sites', OPERATOR, { name, seed: siteSeed() });
        assert.equal(created.statusCode, 201, created.body);
      }
    });
    after(() => fx.close());
    beforeEach(async () => {
      for (const prefix of ['', ONE, TWO]) {
        assert.equal((await call('DELETE', `${prefix}/admin/api/faults`, OPERATOR)).statusCode, 204);
        assert.equal((await call('DELETE', `${prefix}/admin/api/journal`, OPERATOR)).statusCode, 204);
      }
    });

    test('a 429 in the Confluence envelope with Atlassian rate-limit headers', async () => {
      const rule = await addRule({ action: { status: 429 } });
      assert.deepEqual(rule.match, {});
      assert.equal(rule.times, null);
      assert.equal(rule.probability, 1);
      const response = await read();
      assert.equal(response.statusCode, 429);
      assert.equal(response.headers['retry-after'], '1');
      assert.equal(response.headers['x-ratelimit-limit'], '100');
      assert.equal(response.headers['x-ratelimit-remaining'], '0');
      assert.match(String(response.headers['x-ratelimit-reset']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(response.headers['ratelimit-reason'], 'confluence-burst-based');
      assert.deepEqual(response.json(), {
        statusCode: 429,
        data: {
          authorized: true,
          valid: true,
          errors: [{ message: { translation: 'Rate limit exceeded', args: [] } }],
          successful: false,
        },
        message: 'Rate limit exceeded',
      });
      assert.equal((await rules())[0]?.applied, 1);
    });

    test("a 429 on Jira: Jira's envelope and reason; the rule's own headers and message win", async () => {
      await addRule({
        action: {
          status: 429,
          message: 'Slow down',
          headers: { 'retry-after': '7', 'RateLimit-Reason': 'jira-quota-tenant-based', 'X-Extra': 'yes' },
        },
      });
      const response = await call('GET', jiraUrl(), basic('mia'));
      assert.equal(response.statusCode, 429);
      assert.deepEqual(response.json(), { errorMessages: ['Slow down'], errors: {} });
      assert.equal(response.headers['retry-after'], '7');
      assert.equal(response.headers['ratelimit-reason'], 'jira-quota-tenant-based');
      assert.equal(response.headers['x-extra'], 'yes');
      assert.equal(response.headers['x-ratelimit-remaining'], '0');

      await call('DELETE', `${ONE}/admin/api/faults`, OPERATOR);
      await addRule({ action: { status: 429 } });
      const plain = await call('GET', jiraUrl(), basic('mia'));
      assert.equal(plain.headers['ratelimit-reason'], 'jira-burst-based');
      assert.equal(plain.headers['x-aaccountid'], MIA, "Jira's plugin headers still apply");
    });

    test('a 503 gets Retry-After: 1; any other status its envelope and no rate-limit headers', async () => {
      const unavailable = await addRule({ action: { status: 503 } });
      let response = await read();
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '1');
      assert.equal(response.json().message, 'Service unavailable');
      assert.equal((await call('DELETE', `${ONE}/admin/api/faults/${unavailable.id}`, OPERATOR)).statusCode, 204);

      await addRule({ action: { status: 418, message: 'I am a teapot' } });
      response = await read();
      assert.equal(response.statusCode, 418);
      assert.equal(response.headers['retry-after'], undefined);
      assert.equal(response.headers['x-ratelimit-limit'], undefined);
      assert.equal(response.json().statusCode, 418);
      assert.equal(response.json().message, 'I am a teapot');
      await call('DELETE', `${ONE}/admin/api/faults`, OPERATOR);

      await addRule({ action: { status: 500, headers: { 'Retry-After': '3' } } });
      response = await call('GET', jiraUrl(), basic('mia'));
      assert.equal(response.statusCode, 500);
      assert.equal(response.headers['retry-after'], '3');
      assert.deepEqual(response.json(), { errorMessages: ['Injected fault: 500'], errors: {} });
    });

    test('a delay lets the real answer through', async () => {
      const write = await call('POST', confluenceUrl(MIA, 'delayed'), basic('mia'), { value: { n: 1 } });
      assert.ok(write.statusCode === 200 || write.statusCode === 201, write.body);
      const rule = await addRule({ action: { delayMs: 30 } });
      const response = await read(basic('mia'), confluenceUrl(MIA, 'delayed'));
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json().value, { n: 1 });
      assert.equal((await rules()).find((r) => r.id === rule.id)?.applied, 1);
    });

    test('a reset destroys the connection with no answer, and is journaled with its rule', async () => {
      const listening = await app.listen({ port: 0, host: '127.0.0.1' }).catch(() => undefined);
      const port = (app.server.address() as AddressInfo).port;
      assert.ok(listening === undefined || listening.includes(String(port)));
      const rule = await addRule({ action: { reset: true }, times: 1 });
      await assert.rejects(
        fetch(`http://127.0.0.1:${port}${confluenceUrl()}`, { headers: basic('mia') }),
        (error: Error) => error instanceof TypeError,
      );
      // The rule expired after one: the next request is answered.
      const next = await fetch(`http://127.0.0.1:${port}${confluenceUrl()}`, { headers: basic('mia') });
      assert.equal(next.status, 404);
      const journal = (await call('GET', `${ONE}/admin/api/journal`, OPERATOR)).json().results;
      const reset = journal.find((entry: { status: number }) => entry.status === 0);
      assert.ok(reset, 'the destroyed request is in the journal');
      assert.equal(reset.operation, 'confluence.getUserProperty');
      assert.equal(reset.decision.step, 'fault');
      assert.equal(reset.decision.rule, rule.id);

      // Through app.inject() the destroyed response rejects the call.
      await addRule({ action: { reset: true }, times: 1 });
      await assert.rejects(read(), /destroyed before completion/);
      assert.equal((await read()).statusCode, 404);
    });

    test('the journal names the fault step and the rule', async () => {
      const rule = await addRule({ action: { status: 429 } });
      assert.equal((await read()).statusCode, 429);
      const [entry] = (await call('GET', `${ONE}/admin/api/journal?limit=1`, OPERATOR)).json().results;
      assert.equal(entry.status, 429);
      assert.equal(entry.principal.accountId, MIA);
      assert.deepEqual(entry.decision, { step: 'fault', reason: `rule ${rule.id}`, rule: rule.id });
    });

    test('each match field narrows the rule', async () => {
      const cases: Array<{
        match: Record<string, unknown>;
        hit: () => Promise<{ statusCode: number }>;
        miss: () => Promise<{ statusCode: number }>;
      }> = [
        {
          match: { method: 'put' },
          hit: () => call('PUT', confluenceUrl(MIA, 'm'), basic('mia'), { value: { n: 1 } }),
          miss: () => read(),
        },
        {
          match: { path: '/rest/api/3/' },
          hit: () => call('GET', jiraUrl(), basic('mia')),
          miss: () => read(),
        },
        {
          match: { path: `/wiki/rest/api/user/${NOAH}/` },
          hit: () => call('GET', confluenceUrl(NOAH), basic('noah')),
          miss: () => read(),
        },
        {
          match: { operation: 'jira.getUserProperty' },
          hit: () => call('GET', jiraUrl(), basic('mia')),
          miss: () => read(),
        },
        {
          match: { app: APPS.notes.key },
          hit: () => {
            const url = confluenceUrl().slice(ONE.length);
            return call('GET', `${ONE}${url}`, connectJwt(APPS.notes, 'GET', url));
          },
          miss: () => read(),
        },
        {
          match: { accountId: NOAH },
          hit: () => read(basic('noah'), confluenceUrl(NOAH)),
          miss: () => read(),
        },
        {
          match: { authMode: 'jwt' },
          hit: () => {
            const url = confluenceUrl().slice(ONE.length);
            return call('GET', `${ONE}${url}`, connectJwt(APPS.notes, 'GET', url));
          },
          miss: () => read(),
        },
      ];
      for (const { match, hit, miss } of cases) {
        const rule = await addRule({ match, action: { status: 429 } });
        assert.deepEqual(rule.match, match);
        assert.equal((await hit()).statusCode, 429, JSON.stringify(match));
        assert.notEqual((await miss()).statusCode, 429, JSON.stringify(match));
        assert.equal((await call('DELETE', `${ONE}/admin/api/faults/${rule.id}`, OPERATOR)).statusCode, 204);
      }
    });

    test('applied after credentials and before the step-3 checks', async () => {
      await addRule({ action: { status: 429 } });
      // Bad credentials and anonymous callers on a site closed to them: step 2 answers first.
      assert.equal((await read(basicAuth(USERS.mia.email, 'wrong-token'))).statusCode, 401);
      assert.equal((await read({})).statusCode, 401);
      // A user outside the can-use groups would get 403 at step 3: the fault comes first.
      assert.equal((await read(basic('outsider'), confluenceUrl(USERS.outsider.accountId))).statusCode, 429);
      // Administration routes are never faulted.
      assert.equal((await call('GET', `${ONE}/admin/api/faults`, OPERATOR)).statusCode, 200);
    });

    test('times: exactly the next N matching requests, then the rule expires', async () => {
      const rule = await addRule({ action: { status: 503 }, times: 2 });
      assert.equal(rule.times, 2);
      assert.equal((await read()).statusCode, 503);
      assert.equal((await rules())[0]?.times, 1);
      assert.equal((await read()).statusCode, 503);
      assert.equal((await read()).statusCode, 404);
      assert.equal((await read()).statusCode, 404);
      assert.deepEqual(await rules(), []);
    });

    test('probability with a seed faults the same requests in two runs', async () => {
      const run = async (seed: number): Promise<number[]> => {
        await call('DELETE', `${ONE}/admin/api/faults`, OPERATOR);
        const rule = await addRule({ action: { status: 429 }, probability: 0.5, seed });
        assert.equal(rule.seed, seed);
        const faulted: number[] = [];
        for (let i = 0; i < 24; i++) if ((await read()).statusCode === 429) faulted.push(i);
        return faulted;
      };
      const first = await run(42);
      assert.ok(first.length > 0 && first.length < 24, `some but not all faulted: ${first}`);
      assert.deepEqual(await run(42), first);
      assert.notDeepEqual(await run(7), first);
      // Without a seed one is chosen and shown, so the run can be repeated.
      await call('DELETE', `${ONE}/admin/api/faults`, OPERATOR);
      const unseeded = await addRule({ action: { status: 429 }, probability: 0.5 });
      assert.equal(typeof unseeded.seed, 'number');
    });

    test('probability 0 never faults; the first matching rule that fires wins', async () => {
      await addRule({ action: { status: 503 }, probability: 0 });
      await addRule({ action: { status: 429 } });
      assert.equal((await read()).statusCode, 429);
      const [never, always] = await rules();
      assert.equal(never?.applied, 0);
      assert.equal(always?.applied, 1);
    });

    test("reset clears the site's rules; one site's rules never touch another", async () => {
      await addRule({ action: { status: 429 } }, TWO);
      assert.equal((await read()).statusCode, 404, 'site one has no rule');
      assert.equal((await read(basic('mia'), confluenceUrl(MIA, 'theme', TWO))).statusCode, 429);
      assert.equal((await rules(ONE)).length, 0);
      assert.equal((await rules(TWO)).length, 1);
      await addRule({ action: { status: 503 } }, ONE);

      assert.equal((await call('POST', `${TWO}/admin/api/reset`, OPERATOR)).statusCode, 204);
      assert.deepEqual(await rules(TWO), []);
      assert.equal((await read(basic('mia'), confluenceUrl(MIA, 'theme', TWO))).statusCode, 404);
      assert.equal((await rules(ONE)).length, 1, "another site's rules stay");
    });

    test('deleting a site removes its rules: a site made again under its name has none', async () => {
      const created = await call('POST', '/admin/api/sites', OPERATOR, { name: 'three', seed: siteSeed() });
      assert.equal(created.statusCode, 201, created.body);
      await addRule({ action: { status: 429 } }, '/sites/three');
      assert.equal((await call('DELETE', '/admin/api/sites/three', OPERATOR)).statusCode, 204);
      const again = await call('POST', '/admin/api/sites', OPERATOR, { name: 'three', seed: siteSeed() });
      assert.equal(again.statusCode, 201, again.body);
      assert.deepEqual(await rules('/sites/three'), []);
      assert.equal((await read(basic('mia'), confluenceUrl(MIA, 'theme', '/sites/three'))).statusCode, 404);
      assert.equal((await call('DELETE', '/admin/api/sites/three', OPERATOR)).statusCode, 204);
    });

    test('removing: one by id, 404 for an unknown id, all at once', async () => {
      const a = await addRule({ action: { status: 429 } });
      const b = await addRule({ action: { delayMs: 0 } });
      assert.deepEqual(
        (await rules()).map((r) => r.id),
        [a.id, b.id],
      );
      assert.equal((await call('DELETE', `${ONE}/admin/api/faults/${a.id}`, OPERATOR)).statusCode, 204);
      const missing = await call('DELETE', `${ONE}/admin/api/faults/${a.id}`, OPERATOR);
      assert.equal(missing.statusCode, 404);
      assert.match(missing.json().message, /no fault rule/);
      assert.deepEqual(
        (await rules()).map((r) => r.id),
        [b.id],
      );
      assert.equal((await call('DELETE', `${ONE}/admin/api/faults`, OPERATOR)).statusCode, 204);
      assert.deepEqual(await rules(), []);
    });

    test('validation: a bad status, a long delay, unknown fields and bad numbers are 400s', async () => {
      const bodies: unknown[] = [
        {},
        { action: { status: 200 } },
        { action: { status: 600 } },
        { action: { status: '429' } },
        { action: { delayMs: 60_001 } },
        { action: { delayMs: -1 } },
        { action: { reset: false } },
        { action: { status: 429, delayMs: 10 } },
        { action: { status: 429 }, extra: true },
        { action: { status: 429 }, match: { host: 'x' } },
        { action: { status: 429 }, match: { authMode: 'cookie' } },
        { action: { status: 429 }, times: 0 },
        { action: { status: 429 }, probability: 1.5 },
        { action: { status: 429 }, seed: -1 },
      ];
      for (const body of bodies) {
        const response = await call('POST', `${ONE}/admin/api/faults`, OPERATOR, body);
        assert.equal(response.statusCode, 400, `${JSON.stringify(body)} → ${response.body}`);
        assert.equal(response.json().statusCode, 400);
      }
      const longest = await addRule({ action: { delayMs: 60_000 }, match: { path: '/nowhere' } });
      assert.equal(longest.action.delayMs, 60_000);
      assert.deepEqual(await rules(TWO), []);
    });

    test('only site admins and the operator manage rules', async () => {
      const body = { action: { status: 429 } };
      assert.equal((await call('POST', `${ONE}/admin/api/faults`, {}, body)).statusCode, 401);
      assert.equal((await call('POST', `${ONE}/admin/api/faults`, basic('mia'), body)).statusCode, 403);
      assert.equal((await call('GET', `${ONE}/admin/api/faults`, basic('mia'))).statusCode, 403);
      assert.equal((await call('DELETE', `${ONE}/admin/api/faults`, basic('mia'))).statusCode, 403);
      const url = '/admin/api/faults';
      assert.equal((await call('GET', `${ONE}${url}`, connectJwt(APPS.notes, 'GET', url))).statusCode, 403);
      const made = await call('POST', `${ONE}/admin/api/faults`, basic('admin'), body);
      assert.equal(made.statusCode, 201, made.body);
      assert.equal((await rules()).length, 1);
    });
  });
}
