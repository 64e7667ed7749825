/**
 * Sites (docs/behaviour.md §10) through the real app on both stores: the
 * operator's routes, the four ways a request picks its site, isolation of
 * data and credentials between sites made from one fixture seed, links,
 * Connect JWTs under a site prefix, OAuth across sites, and deletion.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/store/database.ts';
import { basicAuth, bearer, connectJwt, queryStringHash } from '../helpers/credentials.ts';
import { APPS, BASE_URL, basic, impersonationAssertion, OAUTH_APPS, USERS } from '../helpers/fixture.ts';
import { jsonCaller, OPERATOR_TOKEN, type SitesFixture, siteSeed, startSitesFixture } from '../helpers/sites.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const OPERATOR = bearer(OPERATOR_TOKEN);

interface CreatedSite {
  name: string;
  cloudId: string;
  baseUrl: string;
  admin: { email: string; accountId: string; apiToken: string } | null;
}

for (const kind of STORE_KINDS) {
  describe(`sites on ${kind}`, () => {
    let fx: SitesFixture;
    let store: Store;
    let app: FastifyInstance;

    const call = jsonCaller(() => app);
    const createSite = async (body: Record<string, unknown>): Promise<CreatedSite> => {
      const response = await call('POST', '/admin/api/sites', OPERATOR, body);
      assert.equal(response.statusCode, 201, response.body);
      return response.json();
    };
    const putProperty = (prefix: string, user: keyof typeof USERS, key: string, value: unknown) =>
      call('POST', `${prefix}/wiki/rest/api/user/${USERS[user].accountId}/property/${key}`, basic(user), { value });
    const getProperty = (prefix: string, user: keyof typeof USERS, key: string) =>
      call('GET', `${prefix}/wiki/rest/api/user/${USERS[user].accountId}/property/${key}`, basic(user));

    before(async () => {
      fx = await startSitesFixture(kind);
      ({ app, store } = fx);
      await createSite({ name: 'one', seed: siteSeed() });
      await createSite({ name: 'two', seed: siteSeed() });
    });
    after(() => fx.close());

    test('the operator creates a site; its admin works there, and no other site knows either credential', async () => {
      const site = await createSite({ name: 'acme' });
      assert.equal(site.name, 'acme');
      assert.equal(site.baseUrl, `${BASE_URL}/sites/acme`);
      assert.match(site.cloudId, /^[0-9a-f-]{36}$/);
      assert.ok(site.admin, 'a site without an admin gets one');
      const admin = basicAuth(site.admin.email, site.admin.apiToken);

      const current = await call('GET', '/sites/acme/wiki/rest/api/user/current', admin);
      assert.equal(current.statusCode, 200, current.body);
      assert.equal(current.json().accountId, site.admin.accountId);
      assert.equal(current.json()._links.base, `${BASE_URL}/sites/acme/wiki`);
      assert.equal(current.json()._links.self.startsWith(`${BASE_URL}/sites/acme/wiki/rest/api/`), true);

      // The default site's admin is unknown on acme, and acme's admin at the root.
      assert.equal((await call('GET', '/sites/acme/wiki/rest/api/user/current', basic('admin'))).statusCode, 401);
      assert.equal((await call('GET', '/wiki/rest/api/user/current', admin)).statusCode, 401);
      // acme's admin administers acme, and only acme.
      assert.equal((await call('GET', '/sites/acme/admin/api/users', admin)).statusCode, 200);
      assert.equal((await call('GET', '/sites/one/admin/api/users', admin)).statusCode, 401);
    });

    test('only the operator manages sites: site admins get 403, anonymous callers 401; the operator is admin everywhere', async () => {
      assert.equal((await call('GET', '/admin/api/sites', basic('admin'))).statusCode, 403);
      assert.equal((await call('POST', '/admin/api/sites', basic('admin'), { name: 'x' })).statusCode, 403);
      assert.equal((await call('DELETE', '/admin/api/sites/one', basic('admin'))).statusCode, 403);
      assert.equal((await call('GET', '/admin/api/sites')).statusCode, 401);
      assert.equal((await call('GET', '/admin/api/sites', bearer(`${OPERATOR_TOKEN}x`))).statusCode, 401);
      // The operator token is no product credential.
      assert.equal((await call('GET', '/wiki/rest/api/user/current', OPERATOR)).statusCode, 403);
      for (const prefix of ['', '/sites/one', '/sites/two']) {
        const users = await call('GET', `${prefix}/admin/api/users`, OPERATOR);
        assert.equal(users.statusCode, 200, `${prefix}: ${users.body}`);
      }
      const list = await call('GET', '/admin/api/sites', OPERATOR);
      assert.equal(list.statusCode, 200);
      const names = list.json().results.map((s: { name: string }) => s.name);
      for (const name of ['default', 'one', 'two']) assert.ok(names.includes(name), `${name} in ${names}`);
      const one = await call('GET', '/admin/api/sites/one', OPERATOR);
      assert.deepEqual(Object.keys(one.json()).sort(), ['baseUrl', 'cloudId', 'createdDate', 'name']);
    });

    test('creating: a taken name or cloudId is 409, a bad name or seed 400 naming the path, and nothing is left behind', async () => {
      assert.equal((await call('POST', '/admin/api/sites', OPERATOR, { name: 'one' })).statusCode, 409);
      const oneCloudId = (await call('GET', '/admin/api/sites/one', OPERATOR)).json().cloudId;
      const taken = await call('POST', '/admin/api/sites', OPERATOR, {
        name: 'three',
        seed: { site: { cloudId: oneCloudId } },
      });
      assert.equal(taken.statusCode, 409);
      assert.match(taken.json().message, /cloudId/);
      const badName = await call('POST', '/admin/api/sites', OPERATOR, { name: 'Not A Name' });
      assert.equal(badName.statusCode, 400);
      const badSeed = await call('POST', '/admin/api/sites', OPERATOR, {
        name: 'broken',
        seed: { users: [{ accountId: '712020:x', email: 'x@example.com', displayName: 'X', groups: ['nope'] }] },
      });
      assert.equal(badSeed.statusCode, 400);
      assert.match(badSeed.json().message, /seed\.users\[0\]\.groups\[0\]/);
      assert.equal((await call('GET', '/admin/api/sites/broken', OPERATOR)).statusCode, 404);
      // The server's own host serves the default site: no other site may take it, by creation or by change.
      const squatter = await call('POST', '/admin/api/sites', OPERATOR, { name: 'squatter', baseUrl: BASE_URL });
      assert.equal(squatter.statusCode, 409);
      const moved = await call('PATCH', '/sites/one/admin/api/site', OPERATOR, { baseUrl: `${BASE_URL}/` });
      assert.equal(moved.statusCode, 409, moved.body);
      const generated = await createSite({});
      assert.match(generated.name, /^site-[a-z0-9]{10}$/);
    });

    test('one fixture seed on two sites: the same users, apps and keys are independent records', async () => {
      assert.equal((await putProperty('/sites/one', 'mia', 'theme', { site: 'one' })).statusCode, 201);
      assert.equal((await getProperty('/sites/two', 'mia', 'theme')).statusCode, 404);
      assert.equal((await getProperty('', 'mia', 'theme')).statusCode, 404);
      assert.equal((await putProperty('/sites/two', 'mia', 'theme', { site: 'two' })).statusCode, 201);
      assert.deepEqual((await getProperty('/sites/one', 'mia', 'theme')).json().value, { site: 'one' });
      assert.deepEqual((await getProperty('/sites/two', 'mia', 'theme')).json().value, { site: 'two' });

      // Jira's properties too, and a deletion on one site leaves the other's.
      const jira = (prefix: string, method: string, payload?: unknown) =>
        call(
          method,
          `${prefix}/rest/api/3/user/properties/tour?accountId=${USERS.mia.accountId}`,
          basic('mia'),
          payload,
        );
      assert.equal((await jira('/sites/one', 'PUT', { done: 1 })).statusCode, 201);
      assert.equal((await jira('/sites/two', 'GET')).statusCode, 404);
      assert.equal((await jira('/sites/two', 'PUT', { done: 2 })).statusCode, 201);
      assert.equal((await jira('/sites/one', 'DELETE')).statusCode, 204);
      assert.deepEqual((await jira('/sites/two', 'GET')).json().value, { done: 2 });

      // An email on one site says nothing of another: a user added on one is unknown on two.
      const created = await call('POST', '/sites/one/admin/api/users', OPERATOR, {
        email: 'only-one@example.com',
        displayName: 'Only One',
      });
      assert.equal(created.statusCode, 201, created.body);
      const accountId = created.json().accountId;
      assert.equal(
        (await call('GET', `/sites/one/wiki/rest/api/user?accountId=${accountId}`, basic('mia'))).statusCode,
        200,
      );
      assert.equal(
        (await call('GET', `/sites/two/wiki/rest/api/user?accountId=${accountId}`, basic('mia'))).statusCode,
        404,
      );
    });

    test('a request picks its site: gateway cloudId, /sites/{name}, Host, else the default', async () => {
      const one = (await call('GET', '/admin/api/sites/one', OPERATOR)).json();
      const tenant = await call('GET', '/sites/one/_edge/tenant_info');
      assert.equal(tenant.json().cloudId, one.cloudId);
      const viaGateway = await call('GET', `/ex/confluence/${one.cloudId}/wiki/rest/api/user/current`, basic('mia'));
      assert.equal(viaGateway.statusCode, 200);
      // mia of the default site has another password than... the same one: the records differ by site only.
      await putProperty('/sites/one', 'noah', 'where', { site: 'one' });
      const gatewayRead = await call(
        'GET',
        `/ex/confluence/${one.cloudId}/wiki/rest/api/user/${USERS.noah.accountId}/property/where`,
        basic('noah'),
      );
      assert.deepEqual(gatewayRead.json().value, { site: 'one' });
      // A cloudId that is no site's, and one that disagrees with the prefix: 404.
      assert.equal(
        (
          await call(
            'GET',
            '/ex/confluence/00000000-0000-0000-0000-000000000000/wiki/rest/api/user/current',
            basic('mia'),
          )
        ).statusCode,
        404,
      );
      const two = (await call('GET', '/admin/api/sites/two', OPERATOR)).json();
      assert.equal(
        (await call('GET', `/sites/one/ex/confluence/${two.cloudId}/wiki/rest/api/user/current`, basic('mia')))
          .statusCode,
        404,
      );
      const unknown = await call('GET', '/sites/nowhere/wiki/rest/api/user/current', basic('mia'));
      assert.equal(unknown.statusCode, 404);
      assert.match(unknown.json().message, /No site named "nowhere"/);

      // Host: a site whose base URL has no path is found by host and port.
      const hosted = await createSite({ name: 'hosted', baseUrl: 'http://acme.localhost:8080' });
      const admin = basicAuth(hosted.admin!.email, hosted.admin!.apiToken);
      const byHost = await app.inject({
        method: 'GET',
        url: '/wiki/rest/api/user/current',
        headers: { ...admin, host: 'acme.localhost:8080' },
      });
      assert.equal(byHost.statusCode, 200, byHost.body);
      assert.equal(byHost.json()._links.base, 'http://acme.localhost:8080/wiki');
      const otherPort = await app.inject({
        method: 'GET',
        url: '/wiki/rest/api/user/current',
        headers: { ...admin, host: 'acme.localhost:8081' },
      });
      assert.equal(otherPort.statusCode, 401, 'another port is the default site, where the credential is unknown');
    });

    test('Connect JWTs under /sites/{name}: qsh with or without the prefix and /wiki; a JWT of one site is unknown on another', async () => {
      const path = `/wiki/rest/api/user/current`;
      for (const signed of [path, `/sites/one${path}`, '/rest/api/user/current', `/sites/one/rest/api/user/current`]) {
        const token = connectJwt(APPS.notes, 'GET', signed);
        const response = await call('GET', `/sites/one${path}`, token);
        assert.equal(response.statusCode, 200, `qsh on ${signed}: ${response.body}`);
        assert.equal(response.json().accountId, APPS.notes.accountId);
      }
      const forOne = connectJwt(APPS.notes, 'GET', `/sites/one${path}`, { qsh: queryStringHash('GET', path) });
      assert.equal((await call('GET', `/sites/one${path}`, forOne)).statusCode, 200);
      // An app whose key exists only on one site: unknown elsewhere, with the answer an unknown app gets.
      const solo = { key: 'com.example.solo', sharedSecret: 'solo-shared-secret-of-at-least-32-chars' };
      const created = await call('POST', '/sites/one/admin/api/apps', OPERATOR, {
        key: solo.key,
        name: 'Solo',
        clientKey: 'solo-client',
        sharedSecret: solo.sharedSecret,
        scopes: ['READ'],
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal((await call('GET', `/sites/one${path}`, connectJwt(solo, 'GET', path))).statusCode, 200);
      const elsewhere = await call('GET', `/sites/two${path}`, connectJwt(solo, 'GET', path));
      const unknownApp = await call(
        'GET',
        `/sites/two${path}`,
        connectJwt({ ...solo, key: 'com.example.none' }, 'GET', path),
      );
      assert.equal(elsewhere.statusCode, 401);
      assert.equal(elsewhere.json().message, unknownApp.json().message, 'no answer tells an app exists elsewhere');
    });

    test('OAuth across sites: tokens are issued per site, work only there, and list their one site', async () => {
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const clientCredentials = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: OAUTH_APPS.oauth.oauthClientId,
        client_secret: OAUTH_APPS.oauth.clientSecret,
      }).toString();
      // The client_id is on both sites: at the root the request must name its site.
      const root = await app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: form,
        payload: clientCredentials,
      });
      assert.equal(root.statusCode, 400, root.body);
      assert.equal(root.json().error, 'invalid_request');
      assert.match(root.json().error_description, /several sites/);

      const issued = await app.inject({
        method: 'POST',
        url: '/sites/one/oauth2/token',
        headers: form,
        payload: clientCredentials,
      });
      assert.equal(issued.statusCode, 200, issued.body);
      const token = bearer(issued.json().access_token);
      assert.equal((await call('GET', '/sites/one/wiki/rest/api/user/current', token)).statusCode, 200);
      assert.equal((await call('GET', '/sites/two/wiki/rest/api/user/current', token)).statusCode, 401);
      assert.equal((await call('GET', '/wiki/rest/api/user/current', token)).statusCode, 401);
      const one = (await call('GET', '/admin/api/sites/one', OPERATOR)).json();
      const viaGateway = await call('GET', `/ex/confluence/${one.cloudId}/wiki/rest/api/user/current`, token);
      assert.equal(viaGateway.statusCode, 200);

      // The token's own site, wherever it is asked (as Atlassian's api.atlassian.com answers it).
      for (const prefix of ['', '/sites/one', '/sites/two']) {
        const resources = await call('GET', `${prefix}/oauth/token/accessible-resources`, token);
        assert.equal(resources.statusCode, 200, `${prefix}: ${resources.body}`);
        const [entry] = resources.json();
        assert.equal(entry.id, one.cloudId);
        assert.equal(entry.name, 'one');
        assert.equal(entry.url, one.baseUrl);
        assert.ok(entry.scopes.includes('READ'));
        assert.equal(typeof entry.avatarUrl, 'string');
      }

      // The JWT-bearer grant at the root: the assertion's tnt names the site.
      const assertion = impersonationAssertion('oauth', USERS.mia.accountId, { tnt: one.baseUrl });
      const asUser = await app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: form,
        payload: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion,
        }).toString(),
      });
      assert.equal(asUser.statusCode, 200, asUser.body);
      const mine = await call('GET', '/sites/one/wiki/rest/api/user/current', bearer(asUser.json().access_token));
      assert.equal(mine.json().accountId, USERS.mia.accountId);
      // A tnt of another site than the prefix's: refused.
      const wrongTenant = await app.inject({
        method: 'POST',
        url: '/sites/two/oauth2/token',
        headers: form,
        payload: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion,
        }).toString(),
      });
      assert.equal(wrongTenant.statusCode, 400);
      assert.equal(wrongTenant.json().error, 'invalid_grant');
    });

    test('deleting a site removes everything of it at once; the default site stays', async () => {
      const doomed = await createSite({ name: 'doomed', seed: siteSeed() });
      assert.equal(doomed.admin, null, 'the seed has an active admin, so none is made');
      assert.equal((await putProperty('/sites/doomed', 'mia', 'gone-soon', { x: 1 })).statusCode, 201);
      const admin = basic('admin');
      assert.equal((await call('GET', '/sites/doomed/wiki/rest/api/user/current', admin)).statusCode, 200);

      assert.equal((await call('DELETE', '/admin/api/sites/doomed', OPERATOR)).statusCode, 204);
      assert.equal((await call('GET', '/sites/doomed/wiki/rest/api/user/current', admin)).statusCode, 404);
      assert.equal((await call('GET', '/admin/api/sites/doomed', OPERATOR)).statusCode, 404);
      const siteId = await store.db.selectFrom('sites').select('id').where('name', '=', 'doomed').executeTakeFirst();
      assert.equal(siteId, undefined);
      for (const table of ['users', 'properties', 'apps', 'api_tokens', 'groups'] as const) {
        const rows = await store.db
          .selectFrom(table)
          .select('site_id')
          .where('site_id', 'not in', [1, ...(await siteIds(store))])
          .execute();
        assert.equal(rows.length, 0, `${table} keeps nothing of the deleted site`);
      }
      const refused = await call('DELETE', '/admin/api/sites/default', OPERATOR);
      assert.equal(refused.statusCode, 409);
      assert.equal((await getProperty('/sites/one', 'mia', 'theme')).statusCode, 200, 'other sites are untouched');
    });
  });
}

async function siteIds(store: Store): Promise<number[]> {
  return (await store.db.selectFrom('sites').select('id').execute()).map((r) => r.id);
}
