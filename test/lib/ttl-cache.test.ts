/** The cache behind "nothing is cached for longer than a second" (docs/behaviour.md §7), on a clock the test moves. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CACHE_AGE_MS, TtlCache } from '../../src/lib/ttl-cache.ts';
import { TestClock } from '../helpers/clock.ts';

function counter(): { load: () => Promise<number>; readonly loads: number } {
  let loads = 0;
  return {
    load: async () => ++loads,
    get loads() {
      return loads;
    },
  };
}

test('a value is served as is, without a promise, for its lifetime; then it is loaded afresh', async () => {
  const clock = new TestClock();
  const cache = new TtlCache<string, number>(clock);
  const source = counter();
  assert.equal(await cache.get('k', source.load), 1);
  clock.advance(MAX_CACHE_AGE_MS - 1);
  assert.equal(cache.get('k', source.load), 1, 'a fresh hit is the value itself');
  clock.advance(1);
  const reloaded = cache.get('k', source.load);
  assert.ok(reloaded instanceof Promise, 'an expired entry is loaded again');
  assert.equal(await reloaded, 2);
  cache.clear();
  assert.equal(await cache.get('k', source.load), 3, 'clear() drops every entry');
});

test('a full cache keeps no new entry until expired ones make room', async () => {
  const clock = new TestClock();
  const cache = new TtlCache<string, number>(clock, MAX_CACHE_AGE_MS, 2);
  const source = counter();
  await cache.get('a', source.load);
  await cache.get('b', source.load);
  await cache.get('c', source.load);
  await cache.get('c', source.load);
  assert.equal(source.loads, 4, 'c was not kept: the cache was full of live entries');
  assert.equal(cache.get('a', source.load), 1, 'a is still cached');

  clock.pastCacheLifetime();
  assert.equal(await cache.get('c', source.load), 5);
  assert.equal(cache.get('c', source.load), 5, 'the expired entries made room for c');
});
