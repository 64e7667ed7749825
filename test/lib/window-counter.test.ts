/** Events per key in a fixed window, for the guessing limits (docs/decisions.md, "Credential guessing"), on a clock the test moves. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WindowCounter } from '../../src/lib/window-counter.ts';
import { TestClock } from '../helpers/clock.ts';

test('a window opens at the first event, counts for its length, and then starts over', () => {
  const clock = new TestClock();
  const counter = new WindowCounter(clock, 60_000, 10);
  const opened = clock.now();
  for (let i = 1; i <= 3; i++) assert.deepEqual({ ...counter.add('k') }, { count: i, ends: opened + 60_000 });
  assert.equal(counter.blockedFor('k', 4), 0, 'under the limit');
  clock.advance(20_000);
  assert.equal(counter.blockedFor('k', 3), 40_000, 'at the limit: the rest of the window');
  assert.equal(counter.blockedFor('other', 1), 0);
  clock.advance(40_000);
  assert.equal(counter.blockedFor('k', 3), 0, 'the window has ended');
  assert.deepEqual({ ...counter.add('k') }, { count: 1, ends: clock.now() + 60_000 });
});

test('memory is bounded: expired windows go first, and past the cap the oldest', () => {
  const clock = new TestClock();
  const counter = new WindowCounter(clock, 60_000, 3);
  for (const key of ['a', 'b', 'c', 'd']) {
    counter.add(key);
    clock.advance(1);
  }
  assert.equal(counter.size, 3);
  assert.equal(counter.blockedFor('a', 1), 0, 'the oldest was forgotten');
  assert.ok(counter.blockedFor('d', 1) > 0);

  clock.advance(60_000);
  counter.add('e');
  assert.equal(counter.size, 1, 'every expired window was dropped');
});
