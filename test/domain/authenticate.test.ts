/**
 * Credentials → principal (domain/authenticate.ts, docs/behaviour.md §3), through the
 * real app on both stores: the Connect JWT's lifetime, and the auth caches'
 * sharing of one lookup among concurrent requests with the same credential,
 * counted on the real database with a Kysely plugin (no mock).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type KyselyPlugin, type RootOperationNode, TableNode } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { TestClock } from '../helpers/clock.ts';
import { bearer, connectJwt, nowSeconds } from '../helpers/credentials.ts';
import { APPS, basic, bearerToken, type Fixture, loadOAuthFixture, startFixture } from '../helpers/fixture.ts';
import { assertConfluenceError } from '../helpers/security.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const URL = '/wiki/rest/api/user/current';

/** Counts the SELECTs the app runs on each table. */
function selectCounter(): { plugin: KyselyPlugin; selects(table: string): number; reset(): void } {
  const counts = new Map<string, number>();
  const tableOf = (node: RootOperationNode): string | undefined => {
    if (node.kind !== 'SelectQueryNode') return undefined;
    const from = node.from?.froms[0];
    return from && TableNode.is(from) ? from.table.identifier.name : undefined;
  };
  return {
    plugin: {
      transformQuery({ node }) {
        const table = tableOf(node);
        if (table) counts.set(table, (counts.get(table) ?? 0) + 1);
        return node;
      },
      transformResult: async ({ result }) => result,
    },
    selects: (table) => counts.get(table) ?? 0,
    reset: () => counts.clear(),
  };
}

for (const kind of STORE_KINDS) {
  describe(`authentication on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
      await loadOAuthFixture(fx);
    });
    after(() => fx.close());
    const get = (headers: Record<string, string>) => fx.app.inject({ method: 'GET', url: URL, headers });
    const jwt = (claims: Record<string, unknown>) => connectJwt(APPS.notes, 'GET', URL, claims);

    test('Connect JWTs: iat is required, lives at most an hour before exp, and is not in the future', async () => {
      const now = nowSeconds();
      assert.equal((await get(jwt({}))).statusCode, 200, 'three minutes, as Atlassian clients send');
      assert.equal((await get(jwt({ iat: now - 30, exp: now + 3570 }))).statusCode, 200, 'exactly an hour');
      const rejected = async (claims: Record<string, unknown>, pattern: RegExp) =>
        assertConfluenceError(await get(jwt(claims)), 401, pattern);
      await rejected({ iat: undefined }, /^JWT rejected: the iat claim is missing or invalid$/);
      await rejected({ iat: 'yesterday' }, /^JWT rejected: the iat claim is missing or invalid$/);
      await rejected(
        { iat: now, exp: now + 3601 },
        /^JWT rejected: it lives 3601 s \(exp - iat\): at most 3600 s are allowed$/,
      );
      await rejected({ iat: now, exp: now + 10 * 365 * 86400 }, /^JWT rejected: it lives 315360000 s/);
      // A future iat would otherwise let exp run far ahead within the limit.
      await rejected({ iat: now + 86400, exp: now + 86400 + 60 }, /^JWT rejected: its iat is in the future$/);
      await rejected({ iat: now, exp: now - 10 }, /^JWT rejected: its exp is before its iat$/);
    });

    test('concurrent requests with one uncached credential share one lookup', async () => {
      const counter = selectCounter();
      const clock = new TestClock();
      const app = await buildApp({
        db: fx.store.db.withPlugin(counter.plugin),
        secrets: fx.secrets,
        logLevel: 'silent',
        clock,
      });
      try {
        const token = bearer(await bearerToken(fx, 'oauth'));
        const together = (headers: Record<string, string>) =>
          Promise.all(Array.from({ length: 20 }, () => app.inject({ method: 'GET', url: URL, headers })));
        for (const [headers, table] of [
          [token, 'oauth_tokens'],
          [basic('mia'), 'api_tokens'],
          [connectJwt(APPS.notes, 'GET', URL), 'apps'],
        ] as const) {
          counter.reset();
          const answers = await together(headers);
          assert.deepEqual(
            answers.map((a) => a.statusCode),
            Array(20).fill(200),
          );
          assert.equal(counter.selects(table), 1, `${table}: one lookup for twenty requests`);
          // After the cache's lifetime, one more.
          clock.pastCacheLifetime();
          await together(headers);
          assert.equal(counter.selects(table), 2, `${table}: one lookup once the cache expired`);
        }
      } finally {
        await app.close();
      }
    });
  });
}
