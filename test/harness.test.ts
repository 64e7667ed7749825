/**
 * `startUserplane` (src/testing.ts, docs/behaviour.md §11 "Use from a test
 * suite"), in-process from the sources, on both stores: the server it
 * starts, the default site's handle, sites made from a seed document or a
 * seed file, their admins' ready Authorization headers, deletion, and a
 * close that frees the port. The packaged form is test/pack.test.ts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type SiteHandle, startUserplane, type Userplane } from '../src/testing.ts';
import { base64 } from './helpers/credentials.ts';
import { SECRET_KEY } from './helpers/fixture.ts';
import { databaseUrl, freshLocation, STORE_KINDS, type StoreKind } from './helpers/stores.ts';

/** A site's seed: a user with a token, and no admin, so first start makes one. */
const SEED = {
  groups: ['confluence-users', 'qa'],
  users: [
    {
      accountId: '712020:mia',
      email: 'mia@example.com',
      displayName: 'Mia Krystof',
      groups: ['confluence-users', 'qa'],
      apiTokens: ['mia-token-of-the-harness-test'],
    },
  ],
};
const MIA = `Basic ${base64('mia@example.com:mia-token-of-the-harness-test')}`;

async function currentUser(baseUrl: string, authorization: string): Promise<{ status: number; accountId?: string }> {
  const response = await fetch(`${baseUrl}/wiki/rest/api/user/current`, { headers: { authorization } });
  const body = (await response.json()) as { accountId?: string };
  return { status: response.status, accountId: body.accountId };
}

/** Whether something can listen on the port now. */
async function portIsFree(port: number): Promise<boolean> {
  const probe = createServer();
  probe.listen(port, '127.0.0.1');
  try {
    await once(probe, 'listening');
  } catch {
    return false;
  }
  probe.close();
  await once(probe, 'close');
  return true;
}

/**
 * The control-plane calls of a site handle reach exactly their route. The
 * routes of reset, snapshots and the journal are built beside this harness:
 * until they are served, the server answers 404 naming the route it was
 * asked for, which the handle reports as an Error naming method, path and
 * status; once served, the call succeeds and answers what the route does.
 */
async function reachesRoute<T>(call: Promise<T>, method: string, path: string, served: (value: T) => void) {
  let value: T;
  try {
    value = await call;
  } catch (error) {
    const unprefixed = path.replace(/^\/sites\/[^/]+/, '').replace(/\?.*$/, '');
    assert.equal(
      (error as Error).message,
      `userplane: ${method} ${path} answered 404: No resource at ${method} ${unprefixed}`,
    );
    return;
  }
  served(value);
}

async function optionsFor(kind: StoreKind) {
  if (kind === 'sqlite') return {};
  return { database: databaseUrl(await freshLocation('postgres')), secretKey: SECRET_KEY };
}

for (const kind of STORE_KINDS) {
  describe(`startUserplane on ${kind}`, () => {
    let up: Userplane;
    before(async () => {
      up = await startUserplane(await optionsFor(kind));
    });
    after(() => up.close());

    test('it listens on a free port of 127.0.0.1; the default site is served at its url, with the first-start admin', async () => {
      assert.match(up.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(new URL(up.url).port, '0');
      const site = up.defaultSite;
      assert.equal(site.name, 'default');
      assert.equal(site.baseUrl, up.url);
      assert.match(site.cloudId, /^[0-9a-f-]{36}$/);
      assert.ok(site.admin, 'a first start without a seed makes an admin');
      assert.equal(site.admin.email, 'admin@userplane.local');
      assert.equal(site.admin.authorization, `Basic ${base64(`${site.admin.email}:${site.admin.apiToken}`)}`);
      assert.deepEqual(await currentUser(up.url, site.admin.authorization), {
        status: 200,
        accountId: site.admin.accountId,
      });
      const tenant = await fetch(`${up.url}/_edge/tenant_info`);
      assert.equal(((await tenant.json()) as { cloudId: string }).cloudId, site.cloudId);
    });

    test('the operator token is the operator: it lists the sites', async () => {
      const response = await fetch(`${up.url}/admin/api/sites`, {
        headers: { authorization: `Bearer ${up.operatorToken}` },
      });
      assert.equal(response.status, 200);
      const names = ((await response.json()) as { results: Array<{ name: string }> }).results.map((s) => s.name);
      assert.ok(names.includes('default'), names.join());
    });

    test('createSite from a seed document: its admin and its seeded users work there and only there; delete removes it', async () => {
      const site = await up.createSite({ name: 'acme', seed: SEED });
      assert.equal(site.name, 'acme');
      assert.equal(site.baseUrl, `${up.url}/sites/acme`);
      assert.match(site.cloudId, /^[0-9a-f-]{36}$/);
      assert.notEqual(site.cloudId, up.defaultSite.cloudId);
      assert.ok(site.admin, 'a seed without an admin gets one');
      assert.match(site.admin.authorization, /^Basic [A-Za-z0-9+/]+=*$/);

      assert.deepEqual(await currentUser(site.baseUrl, site.admin.authorization), {
        status: 200,
        accountId: site.admin.accountId,
      });
      assert.deepEqual(await currentUser(site.baseUrl, MIA), { status: 200, accountId: '712020:mia' });
      // Through the gateway form too, by cloudId.
      assert.deepEqual(await currentUser(`${up.url}/ex/confluence/${site.cloudId}`, site.admin.authorization), {
        status: 200,
        accountId: site.admin.accountId,
      });
      // Each site's credentials are its own.
      assert.equal((await currentUser(up.url, site.admin.authorization)).status, 401);
      assert.equal((await currentUser(up.url, MIA)).status, 401);
      assert.equal((await currentUser(site.baseUrl, up.defaultSite.admin!.authorization)).status, 401);

      await site.delete();
      const gone = await fetch(`${site.baseUrl}/wiki/rest/api/user/current`, {
        headers: { authorization: site.admin.authorization },
      });
      assert.equal(gone.status, 404);
      await gone.arrayBuffer();
      await assert.rejects(site.delete(), {
        message: 'userplane: DELETE /admin/api/sites/acme answered 404: No site named "acme"',
      });
    });

    test('createSite from a seed file; a seed with an active admin gets no admin; no name makes one up', async () => {
      const folder = mkdtempSync(join(tmpdir(), 'userplane-harness-'));
      const file = join(folder, 'seed.yaml');
      writeFileSync(
        file,
        [
          'users:',
          '  - accountId: "712020:ada"',
          '    email: ada@example.com',
          '    displayName: Ada Admin',
          '    groups: [confluence-admins, confluence-users]',
          '    apiTokens: [ada-token-of-the-harness-test]',
          '',
        ].join('\n'),
      );
      const site = await up.createSite({ seed: file });
      try {
        assert.match(site.name, /^site-[a-z0-9]{10}$/);
        assert.equal(site.admin, null);
        const ada = `Basic ${base64('ada@example.com:ada-token-of-the-harness-test')}`;
        assert.deepEqual(await currentUser(site.baseUrl, ada), { status: 200, accountId: '712020:ada' });
      } finally {
        await site.delete();
      }
    });

    test("a bad seed or a taken name: createSite throws the server's reason", async () => {
      await assert.rejects(up.createSite({ name: 'default' }), {
        message: 'userplane: POST /admin/api/sites answered 409: A site named "default" exists',
      });
      await assert.rejects(
        up.createSite({ seed: { users: [{ email: 'not an email', displayName: 'X' }] } }),
        (error) => {
          assert.match(
            (error as Error).message,
            /^userplane: POST \/admin\/api\/sites answered 400: .*seed\.users\[0\]\.email/,
          );
          return true;
        },
      );
    });

    test('the default site cannot be deleted', async () => {
      await assert.rejects(up.defaultSite.delete(), {
        message:
          "userplane: DELETE /admin/api/sites/default answered 409: Site default is the server's default site, which cannot be deleted",
      });
    });

    test('reset, snapshot, restore and journal call their routes of the site, with the operator token', async () => {
      const site: SiteHandle = await up.createSite({ name: 'control', seed: SEED });
      try {
        await reachesRoute(site.reset(), 'POST', '/sites/control/admin/api/reset', (value) => {
          assert.equal(value, undefined);
        });
        await reachesRoute(site.snapshot('before'), 'POST', '/sites/control/admin/api/snapshots', (snapshot) => {
          assert.equal(snapshot.name, 'before');
        });
        await reachesRoute(
          site.restore('before'),
          'POST',
          '/sites/control/admin/api/snapshots/before/restore',
          (value) => {
            assert.equal(value, undefined);
          },
        );
        await reachesRoute(
          site.journal({ status: 401, limit: 5 }),
          'GET',
          '/sites/control/admin/api/journal?status=401&limit=5',
          (entries) => assert.ok(Array.isArray(entries)),
        );
        await reachesRoute(up.defaultSite.reset(), 'POST', '/admin/api/reset', (value) => {
          assert.equal(value, undefined);
        });
      } finally {
        await site.delete();
      }
    });
  });
}

describe('startUserplane: its own options', () => {
  test('a seed document makes the default site; close frees the port', async () => {
    const up = await startUserplane({
      seed: { site: { name: 'main' }, ...SEED, users: [{ ...SEED.users[0]!, groups: ['confluence-users', 'qa'] }] },
    });
    const port = Number(new URL(up.url).port);
    try {
      assert.equal(up.defaultSite.name, 'main');
      assert.ok(up.defaultSite.admin, 'the seed has no admin, so first start made one');
      assert.deepEqual(await currentUser(up.url, MIA), { status: 200, accountId: '712020:mia' });
      assert.equal(await portIsFree(port), false);
    } finally {
      await up.close();
    }
    assert.equal(await portIsFree(port), true);
    await assert.rejects(fetch(`${up.url}/healthz`));
    // Closing twice is harmless.
    await up.close();
  });

  test('the port it is given; a port taken fails the start', async () => {
    const first = await startUserplane();
    try {
      const port = Number(new URL(first.url).port);
      await assert.rejects(startUserplane({ port }), { code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });

  test('PostgreSQL without a secret key, or a bad setting: the start fails saying why', async () => {
    await assert.rejects(startUserplane({ database: 'postgres://127.0.0.1:1/none' }), /required with PostgreSQL/);
    await assert.rejects(startUserplane({ port: 70_000 }), /--port/);
  });
});
