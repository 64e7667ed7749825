/**
 * The security suite (docs/behaviour.md §3, §6) for Jira user properties, on both
 * stores: every route of theirs the app serves (test/helpers/security-routes.ts),
 * both versions, directly and under the gateway. Jira has one namespace per
 * user shared by every caller, so where Confluence's suite checks app
 * isolation this one checks that every permitted caller sees the same data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OPERATION_SCOPES } from '../../src/domain/scopes.ts';
import { basicAuth, connectJwt, connectJwtToken, nowSeconds as now, queryStringHash } from '../helpers/credentials.ts';
import {
  APPS,
  type AppName,
  basic,
  cloudIdOf,
  type Fixture,
  startFixture,
  UNTHROTTLED,
  USERS,
} from '../helpers/fixture.ts';
import { assertJiraError, qshTarget, type Reply } from '../helpers/security.ts';
import { isGateway, JIRA_OPERATIONS, type JiraRow, type Row, routeTable, rowsOf } from '../helpers/security-routes.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

type JiraRouteRow = Row<JiraRow>;

const JIRA_ROUTES = rowsOf(await routeTable(), JIRA_OPERATIONS);

const MIA = USERS.mia.accountId;
const json = { 'content-type': 'application/json' };

for (const kind of STORE_KINDS) {
  describe(`security of Jira user properties on ${kind}`, () => {
    let fx: Fixture;
    let open: Fixture;
    let cloudId: string;
    before(async () => {
      // Every test writes fresh keys for mia; the property limit is not what is tested here.
      [fx, open] = await Promise.all([
        startFixture(kind, { ...UNTHROTTLED, maxPropertiesPerUser: 100000 }),
        startFixture(kind, { ...UNTHROTTLED, anonymousAccess: true }),
      ]);
      cloudId = await cloudIdOf(fx);
    });
    after(() => Promise.all([fx, open].map((f) => f.close())));

    let counter = 0;
    const freshKey = (tag: string) => `${tag}-${++counter}`;

    const jiraUrl = (row: JiraRouteRow, key: string, accountId: string = MIA) =>
      `${row.pattern.replace(':cloudId', cloudId).replace(':propertyKey', encodeURIComponent(key))}?accountId=${accountId}`;
    const call = (row: JiraRouteRow, url: string, headers: Record<string, string>, on: Fixture = fx) =>
      on.app.inject({
        method: row.method,
        url,
        headers: row.body === undefined ? headers : { ...json, ...headers },
        payload: row.body,
      });
    const jwtAs = (app: AppName, row: JiraRouteRow, url: string, claims: Record<string, unknown> = {}) =>
      connectJwt(APPS[app], row.method, qshTarget(url), claims);

    /** A key in the state the row needs, written by `writer` (Jira's namespace is the same for every writer). */
    async function prepare(
      row: JiraRouteRow,
      writer: AppName | 'user' = 'user',
      accountId: string = MIA,
    ): Promise<string> {
      const key = freshKey('jira-sec');
      if (row.needs !== 'existing') return key;
      const url = `/rest/api/3/user/properties/${key}?accountId=${accountId}`;
      const user = (Object.keys(USERS) as Array<keyof typeof USERS>).find(
        (name) => USERS[name].accountId === accountId,
      )!;
      const headers = writer === 'user' ? basic(user) : connectJwt(APPS[writer], 'PUT', url);
      const response = await fx.app.inject({
        method: 'PUT',
        url,
        headers: { ...json, ...headers },
        payload: '{"prepared":true}',
      });
      assert.equal(response.statusCode, 201, response.body);
      return key;
    }

    function assertOk(row: JiraRouteRow, response: Reply, caller: string, who: string): void {
      assert.equal(response.statusCode, row.ok, `${who}: ${response.body}`);
      assert.equal(response.headers['x-aaccountid'], caller, `${who}: X-AAccountId`);
    }

    /** 401 about the credential, never the anonymous refusal, and no X-AAccountId: nobody was authenticated. */
    function assertJiraCredentialRejected(response: Reply, pattern: RegExp): void {
      const body = assertJiraError(response, 401, pattern);
      assert.doesNotMatch(body.errorMessages[0], /anonymous/i, 'a bad credential was treated as no credential');
      assert.equal(response.headers['x-aaccountid'], undefined);
    }

    for (const row of JIRA_ROUTES) {
      describe(`${row.method} ${row.pattern}`, () => {
        const scopes = OPERATION_SCOPES[row.operation];

        test('401: no credentials, bad Basic credentials, a deactivated user, two credentials, unknown schemes', async () => {
          const key = await prepare(row);
          const url = jiraUrl(row, key);
          const anonymous = await call(row, url, {});
          assertJiraError(anonymous, 401, /Authentication required: this site does not allow anonymous access/);
          assert.equal(anonymous.headers['x-aaccountid'], undefined);
          assertJiraCredentialRejected(
            await call(row, url, basicAuth(USERS.mia.email, 'wrong-token-000')),
            /the email or API token is not valid/,
          );
          assertJiraCredentialRejected(
            await call(row, url, basicAuth(USERS.noah.email, USERS.mia.token)),
            /the email or API token is not valid/,
          );
          assertJiraCredentialRejected(
            await call(row, url, { authorization: 'Basic' }),
            /expected base64\(email:apiToken\)/,
          );
          assertJiraCredentialRejected(
            await call(row, jiraUrl(row, key, USERS.gone.accountId), basic('gone')),
            /the account is deactivated/,
          );
          assertJiraCredentialRejected(
            await call(row, `${url}&jwt=${connectJwtToken(APPS.notes, row.method, qshTarget(url))}`, basic('mia')),
            /Send one credential/,
          );
          assertJiraCredentialRejected(
            await call(row, url, { authorization: 'Digest x' }),
            /Unsupported Authorization scheme "digest"/,
          );
          assertJiraCredentialRejected(
            await call(row, url, { authorization: 'Bearer anything' }),
            /Bearer token rejected/,
          );
        });

        test('401: Connect JWTs that are expired, for another request, forged or malformed', async () => {
          const key = await prepare(row);
          const url = jiraUrl(row, key);
          const rejected = async (headers: Record<string, string>, pattern: RegExp, target = url) =>
            assertJiraCredentialRejected(await call(row, target, headers), pattern);
          await rejected(jwtAs('notes', row, url, { iat: now() - 300, exp: now() - 60 }), /the token has expired/);
          await rejected(
            {},
            /the token has expired/,
            `${url}&jwt=${connectJwtToken(APPS.notes, row.method, qshTarget(url), { iat: now() - 300, exp: now() - 90 })}`,
          );
          // The user is in the query: a token for another user's record does not fit this one.
          await rejected(
            jwtAs('notes', row, jiraUrl(row, key, USERS.noah.accountId)),
            /the qsh claim does not match this request/,
          );
          await rejected(
            jwtAs('notes', row, url, {
              qsh: queryStringHash(row.method === 'GET' ? 'DELETE' : 'GET', qshTarget(url)),
            }),
            /the qsh claim does not match/,
          );
          await rejected(
            connectJwt(APPS.notes, row.method, qshTarget(url), {}, APPS.tasks.sharedSecret),
            /the signature does not verify/,
          );
          await rejected(jwtAs('notes', row, url, { iss: 'com.example.unknown' }), /no app is installed/);
          await rejected(jwtAs('notes', row, url, { aud: 'someone-else' }), /aud does not name this installation/);
          await rejected({ authorization: 'JWT garbage' }, /the token is malformed/);
          if (isGateway(row.pattern)) {
            // The qsh covers the path without the gateway prefix; one over the full path names another request.
            await rejected(connectJwt(APPS.notes, row.method, url), /the qsh claim does not match this request/);
          }
        });

        test("Connect JWTs are accepted in the header and as the jwt parameter, and the caller is the app's bot", async () => {
          for (const [label, make] of [
            ['a fresh JWT', (url: string) => ({ headers: jwtAs('notes', row, url), target: url })],
            [
              'iss = clientKey',
              (url: string) => ({ headers: jwtAs('notes', row, url, { iss: APPS.notes.clientKey }), target: url }),
            ],
            [
              'the jwt parameter',
              (url: string) => ({
                headers: {},
                target: `${url}&jwt=${connectJwtToken(APPS.notes, row.method, qshTarget(url))}`,
              }),
            ],
          ] as Array<[string, (url: string) => { headers: Record<string, string>; target: string }]>) {
            const key = await prepare(row);
            const { headers, target } = make(jiraUrl(row, key));
            assertOk(row, await call(row, target, headers), APPS.notes.accountId, label);
          }
        });

        test("403: another user's record, an unknown user for non-admins, and users outside can-use; the caller is named", async () => {
          const key = await prepare(row);
          const onlyOwn = /You may not access the properties of user 712020:mia: only your own/;
          const noah = await call(row, jiraUrl(row, key), basic('noah'));
          assertJiraError(noah, 403, onlyOwn);
          assert.equal(noah.headers['x-aaccountid'], USERS.noah.accountId);
          // Not 404: a non-admin learns nothing about which accounts exist (docs/behaviour.md §3).
          assertJiraError(
            await call(row, jiraUrl(row, key, '712020:nobody'), basic('noah')),
            403,
            /properties of user 712020:nobody: only your own/,
          );
          const outsider = await call(row, jiraUrl(row, key, USERS.outsider.accountId), basic('outsider'));
          assertJiraError(
            outsider,
            403,
            /User 712020:outsider may not use this site: not a member of confluence-users or confluence-admins/,
          );
          assert.equal(outsider.headers['x-aaccountid'], USERS.outsider.accountId);
          // Admins reach any user's record.
          assertOk(row, await call(row, jiraUrl(row, key), basic('admin')), USERS.admin.accountId, 'an admin');
        });

        test('one namespace: what one app writes, another app, the user and an admin reach', async () => {
          for (const [who, headers, caller] of [
            ['the tasks app', (url: string) => jwtAs('tasks', row, url), APPS.tasks.accountId],
            ['mia', () => basic('mia'), MIA],
            ['an admin', () => basic('admin'), USERS.admin.accountId],
          ] as Array<[string, (url: string) => Record<string, string>, string]>) {
            if (row.operation === 'jira.deleteUserProperty' && who === 'the tasks app') continue; // needs DELETE, which tasks lacks
            // The list needs nothing, but is only telling with the app's key in it.
            const key = await prepare(row.needs === 'nothing' ? { ...row, needs: 'existing' } : row, 'notes');
            const url = jiraUrl(row, key);
            const response = await call(row, url, headers(url));
            assertOk(row, response, caller, who);
            if (row.operation === 'jira.getUserProperty')
              assert.deepEqual(response.json(), { key, value: { prepared: true } }, who);
            if (row.operation === 'jira.getUserPropertyKeys')
              assert.ok(
                response.json().keys.some((k: { key: string }) => k.key === key),
                who,
              );
          }
        });

        test(`scopes: ${scopes.connect}, or ${scopes.oauth.join(' or ')}`, async () => {
          // Connect's nesting: DELETE ⊃ WRITE ⊃ READ. reader holds READ, tasks WRITE, notes DELETE.
          const rank = { READ: 1, WRITE: 2, DELETE: 3, ADMIN: 4, ACCESS_EMAIL_ADDRESSES: 0 }[scopes.connect];
          for (const [app, held] of [
            ['reader', 1],
            ['tasks', 2],
            ['notes', 3],
          ] as Array<[AppName, number]>) {
            const key = await prepare(row);
            const url = jiraUrl(row, key);
            const response = await call(row, url, jwtAs(app, row, url));
            if (held >= rank) {
              assertOk(row, response, APPS[app].accountId, app);
            } else {
              const body = assertJiraError(
                response,
                403,
                new RegExp(
                  `App ${APPS[app].key.replace(/\./g, '\\.')} lacks the scope for this operation: it needs ${scopes.connect}`,
                ),
              );
              for (const scope of scopes.oauth)
                assert.ok(body.errorMessages[0].includes(scope), `the message names ${scope}`);
              assert.equal(response.headers['x-aaccountid'], APPS[app].accountId);
            }
          }
        });

        test('on a site open to anonymous callers, Jira properties still need credentials', async () => {
          const openCloudId = await cloudIdOf(open);
          const url = `${row.pattern.replace(':cloudId', openCloudId).replace(':propertyKey', 'anon')}?accountId=${MIA}`;
          assertJiraError(await call(row, url, {}, open), 401, /anonymous callers may only read users and groups/);
          assertJiraCredentialRejected(
            await call(row, url, basicAuth('mia@example.com', 'wrong-token-000'), open),
            /email or API token is not valid/,
          );
          assertJiraCredentialRejected(await call(row, url, basic('gone'), open), /deactivated/);
        });

        if (isGateway(row.pattern)) {
          test('a wrong cloudId is a 404, before credentials', async () => {
            const key = await prepare(row);
            const url = jiraUrl(row, key).replace(cloudId, '00000000-0000-0000-0000-000000000000');
            for (const headers of [{}, basic('mia'), { authorization: 'Digest x' }]) {
              assertJiraError(await call(row, url, headers), 404, /is not this site's cloudId/);
            }
          });
        }
      });
    }
  });
}
