/**
 * A site per test (docs/behaviour.md §10, §11; docs/testing.md): a suite of
 * 100 tests, all running at once against one in-process server started with
 * `startUserplane`, each on a site of its own made from the same seed. Every
 * test writes the same property key with a value only it knows, and a key
 * named after itself, then lists and reads back: it sees exactly its own
 * two keys and its own value, never another test's, and removes its site.
 * Same seed means same emails, tokens and account ids on every site, so only
 * the site a request names keeps the tests apart. The tests wait for one
 * another between writing and reading back, so all 100 sites hold their data
 * at the same moment while each reads: the tests overlap by construction, not
 * by luck of scheduling.
 *
 * On each store of STORE_KINDS: the in-memory SQLite a test suite gets by
 * default, and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SeedFile } from '../../src/schemas/seed.ts';
import { type SiteHandle, startUserplane, type Userplane } from '../../src/testing.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { SECRET_KEY, UNTHROTTLED } from '../helpers/fixture.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const TESTS = 100;
/** Tries of one property call while the server answers 503. */
const BUSY_ATTEMPTS = 30;
const MIA = '712020:mia';
const AUTH = basicAuth('mia@example.com', 'mia-token');
const SEED: SeedFile = {
  site: UNTHROTTLED,
  users: [
    {
      accountId: MIA,
      email: 'mia@example.com',
      displayName: 'Mia Krystof',
      groups: ['confluence-users'],
      apiTokens: ['mia-token'],
    },
  ],
};

/**
 * One property call, as a client that honours a 503's Retry-After: a hundred
 * site creations at once can keep PostgreSQL's ten connections busy for
 * longer than a request waits for one on a loaded machine, and a 503 changed nothing.
 */
async function json(site: SiteHandle, method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  for (let attempt = 1; ; attempt++) {
    response = await fetch(`${site.baseUrl}/wiki/rest/api/user/${encodeURIComponent(MIA)}/property${path}`, {
      method,
      headers: { ...AUTH, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (response.status !== 503 || attempt === BUSY_ATTEMPTS) break;
    await response.arrayBuffer();
    await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
  }
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path} on ${site.name}: ${response.status} ${text}`);
  return JSON.parse(text);
}

for (const kind of STORE_KINDS) {
  describe(`${TESTS} tests, a site each, at once on one server (${kind})`, { concurrency: TESTS }, () => {
    let up: Userplane;
    // Every test arrives here once, having written or failed; reading starts when all have.
    let arrived = 0;
    let allArrived: () => void;
    const everyoneWrote = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    const arrive = () => {
      arrived += 1;
      if (arrived === TESTS) allArrived();
    };
    before(async () => {
      up =
        kind === 'sqlite'
          ? await startUserplane()
          : await startUserplane({ database: databaseUrl(await freshLocation(kind)), secretKey: SECRET_KEY });
    });
    after(() => up?.close());

    for (let i = 0; i < TESTS; i++) {
      test(`test ${i} sees only its own site's data`, async () => {
        const mine = { test: i, nonce: `${i}-${Math.random()}` };
        const site = await up.createSite({ seed: SEED }).catch((error: unknown) => {
          arrive();
          throw error;
        });
        try {
          try {
            await json(site, 'POST', '/theme', { value: mine });
            await json(site, 'POST', `/test-${i}`, { value: { test: i } });
          } finally {
            arrive();
          }
          await everyoneWrote;

          const list = (await json(site, 'GET', '')) as { results: { key: string }[] };
          assert.deepEqual(list.results.map((p) => p.key).sort(), [`test-${i}`, 'theme']);
          const theme = (await json(site, 'GET', '/theme')) as { value: unknown };
          assert.deepEqual(theme.value, mine);

          const journal = await site.journal({ operation: 'confluence.createUserProperty' });
          assert.deepEqual(journal.map((entry) => entry.path).sort(), [
            `/wiki/rest/api/user/${encodeURIComponent(MIA)}/property/test-${i}`,
            `/wiki/rest/api/user/${encodeURIComponent(MIA)}/property/theme`,
          ]);
        } finally {
          await site.delete();
        }
      });
    }
  });
}
