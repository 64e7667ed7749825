/**
 * `--log-requests` (docs/decisions.md, "Operations"): one JSON line per
 * request, naming the route template, the path without its query, the
 * status, the time and the caller, and never a credential.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectJwtToken } from '../helpers/credentials.ts';
import { APPS, basic, USERS } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { type OperationsFixture, startOperationsFixture } from './app.ts';

interface RequestLine {
  msg: string;
  reqId: string;
  method: string;
  route: string;
  path: string;
  status: number;
  responseTime: number;
  principal?: { kind: string; accountId?: string; app?: string };
}

const MIA = USERS.mia.accountId;

for (const kind of STORE_KINDS) {
  describe(`--log-requests on ${kind}`, () => {
    let fx: OperationsFixture;
    const written: string[] = [];
    const requestLines = () =>
      written.map((text) => JSON.parse(text) as RequestLine).filter((line) => line.msg === 'request');
    before(async () => {
      fx = await startOperationsFixture(kind, {
        logRequests: true,
        logLevel: 'info',
        logDestination: { write: (text: string) => void written.push(text) },
      });
    });
    after(() => fx.close());

    test('one line per request: route template, path, status, time, request id and the caller', async () => {
      written.length = 0;
      const path = `/wiki/rest/api/user/${encodeURIComponent(MIA)}/property`;
      const own = await fx.app.inject({ method: 'GET', url: `${path}?limit=5`, headers: basic('mia') });
      assert.equal(own.statusCode, 200, own.body);
      const jiraPath = '/rest/api/3/user/properties';
      const query = `accountId=${encodeURIComponent(MIA)}`;
      const token = connectJwtToken(APPS.notes, 'GET', `${jiraPath}?${query}`);
      const asApp = await fx.app.inject({ method: 'GET', url: `${jiraPath}?${query}&jwt=${token}` });
      assert.equal(asApp.statusCode, 200, asApp.body);
      assert.equal((await fx.app.inject({ method: 'GET', url: '/nothing/here' })).statusCode, 404);

      const lines = requestLines();
      assert.equal(lines.length, 3, written.join(''));
      const [user, app, unknown] = lines as [RequestLine, RequestLine, RequestLine];
      assert.deepEqual(
        { method: user.method, route: user.route, path: user.path, status: user.status, principal: user.principal },
        {
          method: 'GET',
          route: '/wiki/rest/api/user/:userId/property',
          path,
          status: 200,
          principal: { kind: 'user', accountId: MIA },
        },
      );
      assert.equal(typeof user.reqId, 'string');
      assert.ok(user.responseTime >= 0);
      assert.deepEqual(app.principal, { kind: 'app', accountId: APPS.notes.accountId, app: APPS.notes.key });
      assert.equal(app.path, jiraPath);
      assert.deepEqual([unknown.route, unknown.status, unknown.principal], ['(unmatched)', 404, undefined]);
    });

    test('no credential reaches the log: Authorization, the jwt parameter, cookies', async () => {
      written.length = 0;
      const url = `/wiki/rest/api/user/${encodeURIComponent(MIA)}/property`;
      const jwt = connectJwtToken(APPS.notes, 'GET', url);
      const bearerSecret = 'upt_bearer-secret-never-logged';
      const cookieSecret = 'session-cookie-secret-never-logged';
      const requests = [
        { headers: { ...basic('mia'), cookie: `session=${cookieSecret}` } },
        { headers: { authorization: `Bearer ${bearerSecret}` } },
        { headers: {}, query: `?jwt=${jwt}` },
        { headers: { authorization: `JWT ${jwt}` } },
        {
          headers: {
            authorization: `Basic ${Buffer.from(`${USERS.mia.email}:wrong-secret-never-logged`).toString('base64')}`,
          },
        },
      ];
      for (const { headers, query = '' } of requests)
        await fx.app.inject({ method: 'GET', url: `${url}${query}`, headers });
      assert.equal(requestLines().length, requests.length);
      const text = written.join('');
      const basicHeader = basic('mia').authorization!;
      for (const secret of [
        USERS.mia.token,
        basicHeader.slice('Basic '.length),
        bearerSecret,
        cookieSecret,
        jwt,
        jwt.split('.')[2]!,
        'wrong-secret-never-logged',
        Buffer.from(`${USERS.mia.email}:wrong-secret-never-logged`).toString('base64'),
      ]) {
        assert.ok(!text.includes(secret), `the log holds a credential: ${secret}`);
      }
      assert.doesNotMatch(text, /authorization|cookie|jwt=/i);
    });
  });
}
