/**
 * OAuth 2.0 against a live server on a real port, on both stores, with the
 * clients users have: atlassian-oauth2 — the library atlassian-connect-express
 * calls to impersonate a user — asks for an asUser token exactly as it asks
 * Atlassian's authorization server (only its base URL is pointed here, which
 * also makes it the assertion's `aud`); a client_credentials token is asked
 * for with fetch and HTTP Basic. Both tokens are then used with confluence.js
 * and jira.js (`authentication: { oauth2: { accessToken } }`).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpException } from 'jira.js';
import { type RunningServer, startServer } from '../../src/server.ts';
import { ConfluenceClient, oauth2, Version2Client, Version3Client } from '../helpers/clients.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { fixtureSeed, OAUTH_APPS, oauthSeed, SECRET_KEY, USERS } from '../helpers/fixture.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const { oauth } = OAUTH_APPS;
const mia = USERS.mia;

for (const kind of STORE_KINDS) {
  describe(`OAuth 2.0 clients against a live server on ${kind}`, () => {
    let server: RunningServer;
    before(async () => {
      const { site: _site, ...base } = fixtureSeed();
      const file = join(tmpdir(), `userplane-oauth-clients-${process.pid}-${kind}.json`);
      writeFileSync(file, JSON.stringify({ ...base, apps: [...(base.apps ?? []), ...(oauthSeed().apps ?? [])] }));
      server = await startServer({
        port: 0,
        host: '127.0.0.1',
        database: databaseUrl(await freshLocation(kind)),
        seed: file,
        secretKey: SECRET_KEY,
        logLevel: 'silent',
      });
    });
    after(() => server.close());

    /** As atlassian-connect-express asks for a user's token, with the server as the authorization server. */
    const impersonate = (accountId: string, scopes?: string[], sharedSecret: string = oauth.sharedSecret) =>
      oauth2.getAccessToken({
        hostBaseUrl: server.url,
        oauthClientId: oauth.oauthClientId,
        sharedSecret,
        userAccountId: accountId,
        ...(scopes && { scopes }),
        authorizationServerBaseUrl: server.url,
      });

    async function clientCredentials(scope?: string): Promise<{ access_token: string; scope: string }> {
      const response = await fetch(`${server.url}/oauth2/token`, {
        method: 'POST',
        headers: {
          ...basicAuth(oauth.oauthClientId, oauth.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope && { scope }) }),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      return (await response.json()) as { access_token: string; scope: string };
    }

    const confluence = (accessToken: string) =>
      new ConfluenceClient({ host: server.url, authentication: { oauth2: { accessToken } } });
    const jira = (accessToken: string, Client: typeof Version2Client | typeof Version3Client = Version3Client) =>
      new Client({ host: server.url, authentication: { oauth2: { accessToken } } });

    test('atlassian-oauth2 gets an asUser token; scopes as it sends them (upper-cased)', async () => {
      const token = await impersonate(mia.accountId, ['read', 'write']);
      assert.equal(token.token_type, 'Bearer');
      assert.equal(token.expires_in, 3600);
      assert.equal(token.scope, 'READ WRITE');
      assert.match(token.access_token, /^upb_/);
      // With no scopes, the token carries all of the app's.
      assert.equal((await impersonate(mia.accountId)).scope, oauth.scopes.join(' '));
    });

    test('atlassian-oauth2 rejects with the RFC 6749 body: a wrong secret, an unknown user', async () => {
      await assert.rejects(
        impersonate(mia.accountId, ['read'], 'not-the-shared-secret-of-this-app-at-all'),
        (body: unknown) => {
          assert.deepEqual(body, {
            error: 'invalid_grant',
            error_description:
              "The assertion is not valid: the signature does not verify: no app has the OAuth client id its iss names, or that app's shared secret did not sign it",
          });
          return true;
        },
      );
      await assert.rejects(
        impersonate('712020:nobody', ['read']),
        (body: { error?: string }) => body.error === 'invalid_grant',
      );
    });

    test("an asUser token with confluence.js: the user's own properties and record; another user's is 403", async () => {
      const client = confluence((await impersonate(mia.accountId, ['read', 'write'])).access_token);
      await client.userProperties.createUserProperty({
        userId: mia.accountId,
        key: 'oauth-confluence',
        value: { from: 'confluence.js' },
      });
      const property = await client.userProperties.getUserProperty({ userId: mia.accountId, key: 'oauth-confluence' });
      assert.deepEqual(property.value, { from: 'confluence.js' });
      assert.equal((await client.users.getCurrentUser()).accountId, mia.accountId);
      await assert.rejects(
        client.userProperties.getUserProperties({ userId: USERS.noah.accountId }),
        (error: { statusCode?: number; message?: string }) => {
          assert.equal(error.statusCode, 403);
          assert.match(String(error.message), /only your own/);
          return true;
        },
      );
    });

    test("an asUser token with jira.js, v2 and v3: the user's own record; another user's is 403", async () => {
      const accessToken = (await impersonate(mia.accountId, ['read', 'write'])).access_token;
      for (const Client of [Version2Client, Version3Client]) {
        const client = jira(accessToken, Client);
        await client.userProperties.setUserProperty({
          accountId: mia.accountId,
          propertyKey: 'oauth-jira',
          propertyValue: { from: 'jira.js' },
        });
        assert.deepEqual(
          await client.userProperties.getUserProperty({ accountId: mia.accountId, propertyKey: 'oauth-jira' }),
          { key: 'oauth-jira', value: { from: 'jira.js' } },
        );
        await assert.rejects(
          client.userProperties.getUserPropertyKeys({ accountId: USERS.noah.accountId }),
          (error: unknown) => {
            assert.ok(error instanceof HttpException);
            assert.equal(error.status, 403);
            return true;
          },
        );
      }
    });

    test("a client_credentials token with confluence.js and jira.js: any user's data, in the app's namespace", async () => {
      const token = await clientCredentials('READ WRITE');
      assert.equal(token.scope, 'READ WRITE');
      const client = confluence(token.access_token);
      await client.userProperties.createUserProperty({
        userId: USERS.noah.accountId,
        key: 'oauth-app',
        value: { asApp: true },
      });
      assert.deepEqual(
        (await client.userProperties.getUserProperty({ userId: USERS.noah.accountId, key: 'oauth-app' })).value,
        { asApp: true },
      );
      assert.equal((await client.users.getCurrentUser()).accountId, oauth.accountId);
      const jiraClient = jira(token.access_token);
      await jiraClient.userProperties.setUserProperty({
        accountId: USERS.noah.accountId,
        propertyKey: 'oauth-app',
        propertyValue: [1, 2],
      });
      assert.deepEqual(
        await jiraClient.userProperties.getUserProperty({ accountId: USERS.noah.accountId, propertyKey: 'oauth-app' }),
        { key: 'oauth-app', value: [1, 2] },
      );
      // READ WRITE does not include DELETE: Jira's delete needs it.
      await assert.rejects(
        jiraClient.userProperties.deleteUserProperty({ accountId: USERS.noah.accountId, propertyKey: 'oauth-app' }),
        (error: unknown) => {
          assert.ok(error instanceof HttpException);
          assert.equal(error.status, 403);
          return true;
        },
      );
    });
  });
}
