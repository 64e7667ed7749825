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

test('a full cache makes room for a new entry by dropping the oldest', async () => {
  const clock = new TestClock();
  const cache = new TtlCache<string, number>(clock, { maxEntries: 2 });
  const source = counter();
  await cache.get('a', source.load);
  await cache.get('b', source.load);
  await cache.get('c', source.load);
  assert.equal(cache.get('c', source.load), 3, 'c was kept though the cache was full of live entries');
  assert.equal(cache.get('b', source.load), 2, 'b is still cached');
  assert.equal(cache.size, 2);
  const a = cache.get('a', source.load);
  assert.ok(a instanceof Promise, 'a, the oldest, made room');
  assert.equal(await a, 4, 'a is back, and b, now the oldest, made room');

  // Expired entries go first; a value lives its lifetime from when it was read.
  clock.advance(MAX_CACHE_AGE_MS / 2);
  assert.equal(await cache.get('d', source.load), 5);
  clock.advance(MAX_CACHE_AGE_MS / 2);
  assert.equal(cache.get('d', source.load), 5, 'd still lives');
  assert.ok(cache.get('c', source.load) instanceof Promise, 'c went when d came');
});

test('a full cache answers misses in constant time: it does not scan its entries', { timeout: 10_000 }, async () => {
  // 10,000 live entries and 100,000 misses: a scan per miss would be 10^9 steps.
  const clock = new TestClock();
  const cache = new TtlCache<number, number>(clock);
  for (let i = 0; i < 10_000; i++) await cache.get(i, async () => i);
  for (let i = 10_000; i < 110_000; i++) await cache.get(i, async () => i);
  assert.equal(cache.size, 10_000);
  assert.equal(
    cache.get(109_999, async () => -1),
    109_999,
  );
});

test('failures live in a pool of their own: a flood of them never pushes out a kept value', async () => {
  const clock = new TestClock();
  const cache = new TtlCache<string, number>(clock, { maxEntries: 2, maxFailures: 3, isFailure: (v) => v < 0 });
  await cache.get('good-1', async () => 1);
  await cache.get('good-2', async () => 2);
  for (let i = 0; i < 1000; i++) await cache.get(`garbage-${i}`, async () => -(i + 1));
  assert.equal(
    cache.get('good-1', async () => 0),
    1,
    'still cached after 1000 failures',
  );
  assert.equal(
    cache.get('good-2', async () => 0),
    2,
  );
  assert.equal(cache.size, 5, 'two kept values and the three newest failures');
  assert.equal(
    cache.get('garbage-999', async () => 0),
    -1000,
    'recent failures are cached too',
  );
  assert.ok(cache.get('garbage-0', async () => 0) instanceof Promise, 'the oldest failures went');

  // A key that fails after it succeeded (or the reverse) is in one pool only.
  clock.pastCacheLifetime();
  await cache.get('good-1', async () => -1);
  assert.equal(
    cache.get('good-1', async () => 0),
    -1,
  );
  await cache.get('good-3', async () => 3);
  await cache.get('good-4', async () => 4);
  assert.equal(
    cache.get('good-4', async () => 0),
    4,
  );
});

test('concurrent misses for one key share one load; a failed load is shared and not kept', async () => {
  const clock = new TestClock();
  const cache = new TtlCache<string, number>(clock);
  let loads = 0;
  let release!: (value: number) => void;
  const slowLoad = () => {
    loads++;
    return new Promise<number>((resolve) => {
      release = resolve;
    });
  };
  const waiting = Array.from({ length: 20 }, () => cache.get('k', slowLoad));
  assert.equal(loads, 1, 'one load for twenty concurrent misses');
  release(42);
  assert.deepEqual(await Promise.all(waiting), Array(20).fill(42));
  assert.equal(cache.get('k', slowLoad), 42, 'then a hit');

  let failures = 0;
  const failingLoad = async () => {
    failures++;
    throw new Error('database down');
  };
  const failing = [cache.get('f', failingLoad), cache.get('f', failingLoad)];
  for (const attempt of failing) await assert.rejects(attempt as Promise<number>, /database down/);
  assert.equal(failures, 1);
  assert.equal(await cache.get('f', async () => 7), 7, 'an error is not cached: the next miss loads again');
});

test('a load begun before clear() keeps nothing, and a miss after clear() does not wait for it', async () => {
  const clock = new TestClock();
  const cache = new TtlCache<string, number>(clock);
  let release!: (value: number) => void;
  const stale = cache.get(
    'k',
    () =>
      new Promise<number>((resolve) => {
        release = resolve;
      }),
  );
  cache.clear();
  const fresh = cache.get('k', async () => 2);
  assert.equal(await fresh, 2);
  release(1);
  assert.equal(await stale, 1);
  assert.equal(
    cache.get('k', async () => 3),
    2,
    'the stale value did not replace the fresh one',
  );
});

test('refresh ahead: a hit near its end is answered at once and loads the next value, which lives from its own read', async () => {
  const clock = new TestClock();
  const cache = new TtlCache<string, number>(clock, { refreshAheadMs: 200 });
  const source = counter();
  assert.equal(await cache.get('k', source.load), 1);
  clock.advance(MAX_CACHE_AGE_MS - 201);
  assert.equal(cache.get('k', source.load), 1);
  assert.equal(source.loads, 1, 'no load before the last 200 ms');
  clock.advance(1);
  assert.equal(cache.get('k', source.load), 1, 'the old value is still the answer, without a promise');
  assert.equal(cache.get('k', source.load), 1);
  assert.equal(source.loads, 2, 'one load started, however many hits');
  await Promise.resolve();
  assert.equal(cache.get('k', source.load), 2, 'the new value replaced the old one once loaded');
  // The new value was read at the start of the refresh: it lives a lifetime from then, no longer.
  clock.advance(MAX_CACHE_AGE_MS - 1);
  assert.equal(cache.get('k', source.load), 2);
  clock.advance(1);
  assert.ok(cache.get('k', source.load) instanceof Promise, 'past its lifetime it is a miss like any other');
});

test('refresh ahead: a failed refresh is not retried per hit; the miss after expiry loads, and hears a failure', async () => {
  const clock = new TestClock();
  const cache = new TtlCache<string, number>(clock, { refreshAheadMs: 200 });
  assert.equal(await cache.get('k', async () => 1), 1);
  clock.advance(MAX_CACHE_AGE_MS - 100);
  let attempts = 0;
  const failing = async (): Promise<number> => {
    attempts++;
    throw new Error('the database is down');
  };
  assert.equal(cache.get('k', failing), 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cache.get('k', failing), 1, 'the cached value lives out its lifetime');
  assert.equal(attempts, 1, 'one refresh per value');
  clock.advance(100);
  await assert.rejects(Promise.resolve(cache.get('k', failing)), /the database is down/);
  assert.equal(attempts, 2);
});
