/**
 * A SQLite database that cannot take a write right now (here: full, as a
 * full disk makes it, by capping its pages with `max_page_count` on the
 * app's own connection) answers 503 with `Retry-After: 1` in the path's
 * envelope, never a 500 (docs/operations.md); reads go on, and once it may
 * grow again, the same write succeeds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { basic, USERS } from '../helpers/fixture.ts';
import { assertConfluenceError, assertJiraError } from '../helpers/security.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { type OperationsFixture, startOperationsFixture } from './app.ts';

const MIA = encodeURIComponent(USERS.mia.accountId);
const CONFLUENCE = `/wiki/rest/api/user/${MIA}/property/big`;
const JIRA = `/rest/api/3/user/properties/big?accountId=${MIA}`;
/** Several pages of compact JSON: it cannot fit in the free space of pages already there. */
const BIG = { text: 'x'.repeat(30_000) };
const UNAVAILABLE = /^The database is not answering: retry the request shortly$/;

if (STORE_KINDS.includes('sqlite')) {
  describe('SQLite that cannot grow, in every envelope', () => {
    let fx: OperationsFixture;
    const pages = async () =>
      (await sql<{ page_count: number }>`pragma page_count`.execute(fx.store.db)).rows[0]!.page_count;
    before(async () => {
      fx = await startOperationsFixture('sqlite', {});
    });
    after(() => fx.close());

    test('a write that needs a new page: 503 with Retry-After: 1; reads still served; later the write succeeds', async () => {
      // Migrations that rebuild tables leave free pages, which a write would fill before the file has to grow.
      await sql`vacuum`.execute(fx.store.db);
      await sql.raw(`pragma max_page_count = ${await pages()}`).execute(fx.store.db);

      const confluence = await fx.app.inject({
        method: 'POST',
        url: CONFLUENCE,
        headers: basic('mia'),
        payload: { value: BIG },
      });
      assertConfluenceError(confluence, 503, UNAVAILABLE);
      assert.equal(confluence.headers['retry-after'], '1');

      const jira = await fx.app.inject({ method: 'PUT', url: JIRA, headers: basic('mia'), payload: BIG });
      assertJiraError(jira, 503, UNAVAILABLE);
      assert.equal(jira.headers['retry-after'], '1');
      for (const response of [confluence, jira]) assert.doesNotMatch(response.body, /SQLITE|disk|full/i);

      const read = await fx.app.inject({ method: 'GET', url: '/wiki/rest/api/user/current', headers: basic('mia') });
      assert.equal(read.statusCode, 200, read.body);
      assert.equal((await fx.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);

      await sql.raw('pragma max_page_count = 1073741823').execute(fx.store.db);
      const retried = await fx.app.inject({
        method: 'POST',
        url: CONFLUENCE,
        headers: basic('mia'),
        payload: { value: BIG },
      });
      assert.equal(retried.statusCode, 201, retried.body);
      const jiraRetried = await fx.app.inject({ method: 'PUT', url: JIRA, headers: basic('mia'), payload: BIG });
      assert.equal(jiraRetried.statusCode, 201, jiraRetried.body);
    });
  });
}
