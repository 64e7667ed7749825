/**
 * The clock the app's one-second caches read in tests (`buildApp({ clock })`):
 * it stands still until a test moves it, so "a revoked credential ends within
 * a second" (docs/behaviour.md §7) is shown by moving it, not by sleeping.
 * Only the caches read it; token and JWT expiry use real time.
 */
import { type Clock, MAX_CACHE_AGE_MS } from '../../src/lib/ttl-cache.ts';

export class TestClock implements Clock {
  #now = Date.now();

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }

  /** Moves the clock by the caches' whole lifetime: every cached site, credential and app is read afresh. */
  pastCacheLifetime(): void {
    this.advance(MAX_CACHE_AGE_MS);
  }
}
