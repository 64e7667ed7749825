/**
 * A small time-bounded cache. docs/behaviour.md §7: instances sharing one PostgreSQL
 * behave as one server, so nothing about auth, tokens or settings may be
 * cached for longer than a second.
 */
export const MAX_CACHE_AGE_MS = 1000;

/** Where a cache reads the time, in milliseconds; tests hand in one they move by hand. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: Date.now };

export class TtlCache<K, V> {
  readonly #entries = new Map<K, { value: V; expires: number }>();

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly ttlMs = MAX_CACHE_AGE_MS,
    private readonly maxEntries = 10_000,
  ) {}

  /** A fresh hit comes back as is, without a promise: this runs on every request. */
  get(key: K, load: () => Promise<V>): V | Promise<V> {
    const now = this.clock.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    return load().then((value) => {
      if (this.#entries.size >= this.maxEntries) this.#evictExpired(now);
      if (this.#entries.size < this.maxEntries) this.#entries.set(key, { value, expires: now + this.ttlMs });
      return value;
    });
  }

  clear(): void {
    this.#entries.clear();
  }

  #evictExpired(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.expires <= now) this.#entries.delete(key);
  }
}
