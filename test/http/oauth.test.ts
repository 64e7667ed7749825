/**
 * `POST /oauth2/token` and the bearer tokens it issues (docs/behaviour.md §3), on both
 * stores: both grants from form and JSON bodies and HTTP Basic, every RFC 6749
 * error code and status, scopes, expiry and revocation, and the tokens used
 * on both products as asApp and asUser.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeSymmetric } from 'atlassian-jwt';
import { BODY_LIMIT_BYTES } from '../../src/http/json-body.ts';
import { adminCaller } from '../helpers/admin.ts';
import { base64, basicAuth, bearer } from '../helpers/credentials.ts';
import {
  APPS,
  BASE_URL,
  basic,
  bearerToken,
  cloudIdOf,
  type Fixture,
  impersonationAssertion,
  loadOAuthFixture,
  loadWatchFixture,
  OAUTH_APPS,
  type OAuthAppName,
  startFixture,
  USERS,
} from '../helpers/fixture.ts';
import {
  assertConfluenceError,
  assertJiraError,
  assertOAuthError,
  type Reply,
  unsignedJwt,
} from '../helpers/security.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const AUTH_SERVER = 'https://oauth-2-authorization-server.services.atlassian.com';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
const MIA = USERS.mia.accountId;
const NOAH = USERS.noah.accountId;
const ADMIN = USERS.admin.accountId;
const now = () => Math.floor(Date.now() / 1000);
const { oauth, noImpersonation } = OAUTH_APPS;
const credentials = (app: OAuthAppName) => ({
  client_id: OAUTH_APPS[app].oauthClientId,
  client_secret: OAUTH_APPS[app].clientSecret,
});
const BASIC_CHALLENGE = 'Basic realm="userplane", charset="UTF-8"';

for (const kind of STORE_KINDS) {
  describe(`POST /oauth2/token and bearer tokens on ${kind}`, () => {
    let fx: Fixture;
    let cloudId: string;
    before(async () => {
      fx = await startFixture(kind, { maxPropertiesPerUser: 10000 });
      await loadOAuthFixture(fx);
      await loadWatchFixture(fx);
      cloudId = await cloudIdOf(fx);
    });
    after(() => fx.close());
    const admin = adminCaller(() => fx);

    const form = (params: Record<string, string>, headers: Record<string, string> = {}) =>
      fx.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { ...FORM, ...headers },
        payload: new URLSearchParams(params).toString(),
      });
    const jsonBody = (body: unknown, headers: Record<string, string> = {}) =>
      fx.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { ...JSON_TYPE, ...headers },
        payload: JSON.stringify(body),
      });
    const impersonate = (assertion: string, extra: Record<string, string> = {}) =>
      form({ grant_type: JWT_BEARER, assertion, ...extra });

    /** RFC 6749's error body, and `Cache-Control: no-store` on it too. */
    function assertTokenError(
      response: Reply,
      status: number,
      error: string,
      pattern: RegExp,
      challenge = false,
    ): void {
      assertOAuthError(response, status, error, pattern);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.equal(response.headers['www-authenticate'], challenge ? BASIC_CHALLENGE : undefined, 'WWW-Authenticate');
    }

    /** A 200 token answer: exact shape, no caching, and the token only ever stored as a digest. */
    async function assertIssued(response: Reply, scope: string, expiresIn = 3600): Promise<string> {
      assert.equal(response.statusCode, 200, response.body);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.equal(response.headers.pragma, 'no-cache');
      const body = response.json();
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
      assert.match(body.access_token, /^upb_[A-Za-z0-9_-]{43}$/);
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.expires_in, expiresIn);
      assert.equal(body.scope, scope);
      const rows = await fx.store.db.selectFrom('oauth_tokens').selectAll().execute();
      assert.ok(
        rows.every((row) => !JSON.stringify(row).includes(body.access_token)),
        'a token is stored in plain text',
      );
      assert.equal(rows.filter((row) => row.digest === fx.secrets.digest(body.access_token)).length, 1);
      return body.access_token;
    }

    const allScopes = (app: OAuthAppName) => OAUTH_APPS[app].scopes.join(' ');
    const propertyUrl = (accountId: string, key: string) => `/wiki/rest/api/user/${accountId}/property/${key}`;
    const jiraUrl = (accountId: string, key: string) => `/rest/api/3/user/properties/${key}?accountId=${accountId}`;
    const createProperty = (
      headers: Record<string, string>,
      accountId: string,
      key: string,
      value: object = { by: 'bearer' },
    ) =>
      fx.app.inject({
        method: 'POST',
        url: propertyUrl(accountId, key),
        headers: { ...JSON_TYPE, ...headers },
        payload: JSON.stringify({ value }),
      });
    const putJira = (headers: Record<string, string>, accountId: string, key: string) =>
      fx.app.inject({
        method: 'PUT',
        url: jiraUrl(accountId, key),
        headers: { ...JSON_TYPE, ...headers },
        payload: '{"by":"bearer"}',
      });
    const get = (url: string, headers: Record<string, string>) => fx.app.inject({ method: 'GET', url, headers });
    const expire = (token: string) =>
      fx.store.db
        .updateTable('oauth_tokens')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('digest', '=', fx.secrets.digest(token))
        .execute();

    describe('client_credentials', () => {
      test('client_id and client_secret in a form body → an asApp token with every scope of the app', async () => {
        await assertIssued(
          await form({ grant_type: 'client_credentials', ...credentials('oauth') }),
          allScopes('oauth'),
        );
      });

      test('the same as JSON, and with HTTP Basic (form-encoded values decoded, RFC 6749 §2.3.1)', async () => {
        await assertIssued(
          await jsonBody({ grant_type: 'client_credentials', ...credentials('noImpersonation') }),
          'READ',
        );
        await assertIssued(
          await form(
            { grant_type: 'client_credentials' },
            basicAuth(noImpersonation.oauthClientId, noImpersonation.clientSecret),
          ),
          'READ',
        );
        await assertIssued(
          await jsonBody(
            { grant_type: 'client_credentials' },
            basicAuth(noImpersonation.oauthClientId, noImpersonation.clientSecret),
          ),
          'READ',
        );

        // A client id with a colon and a secret with reserved characters must be form-encoded inside Basic.
        const created = await admin('POST', '/apps', {
          key: 'com.example.colon',
          name: 'Colon',
          clientKey: 'colon-client',
          sharedSecret: 'colon-shared-secret-of-at-least-32-characters',
          oauthClientId: 'acme:tools',
          clientSecret: 's3cret+/= %',
          scopes: ['READ'],
        });
        assert.equal(created.statusCode, 201, created.body);
        const encoded = `${encodeURIComponent('acme:tools')}:${encodeURIComponent('s3cret+/= %')}`;
        await assertIssued(
          await form({ grant_type: 'client_credentials' }, { authorization: `Basic ${base64(encoded)}` }),
          'READ',
        );
        await assertIssued(
          await form({ grant_type: 'client_credentials', client_id: 'acme:tools', client_secret: 's3cret+/= %' }),
          'READ',
        );
      });

      test('scope narrows the token to what the app holds; Connect names nest; case does not matter', async () => {
        await assertIssued(
          await form({
            grant_type: 'client_credentials',
            ...credentials('oauth'),
            scope: 'READ read:user.property:confluence',
          }),
          'READ read:user.property:confluence',
        );
        // atlassian-oauth2 (atlassian-connect-express) upper-cases every scope: the token carries the app's spelling.
        await assertIssued(
          await form({
            grant_type: 'client_credentials',
            ...credentials('oauth'),
            scope: 'WRITE:USER.PROPERTY:CONFLUENCE',
          }),
          'write:user.property:confluence',
        );
        // Requested scopes the app lacks are left out; WRITE covers READ but not the other way round.
        await assertIssued(
          await form({
            grant_type: 'client_credentials',
            ...credentials('noImpersonation'),
            scope: 'read WRITE read:user.property:confluence',
          }),
          'READ',
        );
        // Repeated and extra white space.
        await assertIssued(
          await jsonBody({ grant_type: 'client_credentials', ...credentials('oauth'), scope: '  DELETE\tDELETE  ' }),
          'DELETE',
        );
        await assertIssued(
          await jsonBody({ grant_type: 'client_credentials', ...credentials('oauth'), scope: 'read' }),
          'READ',
        );
      });

      test('invalid_scope: unknown scopes, or none the app holds', async () => {
        assertTokenError(
          await form({ grant_type: 'client_credentials', ...credentials('oauth'), scope: 'READ frobnicate' }),
          400,
          'invalid_scope',
          /^Unknown scope: frobnicate$/,
        );
        assertTokenError(
          await form({ grant_type: 'client_credentials', ...credentials('oauth'), scope: 'x y' }),
          400,
          'invalid_scope',
          /^Unknown scopes: x, y$/,
        );
        assertTokenError(
          await form({
            grant_type: 'client_credentials',
            ...credentials('noImpersonation'),
            scope: 'WRITE write:jira-work',
          }),
          400,
          'invalid_scope',
          /The app holds none of the requested scopes \(WRITE write:jira-work\); it holds READ/,
        );
      });

      test('invalid_request: missing client_id or client_secret, both Basic and body credentials', async () => {
        assertTokenError(
          await form({ grant_type: 'client_credentials' }),
          400,
          'invalid_request',
          /client_id is missing/,
        );
        assertTokenError(
          await form({ grant_type: 'client_credentials', client_id: oauth.oauthClientId }),
          400,
          'invalid_request',
          /^client_secret is missing$/,
        );
        assertTokenError(
          await form({ grant_type: 'client_credentials', client_id: oauth.oauthClientId, client_secret: '' }),
          400,
          'invalid_request',
          /^client_secret is missing$/,
        );
        const both = await form(
          { grant_type: 'client_credentials', ...credentials('oauth') },
          basicAuth(oauth.oauthClientId, oauth.clientSecret),
        );
        assertTokenError(both, 400, 'invalid_request', /as HTTP Basic or as client_id and client_secret, not both/);
        const half = await form(
          { grant_type: 'client_credentials', client_id: oauth.oauthClientId },
          basicAuth(oauth.oauthClientId, oauth.clientSecret),
        );
        assertTokenError(half, 400, 'invalid_request', /not both/);
      });

      test("invalid_client 401: a wrong secret, another app's secret, an unknown client, an app without a client secret", async () => {
        const failed = /^Client authentication failed: the client_id or client_secret is not valid$/;
        for (const params of [
          { client_id: oauth.oauthClientId, client_secret: 'not-the-secret' },
          { client_id: oauth.oauthClientId, client_secret: noImpersonation.clientSecret },
          { client_id: 'no-such-client', client_secret: oauth.clientSecret },
          { client_id: oauth.oauthClientId.toUpperCase(), client_secret: oauth.clientSecret },
        ]) {
          assertTokenError(await form({ grant_type: 'client_credentials', ...params }), 401, 'invalid_client', failed);
          assertTokenError(
            await jsonBody({ grant_type: 'client_credentials', ...params }),
            401,
            'invalid_client',
            failed,
          );
          // With HTTP Basic, the answer names the scheme (RFC 6749 §5.2).
          const viaBasic = await form(
            { grant_type: 'client_credentials' },
            basicAuth(params.client_id, params.client_secret),
          );
          assertTokenError(viaBasic, 401, 'invalid_client', failed, true);
        }
        // The Connect-only fixture apps have no OAuth client at all.
        assertTokenError(
          await form({
            grant_type: 'client_credentials',
            client_id: APPS.notes.clientKey,
            client_secret: APPS.notes.sharedSecret,
          }),
          401,
          'invalid_client',
          failed,
        );
        // An app whose client secret was removed can no longer use client_credentials.
        const created = await admin('POST', '/apps', {
          key: 'com.example.secretless',
          name: 'Secretless',
          clientKey: 'secretless-client',
          sharedSecret: 'secretless-shared-secret-of-at-least-32-chars',
          oauthClientId: 'secretless-id',
          clientSecret: 'secretless-secret',
        });
        assert.equal(created.statusCode, 201, created.body);
        await assertIssued(
          await form({
            grant_type: 'client_credentials',
            client_id: 'secretless-id',
            client_secret: 'secretless-secret',
          }),
          'READ',
        );
        assert.equal((await admin('PATCH', '/apps/com.example.secretless', { clientSecret: null })).statusCode, 200);
        assertTokenError(
          await form({
            grant_type: 'client_credentials',
            client_id: 'secretless-id',
            client_secret: 'secretless-secret',
          }),
          401,
          'invalid_client',
          failed,
        );
      });

      test('invalid_client 401 with WWW-Authenticate: malformed Basic, other Authorization schemes', async () => {
        assertTokenError(
          await form({ grant_type: 'client_credentials' }, { authorization: `Basic ${base64('no-colon')}` }),
          401,
          'invalid_client',
          /must be base64\(client_id:client_secret\)/,
          true,
        );
        assertTokenError(
          await form({ grant_type: 'client_credentials' }, { authorization: 'Basic' }),
          401,
          'invalid_client',
          /must be base64\(client_id:client_secret\)/,
          true,
        );
        for (const scheme of ['Bearer upb_x', 'JWT a.b.c', 'Digest x']) {
          assertTokenError(
            await form({ grant_type: 'client_credentials', ...credentials('oauth') }, { authorization: scheme }),
            401,
            'invalid_client',
            /the Authorization scheme "\w+" is not supported here/,
            true,
          );
        }
      });
    });

    describe('the JWT-bearer grant (Connect user impersonation)', () => {
      test('an assertion as atlassian-connect-express builds it → an asUser token, from a form or a JSON body', async () => {
        await assertIssued(await impersonate(impersonationAssertion('oauth', MIA)), allScopes('oauth'));
        await assertIssued(
          await jsonBody({
            grant_type: JWT_BEARER,
            assertion: impersonationAssertion('oauth', MIA),
            scope: 'READ WRITE',
          }),
          'READ WRITE',
        );
      });

      test('accepted: tnt with /wiki or a trailing slash, aud = the site or a list holding it, 120 s of life, client authentication of the same app', async () => {
        for (const claims of [
          { tnt: `${BASE_URL}/wiki` },
          { tnt: `${BASE_URL}/` },
          { tnt: `${BASE_URL}/wiki/` },
          { aud: BASE_URL },
          { aud: `${BASE_URL}/` },
          { aud: ['someone-else', BASE_URL] },
          { aud: [AUTH_SERVER] },
          { iat: now(), exp: now() + 120 },
          // Within the 30 s leeway of clock skew.
          { iat: now() - 80, exp: now() - 10 },
        ]) {
          await assertIssued(await impersonate(impersonationAssertion('oauth', MIA, claims)), allScopes('oauth'));
        }
        await assertIssued(
          await impersonate(impersonationAssertion('oauth', MIA), credentials('oauth')),
          allScopes('oauth'),
        );
        await assertIssued(
          await form(
            { grant_type: JWT_BEARER, assertion: impersonationAssertion('oauth', MIA) },
            basicAuth(oauth.oauthClientId, oauth.clientSecret),
          ),
          allScopes('oauth'),
        );
      });

      test('invalid_grant: expired, over-long, tampered, wrong tenant, wrong audience, and a secret of the wrong app', async () => {
        const rejected = async (assertion: string, pattern: RegExp) =>
          assertTokenError(await impersonate(assertion), 400, 'invalid_grant', pattern);
        await rejected(
          impersonationAssertion('oauth', MIA, { iat: now() - 200, exp: now() - 100 }),
          /^The assertion is not valid: the token has expired$/,
        );
        await rejected(
          impersonationAssertion('oauth', MIA, { iat: now(), exp: now() + 121 }),
          /^The assertion lives 121 s \(exp - iat\): at most 120 s are allowed$/,
        );
        await rejected(impersonationAssertion('oauth', MIA, { iat: now() - 3600, exp: now() + 60 }), /lives 3660 s/);
        await rejected(
          impersonationAssertion('oauth', MIA, { iat: now() + 600, exp: now() + 660 }),
          /iat is in the future/,
        );
        await rejected(
          impersonationAssertion('oauth', MIA, { iat: now() + 10, exp: now() + 10 }),
          /exp must be after its iat/,
        );
        // Signed with another app's shared secret while naming this one, or naming no app at
        // all: one and the same answer, so it never tells which client ids exist (docs/behaviour.md §3).
        const notVerified =
          /^The assertion is not valid: the signature does not verify: no app has the OAuth client id its iss names, or that app's shared secret did not sign it$/;
        await rejected(impersonationAssertion('oauth', MIA, {}, noImpersonation.sharedSecret), notVerified);
        await rejected(
          impersonationAssertion('oauth', MIA, { iss: 'urn:atlassian:connect:clientid:nobody' }),
          notVerified,
        );
        await rejected(
          impersonationAssertion('oauth', MIA, { iss: 'urn:atlassian:connect:clientid:nobody', iat: now() - 900 }),
          notVerified,
        );
        // A tampered payload (another user) no longer matches its signature.
        const [head, payload, signature] = impersonationAssertion('oauth', MIA).split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
        const forged = Buffer.from(
          JSON.stringify({ ...claims, sub: `urn:atlassian:connect:useraccountid:${ADMIN}` }),
        ).toString('base64url');
        await rejected(`${head}.${forged}.${signature}`, /the signature does not verify/);
        // Another tenant.
        await rejected(
          impersonationAssertion('oauth', MIA, { tnt: 'https://other.atlassian.net' }),
          /The assertion's tnt "https:\/\/other\.atlassian\.net" is not this site: use http:\/\/userplane\.test/,
        );
        await rejected(impersonationAssertion('oauth', MIA, { tnt: `${BASE_URL}/jira` }), /is not this site/);
        await rejected(impersonationAssertion('oauth', MIA, { tnt: 42 }), /The assertion's tnt 42 is not this site/);
        await rejected(
          impersonationAssertion('oauth', MIA, { aud: 'https://auth.atlassian.io' }),
          /aud must name this site \(http:\/\/userplane\.test\), this server \(.*\) or https:\/\/oauth-2-authorization-server/,
        );
        await rejected(impersonationAssertion('oauth', MIA, { aud: [] }), /aud must name this site/);
        // Missing claims.
        for (const claim of ['iat', 'exp', 'sub', 'tnt', 'aud']) {
          await rejected(
            impersonationAssertion('oauth', MIA, { [claim]: undefined }),
            new RegExp(`^The assertion is not valid: the ${claim} claim is missing or invalid$`),
          );
        }
      });

      test('a tnt or aud of a long run of slashes is answered promptly (the trailing-slash trim is linear)', {
        timeout: 30_000,
      }, async () => {
        // A backtracking /\/+$/ takes minutes on 300,000 slashes followed by anything else.
        const slashes = `${BASE_URL}${'/'.repeat(300_000)}x`;
        assertTokenError(
          await impersonate(impersonationAssertion('oauth', MIA, { tnt: slashes })),
          400,
          'invalid_grant',
          /^The assertion's tnt ".*" is not this site/s,
        );
        assertTokenError(
          await impersonate(impersonationAssertion('oauth', MIA, { aud: slashes })),
          400,
          'invalid_grant',
          /aud must name this site/,
        );
        // Trailing slashes are still ignored.
        await assertIssued(
          await impersonate(impersonationAssertion('oauth', MIA, { tnt: `${BASE_URL}${'/'.repeat(1000)}` })),
          allScopes('oauth'),
        );
      });

      test('invalid_grant: not a JWT, not HS256, iss and sub that name nothing', async () => {
        const rejected = async (assertion: string, pattern: RegExp) =>
          assertTokenError(await impersonate(assertion), 400, 'invalid_grant', pattern);
        await rejected('garbage', /^The assertion is not a JWT$/);
        await rejected('a.b.c', /^The assertion is not a JWT$/);
        const claims = JSON.parse(
          Buffer.from(impersonationAssertion('oauth', MIA).split('.')[1]!, 'base64url').toString(),
        );
        await rejected(unsignedJwt(claims), /must be signed with HS256/);
        await rejected(encodeSymmetric(claims, oauth.sharedSecret, 'HS512' as never), /must be signed with HS256/);
        await rejected(
          impersonationAssertion('oauth', MIA, { iss: oauth.oauthClientId }),
          /iss must be urn:atlassian:connect:clientid:<oauthClientId>/,
        );
        await rejected(
          impersonationAssertion('oauth', MIA, { iss: 'urn:atlassian:connect:clientid:' }),
          /iss must be urn:atlassian:connect:clientid:/,
        );
        await rejected(impersonationAssertion('oauth', MIA, { iss: undefined }), /iss must be/);
        await rejected(
          impersonationAssertion('oauth', MIA, { sub: MIA }),
          /sub must be urn:atlassian:connect:useraccountid:<accountId>/,
        );
        // The legacy userkey form atlassian-oauth2 can still send names no account here.
        await rejected(
          impersonationAssertion('oauth', MIA, { sub: 'urn:atlassian:connect:userkey:mia' }),
          /sub must be urn:atlassian:connect:useraccountid:/,
        );
        await rejected(impersonationAssertion('oauth', '712020:nobody'), /no user has accountId 712020:nobody/);
        await rejected(impersonationAssertion('oauth', USERS.gone.accountId), /^User 712020:gone is deactivated$/);
        await rejected(
          impersonationAssertion('oauth', APPS.notes.accountId),
          /is an app's bot user, which cannot be impersonated/,
        );
      });

      test('invalid_grant: the app must hold ACT_AS_USER', async () => {
        assertTokenError(
          await impersonate(impersonationAssertion('noImpersonation', MIA)),
          400,
          'invalid_grant',
          /^App com\.example\.no-impersonation does not hold the ACT_AS_USER scope, which user impersonation needs$/,
        );
        // It may still act as itself.
        await assertIssued(await form({ grant_type: 'client_credentials', ...credentials('noImpersonation') }), 'READ');
      });

      test('client authentication beside the assertion must hold and name the same app', async () => {
        assertTokenError(
          await impersonate(impersonationAssertion('oauth', MIA), {
            client_id: oauth.oauthClientId,
            client_secret: 'wrong',
          }),
          401,
          'invalid_client',
          /Client authentication failed/,
        );
        assertTokenError(
          await impersonate(impersonationAssertion('oauth', MIA), { client_id: oauth.oauthClientId }),
          400,
          'invalid_request',
          /client_secret is missing/,
        );
        assertTokenError(
          await impersonate(impersonationAssertion('oauth', MIA), credentials('noImpersonation')),
          400,
          'invalid_grant',
          /iss names another client than the one that authenticated/,
        );
      });

      test('invalid_request: no assertion; invalid_scope applies as for client_credentials', async () => {
        assertTokenError(await form({ grant_type: JWT_BEARER }), 400, 'invalid_request', /^assertion is missing/);
        assertTokenError(
          await impersonate(impersonationAssertion('oauth', MIA), { scope: 'nope' }),
          400,
          'invalid_scope',
          /Unknown scope: nope/,
        );
        await assertIssued(await impersonate(impersonationAssertion('oauth', MIA), { scope: 'read' }), 'READ');
      });
    });

    describe('the request itself', () => {
      test('invalid_request: no body, no grant_type, a repeated or non-string parameter, unreadable bodies', async () => {
        const empty = await fx.app.inject({ method: 'POST', url: '/oauth2/token' });
        assertTokenError(empty, 400, 'invalid_request', /The request body is empty: send grant_type/);
        assertTokenError(
          await fx.app.inject({ method: 'POST', url: '/oauth2/token', headers: JSON_TYPE, payload: '' }),
          400,
          'invalid_request',
          /The request body is empty/,
        );
        assertTokenError(
          await form({}),
          400,
          'invalid_request',
          /^grant_type is missing: use client_credentials or urn:ietf:params:oauth:grant-type:jwt-bearer$/,
        );
        assertTokenError(await form({ grant_type: '' }), 400, 'invalid_request', /grant_type is missing/);
        assertTokenError(await jsonBody({ client_id: 'x' }), 400, 'invalid_request', /grant_type is missing/);
        const repeated = await fx.app.inject({
          method: 'POST',
          url: '/oauth2/token',
          headers: FORM,
          payload: `grant_type=client_credentials&client_id=a&client_id=${oauth.oauthClientId}&client_secret=${oauth.clientSecret}`,
        });
        assertTokenError(repeated, 400, 'invalid_request', /^Parameter client_id is repeated: send it once$/);
        const twiceGrant = await fx.app.inject({
          method: 'POST',
          url: '/oauth2/token',
          headers: FORM,
          payload: 'grant_type=client_credentials&grant_type=client_credentials',
        });
        assertTokenError(twiceGrant, 400, 'invalid_request', /Parameter grant_type is repeated/);
        assertTokenError(
          await jsonBody({ grant_type: 'client_credentials', scope: ['READ', 'WRITE'] }),
          400,
          'invalid_request',
          /Parameter scope is repeated/,
        );
        assertTokenError(
          await jsonBody({ grant_type: 'client_credentials', client_id: 7 }),
          400,
          'invalid_request',
          /^Parameter client_id must be a string$/,
        );
        assertTokenError(await jsonBody(['grant_type']), 400, 'invalid_request', /must be a JSON object of parameters/);
        assertTokenError(await jsonBody('client_credentials'), 400, 'invalid_request', /must be a JSON object/);
        assertTokenError(
          await fx.app.inject({ method: 'POST', url: '/oauth2/token', headers: JSON_TYPE, payload: '{"grant_type":' }),
          400,
          'invalid_request',
          /not valid JSON/,
        );
        assertTokenError(
          await fx.app.inject({
            method: 'POST',
            url: '/oauth2/token',
            headers: { 'content-type': 'text/plain' },
            payload: 'grant_type=client_credentials',
          }),
          400,
          'invalid_request',
          /^Content-Type "text\/plain" is not supported: send application\/x-www-form-urlencoded or application\/json$/,
        );
        assertTokenError(
          await form({ grant_type: 'client_credentials', client_id: 'a\0b', client_secret: 'x' }),
          400,
          'invalid_request',
          /client_id contains a NUL character/,
        );
        // Unknown parameters are ignored (RFC 6749 §3.2), whatever their form.
        await assertIssued(
          await jsonBody({
            grant_type: 'client_credentials',
            ...credentials('noImpersonation'),
            extra: [1, 2],
            audience: null,
          }),
          'READ',
        );
      });

      test('unsupported_grant_type for anything else', async () => {
        for (const grant of ['password', 'authorization_code', 'refresh_token', 'CLIENT_CREDENTIALS']) {
          assertTokenError(
            await form({ grant_type: grant, ...credentials('oauth') }),
            400,
            'unsupported_grant_type',
            new RegExp(
              `^grant_type "${grant}" is not supported: use client_credentials or urn:ietf:params:oauth:grant-type:jwt-bearer$`,
            ),
          );
        }
      });

      test('405 for other methods, 404 for other paths, 413 for bodies over 1 MiB: RFC 6749 bodies', async () => {
        const wrong = await fx.app.inject({ method: 'GET', url: '/oauth2/token' });
        assertOAuthError(wrong, 405, 'invalid_request', /Method GET is not allowed on \/oauth2\/token; use POST/);
        assert.equal(wrong.headers.allow, 'POST');
        assertOAuthError(
          await fx.app.inject({ method: 'POST', url: '/oauth2/authorize' }),
          404,
          'invalid_request',
          /No resource at POST \/oauth2\/authorize/,
        );
        const huge = await fx.app.inject({
          method: 'POST',
          url: '/oauth2/token',
          headers: FORM,
          payload: `grant_type=client_credentials&pad=${'x'.repeat(BODY_LIMIT_BYTES)}`,
        });
        assertOAuthError(huge, 413, 'invalid_request', /larger than the 1 MiB limit/);
      });

      test('form bodies stay a 400 everywhere else', async () => {
        const response = await fx.app.inject({
          method: 'POST',
          url: propertyUrl(MIA, 'form'),
          headers: { ...FORM, ...basic('mia') },
          payload: 'value=1',
        });
        assertConfluenceError(
          response,
          400,
          /Content-Type "application\/x-www-form-urlencoded" is not supported: send application\/json/,
        );
      });

      test('the token lifetime is the site setting oauthTokenLifetimeSeconds', async () => {
        assert.equal((await admin('PATCH', '/site', { oauthTokenLifetimeSeconds: 600 })).statusCode, 200);
        fx.clock.pastCacheLifetime();
        try {
          const before = Date.now();
          const token = await assertIssued(
            await form({ grant_type: 'client_credentials', ...credentials('noImpersonation') }),
            'READ',
            600,
          );
          const row = await fx.store.db
            .selectFrom('oauth_tokens')
            .select('expires_at')
            .where('digest', '=', fx.secrets.digest(token))
            .executeTakeFirstOrThrow();
          const expires = Date.parse(row.expires_at);
          assert.ok(expires >= before + 600_000 && expires <= Date.now() + 600_000, row.expires_at);
          for (const bad of [59, 86_401, 1.5]) {
            assertConfluenceError(
              await admin('PATCH', '/site', { oauthTokenLifetimeSeconds: bad }),
              400,
              /oauthTokenLifetimeSeconds/,
            );
          }
        } finally {
          assert.equal((await admin('PATCH', '/site', { oauthTokenLifetimeSeconds: 3600 })).statusCode, 200);
          fx.clock.pastCacheLifetime();
        }
        // The seed file sets it too.
        const seeded = await startFixture(kind, { oauthTokenLifetimeSeconds: 120 });
        try {
          await loadOAuthFixture(seeded);
          const response = await seeded.app.inject({
            method: 'POST',
            url: '/oauth2/token',
            headers: FORM,
            payload: new URLSearchParams({ grant_type: 'client_credentials', ...credentials('oauth') }).toString(),
          });
          assert.equal(response.json().expires_in, 120, response.body);
        } finally {
          await seeded.close();
        }
      });

      test('expired tokens are told apart for a day, then dropped when tokens are issued', async () => {
        const recent = await bearerToken(fx, 'oauth');
        const old = await bearerToken(fx, 'oauth');
        await expire(recent);
        await fx.store.db
          .updateTable('oauth_tokens')
          .set({ expires_at: new Date(Date.now() - 25 * 3600 * 1000).toISOString() })
          .where('digest', '=', fx.secrets.digest(old))
          .execute();
        await bearerToken(fx, 'noImpersonation');
        const left = async (token: string) =>
          (
            await fx.store.db
              .selectFrom('oauth_tokens')
              .select('id')
              .where('digest', '=', fx.secrets.digest(token))
              .execute()
          ).length;
        assert.equal(await left(recent), 1);
        assert.equal(await left(old), 0);
        assertConfluenceError(
          await get(`/wiki/rest/api/user/${MIA}/property`, bearer(recent)),
          401,
          /^Bearer token rejected: it has expired$/,
        );
        assertConfluenceError(
          await get(`/wiki/rest/api/user/${MIA}/property`, bearer(old)),
          401,
          /^Bearer token rejected: it is not valid or has expired$/,
        );
      });
    });

    describe('an asApp token (client_credentials) on both products', () => {
      test("Confluence: the app's own namespace, any user's properties; the caller is the app's bot", async () => {
        const token = bearer(await bearerToken(fx, 'oauth'));
        assert.equal((await createProperty(token, MIA, 'as-app')).statusCode, 201);
        assert.equal((await createProperty(token, ADMIN, 'as-app')).statusCode, 201);
        const read = await get(propertyUrl(MIA, 'as-app'), token);
        assert.equal(read.statusCode, 200, read.body);
        assert.deepEqual(read.json().value, { by: 'bearer' });
        // The same namespace as the app's Connect JWTs would use; not the user's own ("").
        assertConfluenceError(await get(propertyUrl(MIA, 'as-app'), basic('mia')), 404, /does not exist/);
        const row = await fx.store.db
          .selectFrom('properties')
          .select('namespace')
          .where('key', '=', 'as-app')
          .where('account_id', '=', MIA)
          .executeTakeFirstOrThrow();
        assert.equal(row.namespace, oauth.key);
        // Under the OAuth gateway, where OAuth clients call.
        const viaGateway = await get(`/ex/confluence/${cloudId}/wiki/rest/api/user/${MIA}/property/as-app`, token);
        assert.equal(viaGateway.statusCode, 200, viaGateway.body);
        const current = await get('/wiki/rest/api/user/current', token);
        assert.equal(current.json().accountId, oauth.accountId);
      });

      test("Jira: any user's properties, X-AAccountId is the bot", async () => {
        const token = bearer(await bearerToken(fx, 'oauth'));
        const put = await putJira(token, NOAH, 'as-app');
        assert.equal(put.statusCode, 201, put.body);
        assert.equal(put.headers['x-aaccountid'], oauth.accountId);
        const read = await get(jiraUrl(NOAH, 'as-app'), token);
        assert.deepEqual(read.json(), { key: 'as-app', value: { by: 'bearer' } });
        const viaGateway = await get(`/ex/jira/${cloudId}/rest/api/2/user/properties/as-app?accountId=${NOAH}`, token);
        assert.equal(viaGateway.statusCode, 200, viaGateway.body);
      });

      test("the email API answers an approved app's asApp token; /user/bulk refuses every app", async () => {
        const token = bearer(await bearerToken(fx, 'oauth'));
        const email = await get(`/wiki/rest/api/user/email?accountId=${MIA}`, token);
        assert.equal(email.statusCode, 200, email.body);
        assert.equal(email.json().email, USERS.mia.email);
        assertConfluenceError(
          await get(`/wiki/rest/api/user/bulk?accountId=${MIA}`, token),
          403,
          /Apps cannot use GET \/user\/bulk/,
        );
      });

      test('scopes: only those granted at issue count, and the message names what would have sufficed', async () => {
        const reading = bearer(await bearerToken(fx, 'oauth', { scope: 'read:user.property:confluence' }));
        assert.equal((await get(`/wiki/rest/api/user/${MIA}/property`, reading)).statusCode, 200);
        const refused = await createProperty(reading, MIA, 'narrow');
        assertConfluenceError(
          refused,
          403,
          /^App com\.example\.oauth lacks the scope for this operation: it needs WRITE or write:user\.property:confluence \(this bearer token carries read:user\.property:confluence\)$/,
        );
        assertJiraError(
          await get(jiraUrl(MIA, 'x'), reading),
          403,
          /it needs READ or read:jira-user or read:user\.property:jira/,
        );
      });
    });

    describe('an asUser token (JWT-bearer) on both products', () => {
      test("Confluence: the user's own properties in the app's namespace; never another user's, an admin's included", async () => {
        const asMia = bearer(await bearerToken(fx, 'oauth', { asUser: MIA }));
        assert.equal((await createProperty(asMia, MIA, 'as-user')).statusCode, 201);
        // The app's namespace: the app acting as itself sees it, mia without an app does not.
        const asApp = bearer(await bearerToken(fx, 'oauth'));
        assert.equal((await get(propertyUrl(MIA, 'as-user'), asApp)).statusCode, 200);
        assertConfluenceError(await get(propertyUrl(MIA, 'as-user'), basic('mia')), 404, /does not exist/);
        const onlyOwn = /You may not access the properties of user 712020:(noah|admin): only your own/;
        assertConfluenceError(await createProperty(asMia, NOAH, 'as-user'), 403, onlyOwn);
        assertConfluenceError(await get(`/wiki/rest/api/user/${ADMIN}/property`, asMia), 403, onlyOwn);
        // Impersonating an admin does not make the app an admin (docs/behaviour.md §3).
        const asAdmin = bearer(await bearerToken(fx, 'oauth', { asUser: ADMIN }));
        assertConfluenceError(
          await createProperty(asAdmin, NOAH, 'as-user'),
          403,
          /properties of user 712020:noah: only your own/,
        );
        assert.equal((await createProperty(asAdmin, ADMIN, 'as-user')).statusCode, 201);
        const current = await get('/wiki/rest/api/user/current', asMia);
        assert.equal(current.json().accountId, MIA);
      });

      test("Jira: the user's own record only; X-AAccountId is the user", async () => {
        const asMia = bearer(await bearerToken(fx, 'oauth', { asUser: MIA }));
        const own = await putJira(asMia, MIA, 'as-user');
        assert.equal(own.statusCode, 201, own.body);
        assert.equal(own.headers['x-aaccountid'], MIA);
        assert.deepEqual((await get(jiraUrl(MIA, 'as-user'), asMia)).json(), {
          key: 'as-user',
          value: { by: 'bearer' },
        });
        const other = await putJira(asMia, NOAH, 'as-user');
        assertJiraError(other, 403, /You may not access the properties of user 712020:noah: only your own/);
        assert.equal(other.headers['x-aaccountid'], MIA);
        const asAdmin = bearer(await bearerToken(fx, 'oauth', { asUser: ADMIN }));
        assertJiraError(await get(jiraUrl(NOAH, 'as-user'), asAdmin), 403, /only your own/);
      });

      test('the impersonated user must be allowed to use the site; the email API refuses asUser with 400', async () => {
        const asOutsider = bearer(await bearerToken(fx, 'oauth', { asUser: USERS.outsider.accountId }));
        assertConfluenceError(
          await get('/wiki/rest/api/user/current', asOutsider),
          403,
          /User 712020:outsider may not use this site/,
        );
        assertJiraError(await get(jiraUrl(USERS.outsider.accountId, 'x'), asOutsider), 403, /may not use this site/);
        const asMia = bearer(await bearerToken(fx, 'oauth', { asUser: MIA }));
        assertConfluenceError(await get(`/wiki/rest/api/user/email?accountId=${MIA}`, asMia), 400, /./);
        assertConfluenceError(
          await get(`/wiki/rest/api/user/bulk?accountId=${MIA}`, asMia),
          403,
          /Apps cannot use GET \/user\/bulk/,
        );
      });
    });

    describe('watches through bearer tokens', () => {
      const XSRF = { 'x-atlassian-token': 'no-check' };
      const watchUrl = (what: string, target: string, query = '') =>
        `/wiki/rest/api/user/watch/${what}/${target}${query}`;
      const send = (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string>) =>
        fx.app.inject({ method, url, headers: method === 'GET' ? headers : { ...XSRF, ...headers } });
      const watching = async (url: string, headers: Record<string, string>) => {
        const response = await send('GET', url, headers);
        assert.equal(response.statusCode, 200, response.body);
        return response.json().watching as boolean;
      };

      test('asUser watches for that user: their own watches; naming another user needs them to be an admin', async () => {
        const asMia = bearer(await bearerToken(fx, 'oauth', { asUser: MIA }));
        const content = watchUrl('content', '1001');
        assert.equal((await send('POST', content, asMia)).statusCode, 204);
        assert.equal(await watching(content, asMia), true);
        assert.equal(await watching(content, basic('mia')), true, "the watch is mia's own");
        assert.equal(await watching(`${content}?accountId=${MIA}`, asMia), true);
        assertConfluenceError(await send('POST', watchUrl('label', 'release', `?accountId=${NOAH}`), asMia), 403, /./);
        assertConfluenceError(await send('GET', watchUrl('label', 'release', `?accountId=${NOAH}`), asMia), 403, /./);
        assert.equal((await send('DELETE', content, asMia)).statusCode, 204);
        assert.equal(await watching(content, basic('mia')), false);

        // An impersonated admin may name another user, as the admin could.
        const asAdmin = bearer(await bearerToken(fx, 'oauth', { asUser: ADMIN }));
        assert.equal((await send('POST', watchUrl('label', 'release', `?accountId=${NOAH}`), asAdmin)).statusCode, 204);
        assert.equal(await watching(watchUrl('label', 'release'), basic('noah')), true);
        assert.equal(
          (await send('DELETE', watchUrl('label', 'release', `?accountId=${NOAH}`), asAdmin)).statusCode,
          204,
        );
      });

      test('asApp counts as admin: it may name any user; XSRF and scopes still apply', async () => {
        const asApp = bearer(await bearerToken(fx, 'oauth'));
        const label = watchUrl('label', 'onboarding', `?accountId=${NOAH}`);
        assert.equal((await send('POST', label, asApp)).statusCode, 204);
        assert.equal(await watching(label, asApp), true);
        assert.equal(await watching(watchUrl('label', 'onboarding'), basic('noah')), true);
        // Without the XSRF header: 403.
        assertConfluenceError(
          await fx.app.inject({ method: 'DELETE', url: label, headers: asApp }),
          403,
          /X-Atlassian-Token/,
        );
        assert.equal((await send('DELETE', label, asApp)).statusCode, 204);
        // A token without a write scope may read watches, not change them.
        const reading = bearer(await bearerToken(fx, 'oauth', { scope: 'read:watcher:confluence' }));
        assert.equal(await watching(label, reading), false);
        assertConfluenceError(
          await send('POST', label, reading),
          403,
          /lacks the scope for this operation: it needs WRITE or write:confluence-content or write:watcher:confluence \(this bearer token carries read:watcher:confluence\)/,
        );
      });
    });

    describe('rejected tokens: 401 in the envelope of the path', () => {
      const rejectedEverywhere = async (headers: Record<string, string>, pattern: RegExp) => {
        assertConfluenceError(await get(`/wiki/rest/api/user/${MIA}/property`, headers), 401, pattern);
        assertJiraError(await get(jiraUrl(MIA, 'x'), headers), 401, pattern);
        assertConfluenceError(await get('/admin/api/site', headers), 401, pattern);
      };

      test('expired tokens, of both grants', async () => {
        for (const options of [{}, { asUser: MIA }]) {
          const token = await bearerToken(fx, 'oauth', options);
          await expire(token);
          await rejectedEverywhere(bearer(token), /^Bearer token rejected: it has expired$/);
        }
      });

      test('tampered, unknown and malformed tokens', async () => {
        const token = await bearerToken(fx, 'oauth');
        const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
        for (const value of [tampered, `upb_${'A'.repeat(43)}`, token.slice(4), `${token}x`, 'garbage', '']) {
          await rejectedEverywhere(bearer(value), /^Bearer token rejected: it is not valid or has expired$/);
        }
        // A Bearer token and a jwt parameter at once.
        const url = `/wiki/rest/api/user/${MIA}/property`;
        assertConfluenceError(await get(`${url}?jwt=x`, bearer(token)), 401, /Send one credential/);
      });

      test('revoked: the user deactivated or deleted, the app deleted or stripped of ACT_AS_USER; a used token ends within a second', async () => {
        const created = await admin('POST', '/users', {
          email: 'temp@example.com',
          displayName: 'Temp',
          groups: ['confluence-users'],
        });
        assert.equal(created.statusCode, 201, created.body);
        const temp = created.json().accountId as string;
        const asTemp = bearer(await bearerToken(fx, 'oauth', { asUser: temp }));
        const asApp = bearer(await bearerToken(fx, 'oauth'));
        // Used once, so its outcome is cached: revocation must still end it within a second (docs/behaviour.md §7).
        assert.equal((await get('/wiki/rest/api/user/current', asTemp)).statusCode, 200);
        assert.equal((await admin('PATCH', `/users/${temp}`, { active: false })).statusCode, 200);
        fx.clock.pastCacheLifetime();
        await rejectedEverywhere(asTemp, new RegExp(`^Bearer token rejected: user ${temp} is deactivated$`));
        // The app acting as itself is unaffected.
        assert.equal((await get('/wiki/rest/api/user/current', asApp)).statusCode, 200);
        // Reactivated: the same token works again until it expires (deactivation keeps data).
        assert.equal((await admin('PATCH', `/users/${temp}`, { active: true })).statusCode, 200);
        fx.clock.pastCacheLifetime();
        assert.equal((await get('/wiki/rest/api/user/current', asTemp)).statusCode, 200);
        assert.equal((await admin('DELETE', `/users/${temp}`)).statusCode, 204);
        fx.clock.pastCacheLifetime();
        await rejectedEverywhere(asTemp, /^Bearer token rejected: it is not valid or has expired$/);
        const stored = await fx.store.db
          .selectFrom('oauth_tokens')
          .select('id')
          .where('account_id', '=', temp)
          .execute();
        assert.deepEqual(stored, [], "the deleted user's tokens are gone");
      });

      test('revoked: deleting the app ends its tokens and removes them; losing a scope narrows them', async () => {
        const app = {
          key: 'com.example.doomed',
          name: 'Doomed',
          clientKey: 'doomed-client',
          sharedSecret: 'doomed-shared-secret-of-at-least-32-chars',
          oauthClientId: 'doomed-id',
          clientSecret: 'doomed-secret',
          scopes: ['WRITE', 'ACT_AS_USER'],
        };
        assert.equal((await admin('POST', '/apps', app)).statusCode, 201);
        const tokenOf = async (params: Record<string, string>) => (await form(params)).json().access_token as string;
        const asApp = bearer(
          await tokenOf({
            grant_type: 'client_credentials',
            client_id: app.oauthClientId,
            client_secret: app.clientSecret,
          }),
        );
        const assertion = impersonationAssertion(app, MIA);
        const asMia = bearer(await tokenOf({ grant_type: JWT_BEARER, assertion }));
        assert.equal((await createProperty(asApp, MIA, 'doomed-1')).statusCode, 201);
        assert.equal((await createProperty(asMia, MIA, 'doomed-2')).statusCode, 201);

        // Without ACT_AS_USER, the asUser token ends; without WRITE, writes are refused.
        assert.equal((await admin('PATCH', `/apps/${app.key}`, { scopes: ['READ'] })).statusCode, 200);
        fx.clock.pastCacheLifetime();
        await rejectedEverywhere(
          asMia,
          /^Bearer token rejected: app com\.example\.doomed no longer holds the ACT_AS_USER scope$/,
        );
        assert.equal((await get(propertyUrl(MIA, 'doomed-1'), asApp)).statusCode, 200);
        assertConfluenceError(
          await createProperty(asApp, MIA, 'doomed-3'),
          403,
          /lacks the scope for this operation: it needs WRITE/,
        );

        assert.equal((await admin('DELETE', `/apps/${app.key}`)).statusCode, 204);
        fx.clock.pastCacheLifetime();
        await rejectedEverywhere(asApp, /^Bearer token rejected: it is not valid or has expired$/);
        const stored = await fx.store.db
          .selectFrom('oauth_tokens')
          .select('id')
          .where('app_key', '=', app.key)
          .execute();
        assert.deepEqual(stored, [], "the deleted app's tokens are gone");
      });
    });
  });
}
