/**
 * The security suite's reach (docs/behaviour.md §3), read from the
 * app's own route table: every protected route is walked by a part of
 * test/security/, the routes declared public are exactly the always-public
 * ones, each table's operations are served under every prefix, and every
 * protected route, HEAD included, refuses anonymous callers and bad
 * credentials.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { envelopeFor } from '../../src/http/errors.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { cloudIdOf, type Fixture, startFixture, USERS } from '../helpers/fixture.ts';
import { assertConfluenceError, assertJiraError, isPublicRoute } from '../helpers/security.ts';
import { type Method, OPERATION_TABLES, routeTable } from '../helpers/security-routes.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const served = await routeTable();
const MIA = USERS.mia.accountId;
const describeRoute = ({ method, url }: { method: string; url: string }) => `${method} ${url}`;

test('every protected route is walked: admin routes by admin.test.ts, product routes by a table', () => {
  assert.ok(served.some(({ access }) => access.kind === 'admin'));
  const unwalked = served
    .filter(({ access }) => {
      if (access.kind !== 'product') return access.kind !== 'public' && access.kind !== 'admin';
      return !OPERATION_TABLES.some(({ table }) => access.operation in table);
    })
    .map(describeRoute);
  assert.deepEqual(unwalked, [], 'give each operation a row in a table of test/helpers/security-routes.ts');
});

test('the routes declared public are exactly the always-public ones (docs/behaviour.md §3)', () => {
  assert.ok(served.some(({ access }) => access.kind === 'public'));
  const mismatched = served
    .filter(({ method, url, access }) => (access.kind === 'public') !== isPublicRoute({ method, pattern: url }))
    .map((route) => `${describeRoute(route)} declares ${route.access.kind}`);
  assert.deepEqual(mismatched, []);
});

for (const { name, table, prefixes } of OPERATION_TABLES) {
  test(`${name}: every operation is served under each of its prefixes`, () => {
    for (const [operation, row] of Object.entries(table)) {
      const patterns = served
        .filter(
          ({ method, access }) => method !== 'HEAD' && access.kind === 'product' && access.operation === operation,
        )
        .map(({ url }) => url);
      assert.deepEqual(patterns.sort(), prefixes.map((prefix) => `${prefix}${row!.path}`).sort(), operation);
    }
  });
}

for (const kind of STORE_KINDS) {
  describe(`every protected route on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
    });
    after(() => fx.close());

    test('every protected route, HEAD included, is 401 for anonymous callers and bad credentials', async () => {
      const cloudId = await cloudIdOf(fx);
      for (const route of fx.app.routeAccess.filter(({ access }) => access.kind !== 'public')) {
        const url = route.url
          .replace(':cloudId', cloudId)
          .replace(':userId', MIA)
          .replace(/:[A-Za-z0-9_]+/g, 'x');
        const method = route.method as Method | 'HEAD';
        const credentials: Array<Record<string, string>> = [
          {},
          basicAuth('mia@example.com', 'not-the-token'),
          { authorization: 'JWT not-a-token' },
          { authorization: 'Bearer not-a-token' },
        ];
        for (const headers of credentials) {
          const response = await fx.app.inject({ method, url, headers });
          assert.equal(response.statusCode, 401, `${method} ${url} with ${JSON.stringify(headers)}: ${response.body}`);
          const assertError = envelopeFor(url) === 'jira' ? assertJiraError : assertConfluenceError;
          const anonymous = url.startsWith('/admin/api/')
            ? /the administration API is for site admins/
            : /does not allow anonymous access/;
          if (method !== 'HEAD') assertError(response, 401, headers.authorization ? /./ : anonymous);
        }
      }
    });
  });
}
