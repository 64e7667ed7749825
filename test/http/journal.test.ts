/**
 * The request journal (docs/behaviour.md §11) through the real app on both
 * stores: an entry for a success and for each step of §3's order that a
 * request can provoke, the filters, `since` and `limit`, the ring's bound
 * and 0 = off, no credential, token or body in any entry, `/oauth2/token` in
 * the journal of the site it was for, one site's journal apart from
 * another's, and emptying it.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { basicAuth, bearer, connectJwt, connectJwtToken } from '../helpers/credentials.ts';
import { APPS, basic, impersonationAssertion, OAUTH_APPS, USERS } from '../helpers/fixture.ts';
import { jsonCaller, OPERATOR_TOKEN, type SitesFixture, siteSeed, startSitesFixture } from '../helpers/sites.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const OPERATOR = bearer(OPERATOR_TOKEN);
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
/** The site most tests use, served under its prefix. */
const ONE = '/sites/one';
const MIA = USERS.mia.accountId;
const NOAH = USERS.noah.accountId;

const ENTRY_FIELDS = [
  'id',
  'time',
  'method',
  'path',
  'query',
  'status',
  'durationMs',
  'operation',
  'authMode',
  'principal',
  'decision',
];

interface Entry {
  id: number;
  time: string;
  method: string;
  path: string;
  query: string;
  status: number;
  durationMs: number;
  operation: string | null;
  authMode: string;
  principal: { kind: string; accountId: string | null; app: string | null };
  decision: { step: string; reason: string } | null;
}

for (const kind of STORE_KINDS) {
  describe(`request journal on ${kind}`, () => {
    let fx: SitesFixture;
    let app: FastifyInstance;

    const call = jsonCaller(() => app);
    const journal = async (prefix = ONE, query = ''): Promise<Entry[]> => {
      const response = await call('GET', `${prefix}/admin/api/journal${query}`, OPERATOR);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.size, body.results.length);
      return body.results;
    };
    /** The newest entry, after one request. */
    const newest = async (prefix = ONE): Promise<Entry> => {
      const [entry] = await journal(prefix, '?limit=1');
      assert.ok(entry, 'the journal has an entry');
      return entry;
    };
    const propertyUrl = (accountId: string, key: string, prefix = ONE) =>
      `${prefix}/wiki/rest/api/user/${accountId}/property/${key}`;
    const patchSite = async (prefix: string, body: Record<string, unknown>) => {
      const response = await call('PATCH', `${prefix}/admin/api/site`, OPERATOR, body);
      assert.equal(response.statusCode, 200, response.body);
    };

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
      for (const prefix of ['', ONE, '/sites/two']) {
        assert.equal((await call('DELETE', `${prefix}/admin/api/journal`, OPERATOR)).statusCode, 204);
      }
    });

    test('a success: every field, newest first, and no administration request in it', async () => {
      assert.equal(
        (await call('POST', propertyUrl(MIA, 'theme'), basic('mia'), { value: { dark: true } })).statusCode,
        201,
      );
      const read = await call('GET', `${propertyUrl(MIA, 'theme')}?expand=x`, basic('mia'));
      assert.equal(read.statusCode, 200, read.body);

      const entries = await journal();
      assert.equal(entries.length, 2);
      const [get, post] = entries as [Entry, Entry];
      assert.ok(get.id > post.id, 'newest first');
      assert.match(get.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(get.durationMs >= 0);
      assert.deepEqual(
        { ...get, id: 0, time: '', durationMs: 0 },
        {
          id: 0,
          time: '',
          method: 'GET',
          path: `/wiki/rest/api/user/${MIA}/property/theme`,
          query: 'expand=x',
          status: 200,
          durationMs: 0,
          operation: 'confluence.getUserProperty',
          authMode: 'basic',
          principal: { kind: 'user', accountId: MIA, app: null },
          decision: null,
        },
      );
      assert.equal(post.operation, 'confluence.createUserProperty');
      assert.equal(post.status, 201);
    });

    test('each refusal names its step of the order of checks', async () => {
      const reader = APPS.reader;
      const writeUrl = propertyUrl(MIA, 'scoped');
      const cases: Array<{
        send: () => Promise<{ statusCode: number; body: string }>;
        status: number;
        step: string;
        operation: string | null;
        reason?: RegExp;
      }> = [
        {
          send: () => call('GET', `${ONE}/wiki/rest/api/nothing-here`, basic('mia')),
          status: 404,
          step: 'route',
          operation: null,
        },
        {
          send: () => call('PATCH', propertyUrl(MIA, 'theme'), basic('mia'), { value: {} }),
          status: 405,
          step: 'route',
          operation: null,
        },
        {
          send: () => call('GET', `${ONE}/wiki/rest/api/user/current`, basicAuth(USERS.mia.email, 'wrong-token-000')),
          status: 401,
          step: 'credentials',
          operation: 'confluence.getCurrentUser',
        },
        {
          send: () => call('GET', `${ONE}/wiki/rest/api/user/current`, basic('outsider')),
          status: 403,
          step: 'can-use',
          operation: 'confluence.getCurrentUser',
        },
        {
          send: () => call('PUT', writeUrl, connectJwt(reader, 'PUT', writeUrl.slice(ONE.length)), { value: { a: 1 } }),
          status: 403,
          step: 'scope',
          operation: 'confluence.updateUserProperty',
          reason: /^needs WRITE or write:/,
        },
        {
          send: () => call('POST', `${ONE}/wiki/rest/api/user/watch/space/ABC`, basic('mia')),
          status: 403,
          step: 'xsrf',
          operation: 'confluence.addSpaceWatcher',
          reason: /X-Atlassian-Token/,
        },
        {
          send: () => call('POST', propertyUrl(MIA, 'broken'), basic('mia'), '{"value": '),
          status: 400,
          step: 'syntax',
          operation: 'confluence.createUserProperty',
        },
        {
          send: () => call('GET', `${ONE}/wiki/rest/api/user/email?accountId=${NOAH}`, basic('mia')),
          status: 400,
          step: 'gate',
          operation: 'confluence.getPrivacyUnsafeUserEmail',
        },
        {
          send: () => call('GET', propertyUrl(NOAH, 'theme'), basic('mia')),
          status: 403,
          step: 'access',
          operation: 'confluence.getUserProperty',
        },
        {
          send: () => call('GET', propertyUrl(MIA, 'absent'), basic('mia')),
          status: 404,
          step: 'existence',
          operation: 'confluence.getUserProperty',
        },
        {
          send: () => call('GET', `${ONE}/wiki/rest/api/user/watch/label/no-such-label`, basic('mia')),
          status: 403,
          step: 'existence',
          operation: 'confluence.isWatchingLabel',
        },
        {
          send: () => call('POST', propertyUrl(MIA, 'twice'), basic('mia'), { value: {} }),
          status: 409,
          step: 'state',
          operation: 'confluence.createUserProperty',
        },
        {
          send: () => call('PUT', propertyUrl(MIA, 'twice'), { ...basic('mia'), 'if-match': '"99"' }, { value: {} }),
          status: 412,
          step: 'state',
          operation: 'confluence.updateUserProperty',
        },
      ];
      assert.equal((await call('POST', propertyUrl(MIA, 'twice'), basic('mia'), { value: {} })).statusCode, 201);
      for (const { send, status, step, operation, reason } of cases) {
        const response = await send();
        assert.equal(response.statusCode, status, `${step}: ${response.body}`);
        const entry = await newest();
        assert.equal(entry.status, status);
        assert.equal(entry.operation, operation, step);
        assert.equal(entry.decision?.step, step, `${step}: ${entry.decision?.reason}`);
        assert.ok((entry.decision?.reason ?? '') !== '', `${step} has a reason`);
        if (reason) assert.match(entry.decision!.reason, reason);
      }
    });

    test("the property limit's 400 is a state, not a syntax, refusal", async () => {
      await patchSite(ONE, { maxPropertiesPerUser: 1 });
      try {
        await call('DELETE', propertyUrl(NOAH, 'first'), basic('noah'));
        assert.equal((await call('POST', propertyUrl(NOAH, 'first'), basic('noah'), { value: {} })).statusCode, 201);
        const refused = await call('POST', propertyUrl(NOAH, 'second'), basic('noah'), { value: {} });
        assert.equal(refused.statusCode, 400);
        assert.deepEqual((await newest()).decision?.step, 'state');
      } finally {
        await patchSite(ONE, { maxPropertiesPerUser: 100 });
      }
    });

    test('the caller: app, asUser and anonymous, with their auth modes', async () => {
      const url = `/wiki/rest/api/user/current`;
      assert.equal((await call('GET', `${ONE}${url}`, connectJwt(APPS.notes, 'GET', url))).statusCode, 200);
      assert.deepEqual(
        { authMode: (await newest()).authMode, principal: (await newest()).principal },
        { authMode: 'jwt', principal: { kind: 'app', accountId: APPS.notes.accountId, app: APPS.notes.key } },
      );

      const token = await asUserToken(ONE);
      assert.equal((await call('GET', `${ONE}${url}`, bearer(token))).statusCode, 200);
      const asUser = await newest();
      assert.equal(asUser.authMode, 'bearer');
      assert.deepEqual(asUser.principal, { kind: 'asUser', accountId: MIA, app: OAUTH_APPS.oauth.key });

      assert.equal((await call('GET', `${ONE}${url}`)).statusCode, 401);
      const anonymous = await newest();
      assert.equal(anonymous.authMode, 'none');
      assert.deepEqual(anonymous.principal, { kind: 'anonymous', accountId: null, app: null });
      assert.equal(anonymous.decision?.step, 'credentials');
    });

    test('filters: operation, status, app, accountId; since and limit', async () => {
      const url = `/wiki/rest/api/user/current`;
      await call('GET', `${ONE}${url}`, basic('mia'));
      await call('GET', `${ONE}${url}`, basic('noah'));
      await call('GET', `${ONE}${url}`, connectJwt(APPS.notes, 'GET', url));
      await call('GET', propertyUrl(MIA, 'absent'), basic('mia'));
      const all = await journal();
      assert.equal(all.length, 4);

      const ids = (entries: Entry[]) => entries.map((e) => e.id);
      assert.deepEqual(ids(await journal(ONE, '?operation=confluence.getCurrentUser')), ids(all.slice(1)));
      assert.deepEqual(ids(await journal(ONE, '?status=404')), [all[0]!.id]);
      assert.deepEqual(ids(await journal(ONE, `?app=${APPS.notes.key}`)), [all[1]!.id]);
      assert.deepEqual(ids(await journal(ONE, `?accountId=${MIA}`)), [all[0]!.id, all[3]!.id]);
      assert.deepEqual(ids(await journal(ONE, `?accountId=${MIA}&status=200`)), [all[3]!.id]);
      assert.deepEqual(ids(await journal(ONE, `?since=${all[2]!.id}`)), ids(all.slice(0, 2)));
      assert.deepEqual(ids(await journal(ONE, '?limit=2')), ids(all.slice(0, 2)));
      assert.deepEqual(ids(await journal(ONE, `?since=${all[0]!.id}`)), []);
      // An unknown filter is named, not ignored.
      const unknown = await call('GET', `${ONE}/admin/api/journal?user=${MIA}`, OPERATOR);
      assert.equal(unknown.statusCode, 400);
    });

    test('the limit defaults to 100; the ring keeps the latest journalSize; 0 keeps none', async () => {
      const url = `${ONE}/wiki/rest/api/user/current`;
      for (let i = 0; i < 105; i++) await call('GET', url, basic('mia'));
      assert.equal((await journal()).length, 100);
      assert.equal((await journal(ONE, '?limit=1000')).length, 105);

      await patchSite(ONE, { journalSize: 3 });
      try {
        const before = await journal(ONE, '?limit=1000');
        assert.equal(before.length, 3, 'a smaller size keeps the newest');
        for (let i = 0; i < 5; i++) await call('GET', `${url}?n=${i}`, basic('mia'));
        assert.deepEqual(
          (await journal()).map((e) => e.query),
          ['n=4', 'n=3', 'n=2'],
        );

        await patchSite(ONE, { journalSize: 0 });
        assert.deepEqual(await journal(), []);
        await call('GET', url, basic('mia'));
        assert.deepEqual(await journal(), []);
      } finally {
        await patchSite(ONE, { journalSize: 1000 });
      }
      await call('GET', url, basic('mia'));
      assert.equal((await journal()).length, 1);
      const site = await call('GET', `${ONE}/admin/api/site`, OPERATOR);
      assert.equal(site.json().journalSize, 1000);
    });

    test('no credential, token or body is ever recorded', async () => {
      const marker = 'MARKER-0f9e8d7c';
      const path = '/wiki/rest/api/user/current';
      const queryJwt = connectJwtToken(APPS.notes, 'GET', `${path}?keep=1`);
      const headerJwt = connectJwtToken(APPS.notes, 'GET', path);
      const bearerToken = await asUserToken(ONE);
      const clientSecret = OAUTH_APPS.oauth.clientSecret;
      const sent = [
        await call('GET', `${ONE}${path}`, basic('mia')),
        await call('GET', `${ONE}${path}`, basicAuth(USERS.mia.email, `${marker}-token`)),
        await call('GET', `${ONE}${path}`, { authorization: `JWT ${headerJwt}` }),
        await call('GET', `${ONE}${path}?keep=1&jwt=${queryJwt}`),
        await call('GET', `${ONE}${path}`, bearer(bearerToken)),
        await call('GET', `${ONE}${path}`, bearer(`${marker}-bearer`)),
        await call('GET', `${ONE}${path}`, { authorization: `${marker}-bare` }),
        await call('POST', propertyUrl(MIA, 'secretive'), basic('mia'), { value: { note: marker } }),
        await call('POST', propertyUrl(MIA, 'secretive2'), basic('mia'), `{"value": "${marker}`),
        await call(
          'POST',
          `${ONE}/oauth2/token`,
          FORM,
          new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: OAUTH_APPS.oauth.oauthClientId,
            client_secret: clientSecret,
          }).toString(),
        ),
        await call(
          'POST',
          `${ONE}/oauth2/token`,
          { ...FORM, authorization: `${marker}-bare` },
          'grant_type=client_credentials',
        ),
      ];
      assert.deepEqual(
        sent.map((r) => r.statusCode),
        [200, 401, 200, 200, 200, 401, 401, 201, 400, 200, 401],
      );
      const issued = sent[9]!.json().access_token as string;

      const response = await call('GET', `${ONE}/admin/api/journal`, OPERATOR);
      const text = response.body;
      assert.equal(response.json().size, sent.length + 1, 'the token request made for the bearer is in it too');
      for (const secret of [
        USERS.mia.token,
        Buffer.from(`${USERS.mia.email}:${USERS.mia.token}`).toString('base64'),
        marker,
        queryJwt,
        headerJwt,
        bearerToken,
        issued,
        clientSecret,
      ]) {
        assert.ok(!text.toLowerCase().includes(secret.toLowerCase()), `the journal holds ${secret}: ${text}`);
      }
      const entries: Entry[] = response.json().results;
      for (const entry of entries) assert.deepEqual(Object.keys(entry), ENTRY_FIELDS);
      assert.deepEqual(
        entries.map((e) => e.authMode),
        ['none', 'none', 'basic', 'basic', 'none', 'bearer', 'bearer', 'jwt', 'jwt', 'basic', 'basic', 'none'],
      );
      assert.equal(entries[7]!.query, 'keep=1', 'the jwt parameter is taken out');
    });

    test('a token request is in the journal of the site it was for; each site keeps its own', async () => {
      await asUserToken('');
      const atRoot = (await journal(ONE)).filter((e) => e.path === '/oauth2/token');
      assert.equal(atRoot.length, 1, 'the root request named site one by its tnt');
      assert.equal(atRoot[0]!.status, 200);
      assert.equal(atRoot[0]!.operation, null);
      assert.deepEqual(await journal(''), [], 'not in the default site journal');
      assert.deepEqual(await journal('/sites/two'), []);

      const token = await asUserToken('/sites/two');
      const resources = await call('GET', '/sites/two/oauth/token/accessible-resources', bearer(token));
      assert.equal(resources.statusCode, 200);
      assert.deepEqual(
        (await journal('/sites/two')).map((e) => `${e.method} ${e.path} ${e.status}`),
        ['GET /oauth/token/accessible-resources 200', 'POST /oauth2/token 200'],
      );
      assert.equal((await journal(ONE)).length, 1);

      await call('GET', '/wiki/rest/api/user/current', basic('mia'));
      assert.deepEqual(
        (await journal('')).map((e) => `${e.path} ${e.status}`),
        ['/wiki/rest/api/user/current 200'],
      );
      assert.equal((await journal('/sites/two')).length, 2);
    });

    test('DELETE empties the site journal, and only that; site admins may read it, others may not', async () => {
      await call('GET', `${ONE}/wiki/rest/api/user/current`, basic('mia'));
      await call('GET', '/sites/two/wiki/rest/api/user/current', basic('mia'));
      assert.equal((await call('GET', `${ONE}/admin/api/journal`, basic('admin'))).statusCode, 200);
      assert.equal((await call('GET', `${ONE}/admin/api/journal`, basic('mia'))).statusCode, 403);
      assert.equal((await call('DELETE', `${ONE}/admin/api/journal`, basic('mia'))).statusCode, 403);
      assert.equal((await call('GET', `${ONE}/admin/api/journal`)).statusCode, 401);

      const emptied = await call('DELETE', `${ONE}/admin/api/journal`, basic('admin'));
      assert.equal(emptied.statusCode, 204);
      assert.equal(emptied.body, '');
      assert.deepEqual(await journal(), []);
      assert.equal((await journal('/sites/two')).length, 1);
    });

    /** An asUser bearer token for mia on the site under `prefix`, asked for at `/oauth2/token` under it. */
    async function asUserToken(prefix: string): Promise<string> {
      const target = prefix === '' ? ONE : prefix;
      const site = (await call('GET', `/admin/api/sites/${target.slice('/sites/'.length)}`, OPERATOR)).json();
      const assertion = impersonationAssertion('oauth', MIA, { tnt: site.baseUrl });
      const response = await call(
        'POST',
        `${prefix}/oauth2/token`,
        FORM,
        new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      );
      assert.equal(response.statusCode, 200, response.body);
      return response.json().access_token;
    }
  });
}
