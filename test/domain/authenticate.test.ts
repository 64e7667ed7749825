/**
 * Credentials → principal (domain/authenticate.ts, docs/behaviour.md §3), through the
 * real app on both stores: the Connect JWT's lifetime, and the auth caches'
 * sharing of one lookup among concurrent requests with the same credential,
 * counted on the real database with a Kysely plugin (no mock).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type KyselyPlugin, type RootOperationNode, TableNode } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { JWT_NOT_VERIFIED } from '../../src/domain/authenticate.ts';
import { TestClock } from '../helpers/clock.ts';
import { bearer, connectJwt, connectJwtToken, nowSeconds } from '../helpers/credentials.ts';
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

    test('Connect JWTs: only the very signature the shared secret makes verifies, and the claims are checked as jose checks them', async () => {
      const readerJwt = (claims: Record<string, unknown>) => connectJwt(APPS.reader, 'GET', URL, claims);
      const token = connectJwtToken(APPS.reader, 'GET', URL);
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const send = (value: string) => get({ authorization: `JWT ${value}` });
      assert.equal((await send(token)).statusCode, 200);
      const notVerified = new RegExp(`^${JWT_NOT_VERIFIED.replace(/[()]/g, '\\$&')}$`);
      // The same bytes spelled otherwise, padded or with a stray character that a lenient decoder skips. (The
      // failures stay under the site's limit per identity: another app than the test above.)
      for (const spelling of [`${signature}=`, `${signature}!`])
        await assertConfluenceError(await send(`${header}.${payload}.${spelling}`), 401, notVerified);
      await assertConfluenceError(await send(`${header}.${payload}`), 401, /^JWT rejected: the token is malformed$/);
      // Signed with the app's secret, but naming a critical header extension nobody understands.
      const signed = (head: object, claims: object) => {
        const text = `${Buffer.from(JSON.stringify(head)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
        return `${text}.${createHmac('sha256', APPS.reader.sharedSecret).update(text).digest('base64url')}`;
      };
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      assert.equal((await send(signed({ alg: 'HS256', typ: 'JWT' }, claims))).statusCode, 200, 'signed here alike');
      await assertConfluenceError(
        await send(signed({ alg: 'HS256', typ: 'JWT', crit: ['exp'] }, claims)),
        401,
        /^JWT rejected: the token is malformed$/,
      );
      const now = nowSeconds();
      const rejected = async (more: Record<string, unknown>, pattern: RegExp) =>
        assertConfluenceError(await get(readerJwt(more)), 401, pattern);
      await rejected({ nbf: now + 120 }, /^JWT rejected: the nbf claim is missing or invalid$/);
      assert.equal((await get(readerJwt({ nbf: now + 20 }))).statusCode, 200, 'within the clock tolerance');
      await rejected({ exp: 'soon' }, /^JWT rejected: the exp claim is missing or invalid$/);
      await rejected({ qsh: undefined }, /^JWT rejected: the qsh claim is missing or invalid$/);
      await rejected({ iat: now - 300, exp: now - 60 }, /^JWT rejected: the token has expired$/);
      assert.equal(
        (await get(readerJwt({ iat: now - 200, exp: now - 20 }))).statusCode,
        200,
        'expired within the tolerance',
      );
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
