/**
 * Export and import (docs/behaviour.md §11) through the real app on both
 * stores: an export imported into a new, empty site reproduces it; YAML both
 * ways; counts; errors that name their paths and apply nothing; the site's
 * name, cloudId and base URL never imported; secrets never exported.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { checkSeed } from '../../src/domain/seed.ts';
import type { SeedFile } from '../../src/schemas/seed.ts';
import { basicAuth, bearer, connectJwt, type Headers } from '../helpers/credentials.ts';
import { APPS, basic, OAUTH_APPS, USERS } from '../helpers/fixture.ts';
import { OPERATOR_TOKEN, type SitesFixture, siteSeed, startSitesFixture } from '../helpers/sites.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const OPERATOR = bearer(OPERATOR_TOKEN);
const MIA = USERS.mia.accountId;
const NOAH = USERS.noah.accountId;

/** The fixture's users and apps, with every other section filled in, and one user who will be deleted. */
function richSeed(): SeedFile {
  const base = siteSeed();
  return checkSeed({
    ...base,
    site: { ...base.site, anonymousAccess: true, maxPropertiesPerUser: 50 },
    users: [
      ...(base.users ?? []).map((u) =>
        u.accountId === MIA ? { ...u, username: 'mia', userKey: 'ff8080815a7f2e6c', timeZone: 'Europe/Berlin' } : u,
      ),
      { accountId: '712020:leaver', email: 'leaver@example.com', displayName: 'Leaver', groups: ['qa'] },
    ],
    labels: ['onboarding', 'release'],
    spaces: [
      { key: 'ENG', name: 'Engineering', view: { groups: ['confluence-users'], users: [NOAH], anonymous: false } },
      { key: 'OPEN', name: 'Open', view: { anonymous: true } },
      { key: '~mia', name: 'Mia', type: 'personal', owner: MIA },
      { key: '~leaver', name: 'Leaver', type: 'personal', owner: '712020:leaver' },
    ],
    content: [
      { id: '1001', space: 'ENG', title: 'Release plan', labels: ['release', 'q3'] },
      { id: '999', type: 'blogpost', space: 'OPEN', title: 'Hello' },
      {
        id: '1002',
        space: 'ENG',
        title: 'Secret plan',
        restrictions: { users: [MIA], groups: ['confluence-admins'] },
      },
    ],
    watches: [
      { user: MIA, content: '1001' },
      { user: MIA, content: '999' },
      { user: MIA, space: 'ENG' },
      { user: NOAH, label: 'release' },
      { user: '712020:leaver', space: 'OPEN' },
    ],
    properties: [
      { product: 'confluence', app: APPS.notes.key, user: MIA, key: 'theme', value: { dark: true, z: 1, a: [1, 2] } },
      { product: 'confluence', user: MIA, key: 'layout', value: { wide: true } },
      { product: 'jira', user: NOAH, key: 'onboarding', value: { done: false } },
      { product: 'jira', user: '712020:leaver', key: 'gone', value: 1 },
    ],
  });
}

/** The site section without what an import never carries over. */
function withoutIdentity(document: SeedFile): SeedFile {
  const { name: _name, cloudId: _cloudId, baseUrl: _baseUrl, ...settings } = document.site ?? {};
  return { ...document, site: settings };
}

const ZERO = { created: 0, updated: 0 };

for (const kind of STORE_KINDS) {
  describe(`export and import on ${kind}`, () => {
    let fx: SitesFixture;
    let app: FastifyInstance;
    let sequence = 0;

    const call = (method: string, url: string, headers: Headers = OPERATOR, payload?: unknown, type?: string) =>
      app.inject({
        method: method as 'GET',
        url,
        headers: payload === undefined ? headers : { ...headers, 'content-type': type ?? 'application/json' },
        ...(payload !== undefined && { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
    /** A new site; its first-start admin when it got one. */
    const createSite = async (seed?: SeedFile) => {
      const name = `site-${++sequence}`;
      const response = await call('POST', '/admin/api/sites', OPERATOR, { name, ...(seed && { seed }) });
      assert.equal(response.statusCode, 201, response.body);
      const admin = response.json().admin as { accountId: string; email: string; apiToken: string } | null;
      return { name, prefix: `/sites/${name}`, admin };
    };
    const exported = async (prefix: string): Promise<SeedFile> => {
      const response = await call('GET', `${prefix}/admin/api/export`);
      assert.equal(response.statusCode, 200, response.body);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      return response.json();
    };
    const imported = async (prefix: string, document: unknown, type?: string) => {
      const response = await call('POST', `${prefix}/admin/api/import`, OPERATOR, document, type);
      assert.equal(response.statusCode, 200, response.body);
      return response.json();
    };
    /** A new site holding nothing but what `document` brings: its first-start admin removed after the import. */
    const copyOf = async (document: unknown, type?: string) => {
      const target = await createSite();
      const counts = await imported(target.prefix, document, type);
      const removed = await call('DELETE', `${target.prefix}/admin/api/users/${target.admin!.accountId}`);
      assert.equal(removed.statusCode, 204, removed.body);
      return { ...target, counts };
    };

    let source: { name: string; prefix: string };
    let sourceExport: SeedFile;

    before(async () => {
      fx = await startSitesFixture(kind);
      app = fx.app;
      source = await createSite(richSeed());
      // A user deleted since leaves a personal space without an owner (docs/behaviour.md §2).
      assert.equal((await call('DELETE', `${source.prefix}/admin/api/users/712020:leaver`)).statusCode, 204);
      sourceExport = await exported(source.prefix);
    });
    after(() => fx.close());

    test('an export is a seed document: sorted, with values, without secrets, and omitted says so', async () => {
      assert.deepEqual(checkSeed(sourceExport), sourceExport, 'the seed loader accepts it as it is');
      assert.deepEqual(sourceExport.omitted, ['apps[].clientSecret', 'apps[].sharedSecret', 'users[].apiTokens']);
      assert.equal(sourceExport.site?.name, source.name);
      assert.equal(sourceExport.site?.anonymousAccess, true);
      assert.equal(sourceExport.site?.maxPropertiesPerUser, 50);
      assert.deepEqual(sourceExport.groups, ['confluence-admins', 'confluence-users', 'qa']);
      assert.deepEqual(sourceExport.labels, ['onboarding', 'q3', 'release']);
      assert.deepEqual(
        sourceExport.users?.map((u) => u.accountId),
        ['712020:admin', '712020:gone', '712020:mia', '712020:noah', '712020:outsider'],
        'people only, by accountId; app bots belong to their apps',
      );
      assert.deepEqual(
        sourceExport.users?.find((u) => u.accountId === MIA),
        {
          accountId: MIA,
          email: USERS.mia.email,
          displayName: 'mia',
          publicName: 'mia',
          timeZone: 'Europe/Berlin',
          emailVisibility: 'admins',
          username: 'mia',
          userKey: 'ff8080815a7f2e6c',
          externalCollaborator: false,
          active: true,
          groups: ['confluence-users'],
        },
      );
      assert.equal(sourceExport.users?.find((u) => u.accountId === USERS.gone.accountId)?.active, false);
      assert.deepEqual(
        sourceExport.spaces?.map((s) => [s.key, s.type, s.owner]),
        [
          ['ENG', 'global', undefined],
          ['OPEN', 'global', undefined],
          ['~leaver', 'personal', null],
          ['~mia', 'personal', MIA],
        ],
      );
      assert.deepEqual(sourceExport.spaces?.[0]?.view, {
        groups: ['confluence-users'],
        users: [NOAH],
        anonymous: false,
      });
      assert.deepEqual(
        sourceExport.content?.map((c) => c.id),
        ['999', '1001', '1002'],
        'content ids in numeric order',
      );
      assert.deepEqual(sourceExport.content?.[1], {
        id: '1001',
        type: 'page',
        space: 'ENG',
        title: 'Release plan',
        labels: ['q3', 'release'],
        restrictions: { users: [], groups: [] },
      });
      assert.deepEqual(sourceExport.content?.[2]?.restrictions, { users: [MIA], groups: ['confluence-admins'] });
      assert.deepEqual(sourceExport.watches, [
        { user: MIA, content: '999' },
        { user: MIA, content: '1001' },
        { user: MIA, space: 'ENG' },
        { user: NOAH, label: 'release' },
      ]);
      assert.deepEqual(sourceExport.properties, [
        { product: 'confluence', user: MIA, key: 'layout', value: { wide: true } },
        { product: 'confluence', app: APPS.notes.key, user: MIA, key: 'theme', value: { dark: true, z: 1, a: [1, 2] } },
        { product: 'jira', user: NOAH, key: 'onboarding', value: { done: false } },
      ]);
      const notes = sourceExport.apps?.find((a) => a.key === APPS.notes.key);
      assert.deepEqual(notes, {
        key: APPS.notes.key,
        name: APPS.notes.name,
        accountId: APPS.notes.accountId,
        clientKey: APPS.notes.clientKey,
        scopes: [...APPS.notes.scopes],
        emailAccess: false,
      });
      const text = JSON.stringify(sourceExport);
      for (const secret of [
        ...(siteSeed().apps ?? []).flatMap((a) => [a.sharedSecret, a.clientSecret]),
        ...Object.values(USERS).map((u) => u.token),
      ]) {
        if (secret !== undefined) assert.ok(!text.includes(secret), 'no secret and no token is exported');
      }
      assert.ok(sourceExport.apps?.every((a) => !('sharedSecret' in a) && !('clientSecret' in a)));
      assert.ok(sourceExport.users?.every((u) => !('apiTokens' in u)));
      assert.deepEqual(await exported(source.prefix), sourceExport, 'the same state exports the same document');
    });

    test('importing an export into an empty site reproduces the site, but for its name, cloudId and base URL', async () => {
      const copy = await copyOf(sourceExport);
      const copied = await exported(copy.prefix);
      assert.equal(copied.site?.name, copy.name, 'the target keeps its own name');
      assert.notEqual(copied.site?.cloudId, sourceExport.site?.cloudId, 'and its own cloudId');
      assert.deepEqual(withoutIdentity(copied), withoutIdentity(sourceExport));

      // The people and their data work on the copy (credentials were not copied: an admin gives a token).
      const token = await call('POST', `${copy.prefix}/admin/api/users/${MIA}/tokens`, OPERATOR, { name: 'test' });
      assert.equal(token.statusCode, 201, token.body);
      const asMia = basicAuth(USERS.mia.email, token.json().token);
      const layout = await call('GET', `${copy.prefix}/wiki/rest/api/user/${MIA}/property/layout`, asMia);
      assert.equal(layout.statusCode, 200, layout.body);
      assert.deepEqual(layout.json().value, { wide: true });
      assert.equal(
        (await call('GET', `${copy.prefix}/wiki/rest/api/user/current`, basic('mia'))).statusCode,
        401,
        "the source's API tokens are not exported",
      );
    });

    test('the counts: all created into an empty site, nothing the second time, and what changed', async () => {
      const target = await createSite();
      const first = await imported(target.prefix, sourceExport);
      assert.deepEqual(first, {
        // The first-start admin's groups existed; the import adds qa.
        users: { created: 5, updated: 0 },
        groups: { created: 1, updated: 0 },
        apps: { created: sourceExport.apps!.length, updated: 0 },
        spaces: { created: 4, updated: 0 },
        content: { created: 3, updated: 0 },
        labels: { created: 3, updated: 0 },
        watches: { created: 4, updated: 0 },
        properties: { created: 3, updated: 0 },
      });
      const again = await imported(target.prefix, sourceExport);
      assert.deepEqual(
        again,
        Object.fromEntries(Object.keys(first).map((k) => [k, ZERO])),
        'loading the same document twice changes nothing',
      );

      const changed = await imported(target.prefix, {
        users: [{ accountId: MIA, email: USERS.mia.email, displayName: 'Mia K', apiTokens: ['mia-new-token-1'] }],
        spaces: [{ key: 'NEW', name: 'New' }],
        properties: [
          { product: 'jira', user: NOAH, key: 'onboarding', value: { done: true } },
          { product: 'jira', user: NOAH, key: 'second', value: 2 },
        ],
      });
      assert.deepEqual(changed.users, { created: 0, updated: 1 });
      assert.deepEqual(changed.spaces, { created: 1, updated: 0 });
      assert.deepEqual(changed.properties, { created: 1, updated: 0 }, 'a property that exists keeps its value');
      const kept = await call(
        'GET',
        `${target.prefix}/rest/api/3/user/properties/onboarding?accountId=${NOAH}`,
        basicAuth(target.admin!.email, target.admin!.apiToken),
      );
      assert.equal(kept.statusCode, 200, kept.body);
      assert.deepEqual(kept.json().value, { done: false });
      const mia = basicAuth(USERS.mia.email, 'mia-new-token-1');
      assert.equal((await call('GET', `${target.prefix}/wiki/rest/api/user/current`, mia)).statusCode, 200);
    });

    test('YAML both ways: Accept: application/yaml exports YAML; Content-Type: application/yaml imports it', async () => {
      const response = await call('GET', `${source.prefix}/admin/api/export`, {
        ...OPERATOR,
        accept: 'application/yaml',
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.match(String(response.headers['content-type']), /^application\/yaml/);
      assert.match(response.body, /^site:\n {2}name: /);
      assert.match(response.body, /id: "1001"/, 'numeric strings stay strings');
      assert.deepEqual(parseYaml(response.body), sourceExport);

      const copy = await copyOf(response.body, 'application/yaml');
      assert.equal(copy.counts.users.created, 5);
      assert.deepEqual(withoutIdentity(await exported(copy.prefix)), withoutIdentity(sourceExport));

      const broken = await call('POST', `${copy.prefix}/admin/api/import`, OPERATOR, 'users: [\n', 'application/yaml');
      assert.equal(broken.statusCode, 400, broken.body);
      assert.match(broken.json().message, /not valid YAML/);
      assert.equal(broken.json().statusCode, 400, 'the Confluence envelope');
    });

    test("an import's problems are a 400 naming each path, and nothing of it is applied", async () => {
      const target = await createSite();
      const before = await exported(target.prefix);
      const document = {
        groups: ['new-group'],
        users: [
          { email: 'fine@example.com', displayName: 'Fine', groups: ['new-group'] },
          { email: 'also-fine@example.com', displayName: 'Also fine' },
          { email: 'second@example.com', displayName: 'Second', groups: ['nowhere'] },
          { email: 'not-an-email', displayName: 'Broken' },
        ],
      };
      const schema = await call('POST', `${target.prefix}/admin/api/import`, OPERATOR, document);
      assert.equal(schema.statusCode, 400, schema.body);
      assert.match(schema.json().message, /users\[3\]\.email: must be an email address/);

      document.users[3]!.email = 'broken@example.com';
      const reference = await call('POST', `${target.prefix}/admin/api/import`, OPERATOR, {
        ...document,
        properties: [{ product: 'jira', user: '712020:nobody', key: 'k', value: 1 }],
      });
      assert.equal(reference.statusCode, 400, reference.body);
      assert.match(reference.json().message, /users\[2\]\.groups\[0\]: group "nowhere" is not defined in groups/);
      assert.match(reference.json().message, /properties\[0\]\.user: no user with accountId "712020:nobody"/);

      const unknown = await call('POST', `${target.prefix}/admin/api/import`, OPERATOR, { users: [], spacez: [] });
      assert.equal(unknown.statusCode, 400, unknown.body);
      assert.match(unknown.json().message, /spacez/);

      assert.deepEqual(await exported(target.prefix), before, 'nothing was applied');
    });

    test("of an imported site section only the settings apply: never the site's name, cloudId or base URL", async () => {
      const target = await createSite();
      const before = (await call('GET', `${target.prefix}/admin/api/site`)).json();
      const counts = await imported(target.prefix, {
        site: {
          name: 'renamed',
          cloudId: '8c5d3a0e-2b1f-4f5e-9a7b-1c2d3e4f5a6b',
          baseUrl: 'http://elsewhere.test',
          anonymousAccess: true,
          oauthTokenLifetimeSeconds: 600,
        },
      });
      assert.deepEqual(counts.users, ZERO);
      const site = (await call('GET', `${target.prefix}/admin/api/site`)).json();
      assert.equal(site.anonymousAccess, true);
      assert.equal(site.oauthTokenLifetimeSeconds, 600);
      assert.equal(site.cloudId, before.cloudId);
      assert.equal(site.baseUrl, before.baseUrl);
      assert.equal((await call('GET', `/admin/api/sites/${target.name}`)).statusCode, 200);
      assert.equal((await call('GET', '/admin/api/sites/renamed')).statusCode, 404);
    });

    test('an import that would leave the site without an active admin is a 409, and applies nothing', async () => {
      const target = await createSite();
      const before = await exported(target.prefix);
      const response = await call('POST', `${target.prefix}/admin/api/import`, OPERATOR, {
        groups: ['nobody-admins'],
        site: { adminGroups: ['nobody-admins'] },
      });
      assert.equal(response.statusCode, 409, response.body);
      assert.match(response.json().message, /This import would leave the site without an active admin/);
      assert.deepEqual(await exported(target.prefix), before);
    });

    test("importing a site's own export changes nothing: apps keep their secrets and tokens", async () => {
      const url = `${source.prefix}/wiki/rest/api/user/${MIA}/property/theme`;
      const jwt = () => connectJwt(APPS.notes, 'GET', `/wiki/rest/api/user/${MIA}/property/theme`);
      assert.equal((await call('GET', url, jwt())).statusCode, 200);
      const issue = () =>
        call(
          'POST',
          `${source.prefix}/oauth2/token`,
          {},
          {
            grant_type: 'client_credentials',
            client_id: OAUTH_APPS.oauth.oauthClientId,
            client_secret: OAUTH_APPS.oauth.clientSecret,
          },
        );
      const issued = await issue();
      assert.equal(issued.statusCode, 200, issued.body);
      const asApp = bearer(issued.json().access_token);
      const byBearer = `${source.prefix}/wiki/rest/api/user?accountId=${MIA}`;
      assert.equal((await call('GET', byBearer, asApp)).statusCode, 200);

      const counts = await imported(source.prefix, sourceExport);
      assert.deepEqual(counts, Object.fromEntries(Object.keys(counts).map((k) => [k, ZERO])));
      assert.equal((await call('GET', url, jwt())).statusCode, 200, 'the shared secret is kept');
      assert.equal((await issue()).statusCode, 200, 'the client secret is kept');
      assert.equal((await call('GET', byBearer, asApp)).statusCode, 200, 'bearer tokens were not ended');
      assert.deepEqual(await exported(source.prefix), sourceExport);
    });

    test('a new app imported without secrets gets a shared secret nobody knows, until an admin sets one', async () => {
      const copy = await copyOf(sourceExport);
      const path = `/wiki/rest/api/user/${MIA}/property/theme`;
      const url = `${copy.prefix}${path}`;
      assert.equal((await call('GET', url, connectJwt(APPS.notes, 'GET', path))).statusCode, 401);
      const secret = 'a-new-shared-secret-of-at-least-32-characters';
      const patched = await call('PATCH', `${copy.prefix}/admin/api/apps/${APPS.notes.key}`, OPERATOR, {
        sharedSecret: secret,
      });
      assert.equal(patched.statusCode, 200, patched.body);
      const signed = connectJwt(APPS.notes, 'GET', path, {}, secret);
      const theme = await call('GET', url, signed);
      assert.equal(theme.statusCode, 200, theme.body);
      assert.deepEqual(theme.json().value, { dark: true, z: 1, a: [1, 2] }, 'with its namespace of properties');
    });

    test('only site admins and the operator export and import', async () => {
      for (const [method, path] of [
        ['GET', '/admin/api/export'],
        ['POST', '/admin/api/import'],
      ] as const) {
        const body = method === 'POST' ? {} : undefined;
        assert.equal((await call(method, path, basic('mia'), body)).statusCode, 403);
        assert.equal((await call(method, path, {}, body)).statusCode, 401);
        assert.equal((await call(method, path, basic('admin'), body)).statusCode, 200);
      }
      const yaml = stringifyYaml({ labels: ['from-yaml'] });
      assert.deepEqual((await imported('', yaml, 'application/yaml')).labels, { created: 1, updated: 0 });
    });
  });
}
