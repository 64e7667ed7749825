/**
 * Sites (docs/behaviour.md §10) with the real clients against a live server
 * on a real port, on both stores. The operator creates a site `acme` from the
 * fixture seed (and the OAuth apps); the default site holds the same fixture,
 * so the same users, apps and credentials exist on both as independent
 * records. A second site, found by Host, has `http://localhost:{port}` as its
 * base URL, so the clients reach it with no prefix at all.
 *
 * What the clients do with a `host` that has a path (read from their sources
 * in node_modules):
 * - confluence.js 2.1 sets axios's `baseURL` to `${host}${apiPrefix}` and
 *   keeps the path of `host`; for a Connect JWT it hashes `getUri()` of the
 *   request, so its `qsh` is computed on the full path, `/sites/acme/wiki/…`
 *   (or `/sites/acme/rest/…` with `apiPrefix: '/rest'`).
 * - jira.js 5.4 sets axios's `baseURL` to `host` and keeps its path too; its
 *   own Connect JWT code (WebCrypto, not atlassian-jwt) hashes `new URL(getUri())`'s
 *   pathname: `/sites/acme/rest/api/3/…`.
 * - atlassian-connect-express strips its base URL's path before hashing; the
 *   atlassian-jwt calls below make both forms by hand.
 * - atlassian-oauth2 posts to `${authorizationServerBaseUrl}/oauth2/token`
 *   and puts that same URL in the assertion's `aud`, `hostBaseUrl` in `tnt`.
 *
 * Three tests hold what docs/behaviour.md §10 says of the root: accessible-resources
 * there for a token of another site than the default; atlassian-oauth2
 * asking there (its `aud` is then the server base URL, which is accepted);
 * and a site created with the server's own base URL is refused (409), so it
 * cannot take the root from the default site.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import { HttpException } from 'jira.js';
import type { SeedFile } from '../../src/schemas/seed.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { ConfluenceClient, oauth2, Version2Client, Version3Client } from '../helpers/clients.ts';
import { basicAuth, bearer, nowSeconds } from '../helpers/credentials.ts';
import { APPS, fixtureSeed, OAUTH_APPS, oauthSeed, SECRET_KEY, USERS } from '../helpers/fixture.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const OPERATOR_TOKEN = 'operator-token-of-the-compat-suite-0001';
const { mia, noah } = USERS;
const { notes } = APPS;
const { oauth } = OAUTH_APPS;
const MIA = encodeURIComponent(mia.accountId);
const SEEDED_KEY = 'seeded-on-acme';

const JIRA_CLIENTS = [
  { name: 'Version2Client', Client: Version2Client, version: 2 },
  { name: 'Version3Client', Client: Version3Client, version: 3 },
] as const;

interface CreatedSite {
  name: string;
  cloudId: string;
  baseUrl: string;
  admin: { email: string; accountId: string; apiToken: string } | null;
}

/** The fixture seed without its site section, so a server or a site can take it as is. */
function fixtureWithoutSite(): SeedFile {
  const { site: _site, ...rest } = fixtureSeed();
  return rest;
}

/** What the operator creates `acme` from: the fixture and the OAuth apps. */
function acmeSeed(): SeedFile {
  const base = fixtureWithoutSite();
  return { ...base, apps: [...(base.apps ?? []), ...(oauthSeed().apps ?? [])] };
}

/** The status confluence.js's rejection carries. */
async function confluenceStatus(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    assert.equal(typeof status, 'number', `expected an HTTP error, got ${String(error)}`);
    return status!;
  }
  assert.fail('the call succeeded');
}

/** The status jira.js's HttpException carries. */
async function jiraStatus(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof HttpException, `expected an HttpException, got ${String(error)}`);
    return error.status;
  }
  assert.fail('the call succeeded');
}

/** A Connect JWT made with atlassian-jwt, its `qsh` computed on `signedUrl` (a path and query). */
function connectToken(method: string, signedUrl: string, app: { key: string; sharedSecret: string } = notes): string {
  const now = nowSeconds();
  return encodeSymmetric(
    {
      iss: app.key,
      iat: now,
      exp: now + 180,
      qsh: createQueryStringHash(fromMethodAndUrl(method, signedUrl)),
    },
    app.sharedSecret,
  );
}

for (const kind of STORE_KINDS) {
  describe(`sites with the real clients against a live server on ${kind}`, () => {
    let server: RunningServer;
    let acme: CreatedSite;

    before(async () => {
      const file = join(tmpdir(), `userplane-compat-sites-${process.pid}-${kind}.json`);
      writeFileSync(file, JSON.stringify(fixtureWithoutSite()));
      server = await startServer({
        port: 0,
        host: '127.0.0.1',
        database: databaseUrl(await freshLocation(kind)),
        seed: file,
        secretKey: SECRET_KEY,
        operatorToken: OPERATOR_TOKEN,
        logLevel: 'silent',
      });
      const created = await fetch(`${server.url}/admin/api/sites`, {
        method: 'POST',
        headers: { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'acme', seed: acmeSeed() }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      acme = (await created.json()) as CreatedSite;
      // One Jira property of mia's on acme, which the JWT and OAuth tests read back.
      const seeded = await fetch(`${acme.baseUrl}/rest/api/3/user/properties/${SEEDED_KEY}?accountId=${MIA}`, {
        method: 'PUT',
        headers: { ...basicAuth(mia.email, mia.token), 'content-type': 'application/json' },
        body: JSON.stringify({ on: 'acme' }),
      });
      assert.equal(seeded.status, 201);
    });
    after(() => server.close());

    const basicConfluence = (host: string, user: { email: string; token: string } = mia, apiPrefix?: string) =>
      new ConfluenceClient({
        host,
        ...(apiPrefix && { apiPrefix }),
        authentication: { basic: { email: user.email, apiToken: user.token } },
      });
    const jwtConfluence = (host: string, apiPrefix?: string) =>
      new ConfluenceClient({
        host,
        ...(apiPrefix && { apiPrefix }),
        authentication: { jwt: { issuer: notes.key, secret: notes.sharedSecret } },
      });

    test('the operator made acme under the server base URL, from a seed with an active admin', async () => {
      assert.equal(acme.name, 'acme');
      assert.equal(acme.baseUrl, `${server.url}/sites/acme`);
      assert.match(acme.cloudId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(acme.admin, null, "the fixture's admin is active, so none is made");
      const tenant = (await (await fetch(`${acme.baseUrl}/_edge/tenant_info`)).json()) as { cloudId: string };
      assert.equal(tenant.cloudId, acme.cloudId);
      const root = (await (await fetch(`${server.url}/_edge/tenant_info`)).json()) as { cloudId: string };
      assert.notEqual(root.cloudId, acme.cloudId);
    });

    test("confluence.js, Basic auth, host = the site's base URL: user properties and the current user; the default site sees none of it", async () => {
      const client = basicConfluence(acme.baseUrl);
      await client.userProperties.createUserProperty({
        userId: mia.accountId,
        key: 'site-theme',
        value: { site: 'acme' },
      });
      const property = await client.userProperties.getUserProperty({ userId: mia.accountId, key: 'site-theme' });
      assert.deepEqual(property.value, { site: 'acme' });
      const listed = await client.userProperties.getUserProperties({ userId: mia.accountId });
      assert.deepEqual(
        listed.results.map((p) => p.key),
        ['site-theme'],
      );
      const current = await client.users.getCurrentUser();
      assert.equal(current.accountId, mia.accountId);
      // Links name the site's base URL.
      assert.equal(current._links?.base, `${acme.baseUrl}/wiki`);

      // The same calls on the default site (host = the server's URL): mia there is another record.
      const root = basicConfluence(server.url);
      assert.equal(
        await confluenceStatus(root.userProperties.getUserProperty({ userId: mia.accountId, key: 'site-theme' })),
        404,
      );
      assert.deepEqual((await root.userProperties.getUserProperties({ userId: mia.accountId })).results, []);
      assert.equal((await root.users.getCurrentUser())._links?.base, `${server.url}/wiki`);
      await root.userProperties.createUserProperty({
        userId: mia.accountId,
        key: 'site-theme',
        value: { site: 'root' },
      });
      assert.deepEqual(
        (await client.userProperties.getUserProperty({ userId: mia.accountId, key: 'site-theme' })).value,
        { site: 'acme' },
        "the default site's write left acme's value alone",
      );

      // Under the /rest/api alias too (apiPrefix '/rest'), the path of host kept.
      const alias = basicConfluence(acme.baseUrl, mia, '/rest');
      assert.deepEqual(
        (await alias.userProperties.getUserProperty({ userId: mia.accountId, key: 'site-theme' })).value,
        { site: 'acme' },
      );
    });

    test('confluence.js, Connect JWT it builds itself (qsh on the full path, /sites/acme included): the app on acme, not on the default site', async () => {
      for (const apiPrefix of [undefined, '/rest']) {
        const app = jwtConfluence(acme.baseUrl, apiPrefix);
        const key = `from-notes${apiPrefix ? '-alias' : ''}`;
        await app.userProperties.createUserProperty({ userId: noah.accountId, key, value: { by: 'notes' } });
        assert.deepEqual((await app.userProperties.getUserProperty({ userId: noah.accountId, key })).value, {
          by: 'notes',
        });
        assert.ok(
          (await app.userProperties.getUserProperties({ userId: noah.accountId })).results.some((p) => p.key === key),
        );
        assert.equal((await app.users.getCurrentUser()).accountId, notes.accountId);

        // The same app key and secret on the default site: another app record, which wrote nothing there.
        const root = jwtConfluence(server.url, apiPrefix);
        assert.equal(await confluenceStatus(root.userProperties.getUserProperty({ userId: noah.accountId, key })), 404);
        assert.equal((await root.users.getCurrentUser()).accountId, notes.accountId);
      }
    });

    for (const { name, Client, version } of JIRA_CLIENTS) {
      test(`jira.js ${name}, host = the site's base URL: user properties with Basic auth and with Connect JWT`, async () => {
        const basic = new Client({
          host: acme.baseUrl,
          authentication: { basic: { email: mia.email, apiToken: mia.token } },
        });
        const accountId = mia.accountId;
        const key = `jira-site-v${version}`;
        await basic.userProperties.setUserProperty({ accountId, propertyKey: key, propertyValue: { v: version } });
        assert.deepEqual(await basic.userProperties.getUserProperty({ accountId, propertyKey: key }), {
          key,
          value: { v: version },
        });
        const keys = await basic.userProperties.getUserPropertyKeys({ accountId });
        // `self` names the site's base URL.
        assert.deepEqual(
          keys.keys?.filter((k) => k.key === key),
          [{ key, self: `${acme.baseUrl}/rest/api/${version}/user/properties/${key}?accountId=712020%3Amia` }],
        );

        const app = new Client({
          host: acme.baseUrl,
          authentication: { jwt: { issuer: notes.key, secret: notes.sharedSecret } },
        });
        const appKey = `jira-site-app-v${version}`;
        await app.userProperties.setUserProperty({
          accountId: noah.accountId,
          propertyKey: appKey,
          propertyValue: { by: 'notes' },
        });
        assert.deepEqual(await app.userProperties.getUserProperty({ accountId: noah.accountId, propertyKey: appKey }), {
          key: appKey,
          value: { by: 'notes' },
        });
        assert.ok(
          (await app.userProperties.getUserPropertyKeys({ accountId: noah.accountId })).keys?.some(
            (k) => k.key === appKey,
          ),
        );
        // Jira properties are shared between the callers of one site: noah sees the app's write on acme.
        const asNoah = new Client({
          host: acme.baseUrl,
          authentication: { basic: { email: noah.email, apiToken: noah.token } },
        });
        assert.deepEqual(
          await asNoah.userProperties.getUserProperty({ accountId: noah.accountId, propertyKey: appKey }),
          { key: appKey, value: { by: 'notes' } },
        );

        // The default site, with the same credentials: none of acme's properties.
        const rootBasic = new Client({
          host: server.url,
          authentication: { basic: { email: mia.email, apiToken: mia.token } },
        });
        assert.equal(await jiraStatus(rootBasic.userProperties.getUserProperty({ accountId, propertyKey: key })), 404);
        assert.ok(
          !(await rootBasic.userProperties.getUserPropertyKeys({ accountId })).keys?.some((k) => k.key === key),
        );
        const rootApp = new Client({
          host: server.url,
          authentication: { jwt: { issuer: notes.key, secret: notes.sharedSecret } },
        });
        assert.equal(
          await jiraStatus(rootApp.userProperties.getUserProperty({ accountId: noah.accountId, propertyKey: appKey })),
          404,
        );
        assert.ok(
          !(await rootApp.userProperties.getUserPropertyKeys({ accountId: noah.accountId })).keys?.some(
            (k) => k.key === appKey,
          ),
        );
      });
    }

    test('atlassian-jwt with fetch under /sites/acme: qsh with and without the prefix, with and without /wiki', async () => {
      const confluencePath = '/wiki/rest/api/user/current';
      const signedForms = [
        `/sites/acme${confluencePath}`,
        confluencePath,
        '/sites/acme/rest/api/user/current',
        '/rest/api/user/current',
      ];
      for (const signed of signedForms) {
        const response = await fetch(`${acme.baseUrl}${confluencePath}`, {
          headers: { authorization: `JWT ${connectToken('GET', signed)}` },
        });
        assert.equal(response.status, 200, `qsh on ${signed}: ${await response.clone().text()}`);
        assert.equal(((await response.json()) as { accountId: string }).accountId, notes.accountId);
      }
      // The token as a query parameter, as Connect iframes and webhooks carry it.
      const inQuery = await fetch(
        `${acme.baseUrl}${confluencePath}?jwt=${connectToken('GET', `/sites/acme${confluencePath}`)}`,
      );
      assert.equal(inQuery.status, 200);

      // Jira: the query is part of the hash, the prefix may or may not be.
      const jiraPath = `/rest/api/3/user/properties?accountId=${MIA}`;
      for (const signed of [`/sites/acme${jiraPath}`, jiraPath]) {
        const response = await fetch(`${acme.baseUrl}${jiraPath}`, {
          headers: { authorization: `JWT ${connectToken('GET', signed)}` },
        });
        assert.equal(response.status, 200, `qsh on ${signed}: ${await response.clone().text()}`);
        const keys = ((await response.json()) as { keys: { key: string }[] }).keys.map((k) => k.key);
        assert.ok(keys.includes(SEEDED_KEY), `acme's key among ${keys}`);
      }

      // A qsh of another request, or of another site's prefix, binds nothing here.
      for (const signed of ['/wiki/rest/api/user', '/sites/other/wiki/rest/api/user/current']) {
        const response = await fetch(`${acme.baseUrl}${confluencePath}`, {
          headers: { authorization: `JWT ${connectToken('GET', signed)}` },
        });
        assert.equal(response.status, 401, `qsh on ${signed}`);
      }
      // The OAuth app exists only on acme: its JWT is unknown on the default site, with either qsh.
      for (const signed of [confluencePath, `/sites/acme${confluencePath}`]) {
        const response = await fetch(`${server.url}${confluencePath}`, {
          headers: { authorization: `JWT ${connectToken('GET', signed, oauth)}` },
        });
        assert.equal(response.status, 401);
      }
      const onAcme = await fetch(`${acme.baseUrl}${confluencePath}`, {
        headers: { authorization: `JWT ${connectToken('GET', confluencePath, oauth)}` },
      });
      assert.equal(onAcme.status, 200);
    });

    test("OAuth: a client_credentials token from the site's /oauth2/token works through the gateway, is 401 on the default site, and lists acme", async () => {
      const issued = await fetch(`${acme.baseUrl}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: oauth.oauthClientId,
          client_secret: oauth.clientSecret,
        }),
      });
      assert.equal(issued.status, 200, await issued.clone().text());
      const { access_token: accessToken, scope } = (await issued.json()) as { access_token: string; scope: string };
      const auth = bearer(accessToken);

      const current = await fetch(`${server.url}/ex/confluence/${acme.cloudId}/wiki/rest/api/user/current`, {
        headers: auth,
      });
      assert.equal(current.status, 200, await current.clone().text());
      assert.equal(((await current.json()) as { accountId: string }).accountId, oauth.accountId);
      const keys = await fetch(`${server.url}/ex/jira/${acme.cloudId}/rest/api/3/user/properties?accountId=${MIA}`, {
        headers: auth,
      });
      assert.equal(keys.status, 200, await keys.clone().text());
      const listed = ((await keys.json()) as { keys: { key: string }[] }).keys.map((k) => k.key);
      assert.ok(listed.includes(SEEDED_KEY), `acme's key among ${listed}`);

      // The clients take the gateway as their host too.
      const confluence = new ConfluenceClient({
        host: `${server.url}/ex/confluence/${acme.cloudId}`,
        authentication: { oauth2: { accessToken } },
      });
      assert.deepEqual(
        (await confluence.userProperties.getUserProperties({ userId: noah.accountId })).results.map((p) => p.key),
        [],
        "the OAuth app's namespace on acme holds nothing yet",
      );
      const jira = new Version3Client({
        host: `${server.url}/ex/jira/${acme.cloudId}`,
        authentication: { oauth2: { accessToken } },
      });
      assert.deepEqual(
        await jira.userProperties.getUserProperty({ accountId: mia.accountId, propertyKey: SEEDED_KEY }),
        { key: SEEDED_KEY, value: { on: 'acme' } },
      );

      // On the default site the token is unknown.
      assert.equal((await fetch(`${server.url}/wiki/rest/api/user/current`, { headers: auth })).status, 401);
      assert.equal(
        (
          await fetch(`${server.url}/rest/api/3/user/properties?accountId=${MIA}`, {
            headers: auth,
          })
        ).status,
        401,
      );

      // accessible-resources under the site's prefix: acme, with the token's scopes.
      const resources = await fetch(`${acme.baseUrl}/oauth/token/accessible-resources`, { headers: auth });
      assert.equal(resources.status, 200, await resources.clone().text());
      const body = (await resources.json()) as Record<string, unknown>[];
      assert.equal(body.length, 1);
      assert.deepEqual(Object.keys(body[0]!).sort(), ['avatarUrl', 'id', 'name', 'scopes', 'url']);
      assert.deepEqual(
        { id: body[0]!.id, name: body[0]!.name, url: body[0]!.url },
        { id: acme.cloudId, name: 'acme', url: acme.baseUrl },
      );
      assert.deepEqual([...(body[0]!.scopes as string[])].sort(), scope.split(' ').sort());
      assert.match(String(body[0]!.avatarUrl), new RegExp(`^${acme.baseUrl}/`));
      const avatar = await fetch(String(body[0]!.avatarUrl));
      assert.equal(avatar.status, 200);
    });

    /** As atlassian-connect-express asks for mia's token on acme, the authorization server pointed at `server`. */
    const impersonateMia = (authorizationServerBaseUrl: string) =>
      oauth2.getAccessToken({
        hostBaseUrl: acme.baseUrl,
        oauthClientId: oauth.oauthClientId,
        sharedSecret: oauth.sharedSecret,
        userAccountId: mia.accountId,
        scopes: ['read', 'write'],
        authorizationServerBaseUrl,
      });

    test("atlassian-oauth2 impersonates a user of acme, asking under the site's prefix (tnt and aud = its base URL)", async () => {
      const token = await impersonateMia(acme.baseUrl);
      assert.equal(token.scope, 'READ WRITE');
      const client = new ConfluenceClient({
        host: acme.baseUrl,
        authentication: { oauth2: { accessToken: token.access_token } },
      });
      assert.equal((await client.users.getCurrentUser()).accountId, mia.accountId);
      // Jira's properties are not kept apart by app: mia's property on acme, read with her token through jira.js.
      const jira = new Version3Client({
        host: acme.baseUrl,
        authentication: { oauth2: { accessToken: token.access_token } },
      });
      assert.deepEqual(
        await jira.userProperties.getUserProperty({ accountId: mia.accountId, propertyKey: SEEDED_KEY }),
        {
          key: SEEDED_KEY,
          value: { on: 'acme' },
        },
      );
      const root = new ConfluenceClient({
        host: server.url,
        authentication: { oauth2: { accessToken: token.access_token } },
      });
      assert.equal(await confluenceStatus(root.users.getCurrentUser()), 401);
    });

    // docs/behaviour.md §10: at the root, "the site is the one the JWT-bearer assertion's tnt names". atlassian-oauth2 puts its
    // authorizationServerBaseUrl in the assertion's aud, so asked at the root its aud is the server base URL, which
    // the server accepts beside the site's base URL and Atlassian's authorization server.
    test('atlassian-oauth2 asking at the root for a user of acme (tnt = acme, aud = the server base URL)', async () => {
      const token = await impersonateMia(server.url);
      const client = new ConfluenceClient({
        host: acme.baseUrl,
        authentication: { oauth2: { accessToken: token.access_token } },
      });
      assert.equal((await client.users.getCurrentUser()).accountId, mia.accountId);
    });

    test("a site found by Host: the clients with host = a base URL of its own (localhost, where the server's URL says 127.0.0.1)", async () => {
      // Made here, once the port is known: the site's base URL names the same server under another host name.
      const port = new URL(server.url).port;
      const created = await fetch(`${server.url}/admin/api/sites`, {
        method: 'POST',
        headers: { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'by-host', baseUrl: `http://localhost:${port}`, seed: fixtureWithoutSite() }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const site = (await created.json()) as CreatedSite;
      assert.equal(site.baseUrl, `http://localhost:${port}`);

      const confluence = basicConfluence(site.baseUrl);
      await confluence.userProperties.createUserProperty({ userId: mia.accountId, key: 'by-host', value: { host: 1 } });
      assert.equal((await confluence.users.getCurrentUser())._links?.base, `${site.baseUrl}/wiki`);
      // confluence.js's Connect JWT: qsh on /wiki/rest/api/…, no prefix at all.
      assert.equal((await jwtConfluence(site.baseUrl).users.getCurrentUser()).accountId, notes.accountId);
      for (const { Client, version } of JIRA_CLIENTS) {
        const jira = new Client({
          host: site.baseUrl,
          authentication: { jwt: { issuer: notes.key, secret: notes.sharedSecret } },
        });
        const key = `by-host-v${version}`;
        await jira.userProperties.setUserProperty({
          accountId: mia.accountId,
          propertyKey: key,
          propertyValue: [version],
        });
        const keys = await jira.userProperties.getUserPropertyKeys({ accountId: mia.accountId });
        assert.deepEqual(
          keys.keys?.filter((k) => k.key === key),
          [{ key, self: `${site.baseUrl}/rest/api/${version}/user/properties/${key}?accountId=712020%3Amia` }],
        );
      }
      // 127.0.0.1 is the default site's, where none of it is; nor on acme.
      for (const host of [server.url, acme.baseUrl]) {
        assert.equal(
          await confluenceStatus(
            basicConfluence(host).userProperties.getUserProperty({ userId: mia.accountId, key: 'by-host' }),
          ),
          404,
          host,
        );
      }
    });

    test("a site's base URL cannot take the host of another site's: 409 on create and on PATCH /admin/api/site, nothing changed", async () => {
      const operator = { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' };
      const held = await fetch(`${server.url}/admin/api/sites`, {
        method: 'POST',
        headers: operator,
        body: JSON.stringify({ name: 'held', baseUrl: 'http://held.example:8080' }),
      });
      assert.equal(held.status, 201, await held.clone().text());
      const again = await fetch(`${server.url}/admin/api/sites`, {
        method: 'POST',
        headers: operator,
        body: JSON.stringify({ name: 'taker', baseUrl: 'http://HELD.example:8080/' }),
      });
      assert.equal(again.status, 409);
      // The same through acme's administration API: a conflict, where it was a 500 (the host's unique index).
      const patched = await fetch(`${acme.baseUrl}/admin/api/site`, {
        method: 'PATCH',
        headers: operator,
        body: JSON.stringify({ baseUrl: 'http://held.example:8080' }),
      });
      assert.equal(patched.status, 409, await patched.clone().text());
      assert.match(
        ((await patched.json()) as { message: string }).message,
        /another site is served at host held\.example:8080/,
      );
      const site = (await (await fetch(`${acme.baseUrl}/admin/api/site`, { headers: operator })).json()) as {
        effectiveBaseUrl: string;
      };
      assert.equal(site.effectiveBaseUrl, acme.baseUrl);
      // A site may name its own host again.
      const own = await fetch(`${server.url}/sites/held/admin/api/site`, {
        method: 'PATCH',
        headers: operator,
        body: JSON.stringify({ baseUrl: 'http://held.example:8080/' }),
      });
      assert.equal(own.status, 200, await own.clone().text());
    });

    // docs/behaviour.md §10: accessible-resources answers "for the token's own site, at the root or under any prefix", as
    // Atlassian answers it at https://api.atlassian.com/oauth/token/accessible-resources, where a 3LO client
    // finds the cloudId its token reaches.
    test('accessible-resources at the root with a token of acme (docs/behaviour.md §10)', async () => {
      const issued = await fetch(`${server.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: oauth.oauthClientId,
          client_secret: oauth.clientSecret,
        }),
      });
      // At the root, the one site whose app has this client_id issues it: acme.
      assert.equal(issued.status, 200, await issued.clone().text());
      const { access_token: accessToken } = (await issued.json()) as { access_token: string };
      const resources = await fetch(`${server.url}/oauth/token/accessible-resources`, { headers: bearer(accessToken) });
      assert.equal(resources.status, 200, await resources.clone().text());
      const [entry] = (await resources.json()) as { id: string; url: string }[];
      assert.deepEqual({ id: entry?.id, url: entry?.url }, { id: acme.cloudId, url: acme.baseUrl });
    });

    // docs/behaviour.md §10: the default site "is served at the server's root exactly as before": a site created with the
    // server's own base URL would take every request to the root with that Host, so it is refused.
    test("a site cannot take the server base URL's host: the root stays the default site's", async () => {
      const rootBefore = (await (await fetch(`${server.url}/_edge/tenant_info`)).json()) as { cloudId: string };
      const created = await fetch(`${server.url}/admin/api/sites`, {
        method: 'POST',
        headers: { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'squatter', baseUrl: server.url }),
      });
      try {
        const rootAfter = (await (await fetch(`${server.url}/_edge/tenant_info`)).json()) as { cloudId: string };
        assert.equal(rootAfter.cloudId, rootBefore.cloudId, 'the root still answers for the default site');
        assert.equal(created.status, 409);
      } finally {
        if (created.status === 201) {
          await fetch(`${server.url}/admin/api/sites/squatter`, { method: 'DELETE', headers: bearer(OPERATOR_TOKEN) });
        }
      }
    });
  });
}
