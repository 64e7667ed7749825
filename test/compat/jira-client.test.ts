/**
 * jira.js (5.4) against a live server on a real port, on both stores: the
 * `userProperties` methods of `Version2Client` and `Version3Client`, with
 * Basic auth, with the Connect JWTs jira.js builds itself, and through the
 * `/ex/jira/{cloudId}` gateway. jira.js is the users' ground truth: what it
 * sends is what userplane must understand.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpException } from 'jira.js';
import { type RunningServer, startServer } from '../../src/server.ts';
import { Version2Client, Version3Client } from '../helpers/clients.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { APPS, fixtureSeed, SECRET_KEY, USERS } from '../helpers/fixture.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const CLIENTS = [
  { name: 'Version2Client', Client: Version2Client, version: 2 },
  { name: 'Version3Client', Client: Version3Client, version: 3 },
] as const;

type Client = Version2Client | Version3Client;
type ClientClass = (typeof CLIENTS)[number]['Client'];

const mia = USERS.mia;
/** A user with the legacy identifiers jira.js can still send. */
const LENA = {
  accountId: '712020:lena',
  email: 'lena@example.com',
  token: 'lena-token-0001',
  username: 'lena',
  userKey: 'lena-key-0001',
};

/** The rejection jira.js raises for an HTTP error: its status and Jira's error envelope. */
async function rejection(call: Promise<unknown>): Promise<{ status: number; errorMessages: string[] }> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof HttpException, `expected an HttpException, got ${String(error)}`);
    const data = (error.response as { data?: { errorMessages?: string[]; errors?: object } }).data;
    assert.deepEqual(data?.errors, {});
    return { status: error.status, errorMessages: data?.errorMessages ?? [] };
  }
  assert.fail('the call succeeded');
}

for (const kind of STORE_KINDS) {
  describe(`jira.js against a live server on ${kind}`, () => {
    let server: RunningServer;
    let cloudId: string;
    before(async () => {
      const seed = join(tmpdir(), `userplane-jira-live-${process.pid}-${kind}.json`);
      const { site: _site, users, ...rest } = fixtureSeed();
      const lena = {
        accountId: LENA.accountId,
        email: LENA.email,
        displayName: 'Lena',
        username: LENA.username,
        userKey: LENA.userKey,
        groups: ['confluence-users'],
        apiTokens: [LENA.token],
      };
      writeFileSync(seed, JSON.stringify({ ...rest, users: [...(users ?? []), lena] }));
      server = await startServer({
        port: 0,
        host: '127.0.0.1',
        database: databaseUrl(await freshLocation(kind)),
        seed,
        secretKey: SECRET_KEY,
        logLevel: 'silent',
      });
      cloudId = ((await (await fetch(`${server.url}/_edge/tenant_info`)).json()) as { cloudId: string }).cloudId;
    });
    after(() => server.close());

    const basicClient = (
      Client: ClientClass,
      user: { email: string; token: string } = mia,
      host = server.url,
    ): Client => new Client({ host, authentication: { basic: { email: user.email, apiToken: user.token } } });

    for (const { name, Client, version } of CLIENTS) {
      test(`${name}, Basic auth: set (create and replace), get, list keys, delete`, async () => {
        const client = basicClient(Client);
        const key = `theme-v${version}`;
        const accountId = mia.accountId;
        await client.userProperties.setUserProperty({ accountId, propertyKey: key, propertyValue: { dark: true } });
        assert.deepEqual(await client.userProperties.getUserProperty({ accountId, propertyKey: key }), {
          key,
          value: { dark: true },
        });
        await client.userProperties.setUserProperty({
          accountId,
          propertyKey: key,
          propertyValue: ['replaced', 1, null],
        });
        assert.deepEqual(await client.userProperties.getUserProperty({ accountId, propertyKey: key }), {
          key,
          value: ['replaced', 1, null],
        });

        await client.userProperties.setUserProperty({
          accountId,
          propertyKey: `another-v${version}`,
          propertyValue: {},
        });
        const keys = await client.userProperties.getUserPropertyKeys({ accountId });
        // With no base URL configured, self names the address the server listens on, in this client's version.
        assert.deepEqual(
          keys.keys?.filter((k) => k.key?.endsWith(`-v${version}`)),
          [`another-v${version}`, key].map((k) => ({
            key: k,
            self: `${server.url}/rest/api/${version}/user/properties/${k}?accountId=712020%3Amia`,
          })),
        );

        await client.userProperties.deleteUserProperty({ accountId, propertyKey: key });
        await client.userProperties.deleteUserProperty({ accountId, propertyKey: `another-v${version}` });
        const gone = await rejection(client.userProperties.getUserProperty({ accountId, propertyKey: key }));
        assert.equal(gone.status, 404);
        assert.match(gone.errorMessages[0]!, new RegExp(`The property "${key}" does not exist`));
      });

      test(`${name}: the answers are 201 on create and 200 on replace, with empty bodies`, async () => {
        // jira.js resolves to the body; the statuses are read here with fetch, on the same requests.
        const url = `${server.url}/rest/api/${version}/user/properties/status?accountId=${mia.accountId}`;
        const headers = {
          ...basicAuth(mia.email, mia.token),
          'content-type': 'application/json',
        };
        const created = await fetch(url, { method: 'PUT', headers, body: '{"n":1}' });
        assert.equal(created.status, 201);
        assert.equal(await created.text(), '');
        assert.equal(created.headers.get('x-aaccountid'), mia.accountId);
        const replaced = await fetch(url, { method: 'PUT', headers, body: '{"n":2}' });
        assert.equal(replaced.status, 200);
        assert.equal(await replaced.text(), '');
        // jira.js resolves both to the empty body.
        const client = basicClient(Client);
        assert.equal(
          await client.userProperties.setUserProperty({
            accountId: mia.accountId,
            propertyKey: 'status',
            propertyValue: { n: 3 },
          }),
          '',
        );
        assert.deepEqual(
          await client.userProperties.getUserProperty({ accountId: mia.accountId, propertyKey: 'status' }),
          { key: 'status', value: { n: 3 } },
        );
        await client.userProperties.deleteUserProperty({ accountId: mia.accountId, propertyKey: 'status' });
      });

      test(`${name}: a bare string value is sent form-encoded and refused with 400; JSON-typed requests carry scalars`, async () => {
        const accountId = mia.accountId;
        const key = `scalar-v${version}`;
        const plain = basicClient(Client);
        for (const propertyValue of ['hello', JSON.stringify('hello')]) {
          const refused = await rejection(
            plain.userProperties.setUserProperty({ accountId, propertyKey: key, propertyValue }),
          );
          assert.equal(refused.status, 400);
          assert.match(
            refused.errorMessages[0]!,
            /The property value must be JSON sent with Content-Type application\/json, not "application\/x-www-form-urlencoded/,
          );
        }
        assert.equal(
          (await rejection(plain.userProperties.getUserProperty({ accountId, propertyKey: key }))).status,
          404,
          'nothing was stored',
        );

        // With the JSON content type set for every request, axios serialises scalars as JSON.
        const typed = new Client({
          host: server.url,
          authentication: { basic: { email: mia.email, apiToken: mia.token } },
          baseRequestConfig: { headers: { 'Content-Type': 'application/json' } },
        });
        for (const value of ['hello', '', 0, false, 12.5, true]) {
          await typed.userProperties.setUserProperty({ accountId, propertyKey: key, propertyValue: value });
          assert.deepEqual(await typed.userProperties.getUserProperty({ accountId, propertyKey: key }), { key, value });
        }
        await typed.userProperties.deleteUserProperty({ accountId, propertyKey: key });
      });

      test(`${name}: errors arrive as HttpExceptions with Jira's envelope`, async () => {
        const client = basicClient(Client);
        const missing = await rejection(client.userProperties.getUserPropertyKeys());
        assert.equal(missing.status, 400);
        assert.match(missing.errorMessages[0]!, /^accountId is missing/);
        const forbidden = await rejection(
          client.userProperties.getUserPropertyKeys({ accountId: USERS.noah.accountId }),
        );
        assert.equal(forbidden.status, 403);
        assert.match(forbidden.errorMessages[0]!, /only your own/);
        const tooLong = await rejection(
          client.userProperties.setUserProperty({
            accountId: mia.accountId,
            propertyKey: 'k'.repeat(256),
            propertyValue: {},
          }),
        );
        assert.equal(tooLong.status, 400);
        assert.match(tooLong.errorMessages[0]!, /propertyKey is too long/);
        const unauthenticated = await rejection(
          basicClient(Client, { email: mia.email, token: 'wrong-token-000' }).userProperties.getUserPropertyKeys({
            accountId: mia.accountId,
          }),
        );
        assert.equal(unauthenticated.status, 401);
        assert.match(unauthenticated.errorMessages[0]!, /Basic authentication failed/);
        const admin = basicClient(Client, USERS.admin);
        const nobody = await rejection(admin.userProperties.getUserPropertyKeys({ accountId: '712020:nobody' }));
        assert.equal(nobody.status, 404);
        assert.match(nobody.errorMessages[0]!, /No user with accountId 712020:nobody$/);
      });

      test(`${name}: legacy userKey and username select the user`, async () => {
        const client = basicClient(Client, LENA);
        const key = `legacy-v${version}`;
        await client.userProperties.setUserProperty({
          accountId: LENA.accountId,
          propertyKey: key,
          propertyValue: { legacy: true },
        });
        assert.deepEqual(await client.userProperties.getUserProperty({ userKey: LENA.userKey, propertyKey: key }), {
          key,
          value: { legacy: true },
        });
        assert.deepEqual(await client.userProperties.getUserProperty({ username: LENA.username, propertyKey: key }), {
          key,
          value: { legacy: true },
        });
        const keys = await client.userProperties.getUserPropertyKeys({ username: LENA.username });
        assert.ok(keys.keys?.some((k) => k.key === key));
        await client.userProperties.deleteUserProperty({ userKey: LENA.userKey, propertyKey: key });
        assert.equal(
          (await rejection(client.userProperties.getUserProperty({ accountId: LENA.accountId, propertyKey: key })))
            .status,
          404,
        );
      });

      test(`${name}, Connect JWT built by jira.js: the app reaches any user, in the one shared namespace`, async () => {
        const app = new Client({
          host: server.url,
          authentication: { jwt: { issuer: APPS.notes.key, secret: APPS.notes.sharedSecret } },
        });
        const key = `from-app-v${version}`;
        const accountId = USERS.noah.accountId;
        await app.userProperties.setUserProperty({ accountId, propertyKey: key, propertyValue: { by: 'notes' } });
        assert.deepEqual(await app.userProperties.getUserProperty({ accountId, propertyKey: key }), {
          key,
          value: { by: 'notes' },
        });
        const keys = await app.userProperties.getUserPropertyKeys({ accountId });
        assert.ok(keys.keys?.some((k) => k.key === key));
        // The user sees the app's write: Jira properties are not app-isolated.
        assert.deepEqual(
          await basicClient(Client, USERS.noah).userProperties.getUserProperty({ accountId, propertyKey: key }),
          { key, value: { by: 'notes' } },
        );
        await app.userProperties.deleteUserProperty({ accountId, propertyKey: key });

        // The reader app holds only READ: jira.js gets the scope refusal.
        const reader = new Client({
          host: server.url,
          authentication: { jwt: { issuer: APPS.reader.key, secret: APPS.reader.sharedSecret } },
        });
        const refused = await rejection(
          reader.userProperties.setUserProperty({ accountId, propertyKey: key, propertyValue: {} }),
        );
        assert.equal(refused.status, 403);
        assert.match(
          refused.errorMessages[0]!,
          /lacks the scope for this operation: it needs WRITE or write:jira-work or write:user\.property:jira/,
        );
        // A wrong secret is a 401.
        const forged = new Client({
          host: server.url,
          authentication: { jwt: { issuer: APPS.notes.key, secret: APPS.tasks.sharedSecret } },
        });
        assert.equal((await rejection(forged.userProperties.getUserPropertyKeys({ accountId }))).status, 401);
      });

      test(`${name} with the /ex/jira/{cloudId} gateway as its host`, async () => {
        const client = basicClient(Client, mia, `${server.url}/ex/jira/${cloudId}`);
        const key = `gateway-v${version}`;
        const accountId = mia.accountId;
        await client.userProperties.setUserProperty({ accountId, propertyKey: key, propertyValue: { via: 'gateway' } });
        assert.deepEqual(await basicClient(Client).userProperties.getUserProperty({ accountId, propertyKey: key }), {
          key,
          value: { via: 'gateway' },
        });
        assert.ok((await client.userProperties.getUserPropertyKeys({ accountId })).keys?.some((k) => k.key === key));
        await client.userProperties.deleteUserProperty({ accountId, propertyKey: key });
        const wrong = basicClient(Client, mia, `${server.url}/ex/jira/00000000-0000-0000-0000-000000000000`);
        const notFound = await rejection(wrong.userProperties.getUserPropertyKeys({ accountId }));
        assert.equal(notFound.status, 404);
        assert.match(notFound.errorMessages[0]!, /is not this site's cloudId/);
      });
    }
  });
}
