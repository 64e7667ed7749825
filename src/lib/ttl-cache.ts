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

export interface TtlCacheOptions<V> {
  ttlMs?: number;
  /** How many values are kept; when full, the oldest goes. */
  maxEntries?: number;
  /**
   * Values that answer "no" (a credential that failed, an issuer that names
   * nothing) are kept apart, in a pool of their own of `maxFailures`: a
   * flood of garbage credentials then pushes out only other failures, never
   * the legitimate callers' cached outcomes (docs/decisions.md, "Authentication").
   */
  isFailure?: (value: V) => boolean;
  maxFailures?: number;
  /**
   * A hit this close to its expiry starts a fresh load in the background and
   * is still answered at once; the new value replaces it when it comes. A key
   * in steady use then never misses, so its callers never all wait for one
   * load together (on PostgreSQL that wait, every second, was the property
   * GET's p99: docs/decisions.md, "PostgreSQL at the speed of raw pg"). No
   * value is answered older than `ttlMs`, and a key is loaded at most once
   * per `ttlMs - refreshAheadMs` as before. 0, the default, turns it off.
   */
  refreshAheadMs?: number;
}

/** What the caches of credentials and sites use for `refreshAheadMs`. */
export const REFRESH_AHEAD_MS = 250;

interface Entry<V> {
  value: V;
  expires: number;
  /** Its refresh ahead was started (`refreshAheadMs`). */
  refreshed?: boolean;
}

export class TtlCache<K, V> {
  // A Map iterates in insertion order, and every entry of a pool lives the
  // same time, so the first entries are the oldest: evicting is O(1).
  readonly #kept = new Map<K, Entry<V>>();
  readonly #failures = new Map<K, Entry<V>>();
  /** Loads in flight: concurrent misses for one key share one load. */
  readonly #loading = new Map<K, Promise<V>>();
  /** Bumped by clear(): a load begun before it does not store its (possibly stale) value. */
  #generation = 0;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #maxFailures: number;
  readonly #isFailure: ((value: V) => boolean) | undefined;
  readonly #refreshAheadMs: number;

  constructor(
    private readonly clock: Clock = systemClock,
    {
      ttlMs = MAX_CACHE_AGE_MS,
      maxEntries = 10_000,
      isFailure,
      maxFailures = 1_000,
      refreshAheadMs = 0,
    }: TtlCacheOptions<V> = {},
  ) {
    this.#ttlMs = ttlMs;
    this.#refreshAheadMs = refreshAheadMs;
    this.#maxEntries = maxEntries;
    this.#maxFailures = maxFailures;
    this.#isFailure = isFailure;
  }

  /**
   * A fresh hit comes back as is, without a promise: this runs on every
   * request. A miss while the same key is loading waits for that load. A
   * load that fails is not kept, and its error reaches every waiter. A hit
   * near its end also starts the next load (`refreshAheadMs`).
   */
  get(key: K, load: () => Promise<V>): V | Promise<V> {
    const now = this.clock.now();
    const hit = this.#kept.get(key) ?? this.#failures.get(key);
    if (hit !== undefined && hit.expires > now) {
      if (hit.expires - now <= this.#refreshAheadMs && !hit.refreshed && !this.#loading.has(key)) {
        // Once per value, so a database that fails does not meet a load per request. Nobody
        // waits for this one: a failure is heard by the first miss after the hit expires.
        hit.refreshed = true;
        this.#load(key, load, now).catch(() => {});
      }
      return hit.value;
    }
    const loading = this.#loading.get(key);
    if (loading !== undefined) return loading;
    return this.#load(key, load, now);
  }

  /** Loads `key`, shared by whoever asks while it is under way, and keeps the value unless clear() came between. */
  #load(key: K, load: () => Promise<V>, now: number): Promise<V> {
    const generation = this.#generation;
    const settled = () => {
      if (this.#loading.get(key) === promise) this.#loading.delete(key);
    };
    const promise = load().then(
      (value) => {
        settled();
        // Its age counts from when the read began, so it never outlives the lifetime.
        if (generation === this.#generation) this.#store(key, value, now + this.#ttlMs);
        return value;
      },
      (error: unknown) => {
        settled();
        throw error;
      },
    );
    this.#loading.set(key, promise);
    return promise;
  }

  clear(): void {
    this.#kept.clear();
    this.#failures.clear();
    this.#loading.clear();
    this.#generation++;
  }

  /** The number of values held, failures included (for tests). */
  get size(): number {
    return this.#kept.size + this.#failures.size;
  }

  #store(key: K, value: V, expires: number): void {
    // Deleted first, so the key moves to the end: the insertion order stays the age order.
    this.#kept.delete(key);
    this.#failures.delete(key);
    const failure = this.#isFailure?.(value) ?? false;
    const pool = failure ? this.#failures : this.#kept;
    const max = failure ? this.#maxFailures : this.#maxEntries;
    if (max <= 0) return;
    pool.set(key, { value, expires });
    const now = this.clock.now();
    // Expired entries at the front go first; then, while still too many, the oldest.
    for (const [oldest, entry] of pool) {
      if (pool.size <= max && entry.expires > now) break;
      pool.delete(oldest);
    }
  }
}
