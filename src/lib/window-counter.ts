/**
 * Counts events per key in a fixed window that opens at the key's first
 * event (docs/decisions.md, "Credential guessing"). Memory is bounded: at
 * most `maxKeys` windows are kept, and since every window lasts the same
 * time and a key's new window is inserted afresh, a Map's insertion order is
 * the order windows end in: expired ones are dropped from the front, in O(1)
 * amortised per event.
 */
import type { Clock } from './ttl-cache.ts';

interface Window {
  count: number;
  /** Clock time, in milliseconds, when the window closes. */
  ends: number;
}

export class WindowCounter {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  /**
   * Counts one event for `key`; returns when its window ends (clock time, in
   * milliseconds) and how many events it holds now.
   */
  add(key: string): Readonly<Window> {
    const now = this.clock.now();
    const open = this.#windows.get(key);
    if (open !== undefined && open.ends > now) {
      open.count++;
      return open;
    }
    // Deleted first, so the key moves to the end: the insertion order stays the order windows end in.
    if (open !== undefined) this.#windows.delete(key);
    const window: Window = { count: 1, ends: now + this.windowMs };
    this.#windows.set(key, window);
    for (const [oldest, entry] of this.#windows) {
      if (this.#windows.size <= this.maxKeys && entry.ends > now) break;
      this.#windows.delete(oldest);
    }
    return window;
  }

  /** Milliseconds left in `key`'s window when it holds at least `limit` events; 0 otherwise. */
  blockedFor(key: string, limit: number): number {
    const window = this.#windows.get(key);
    if (window === undefined || window.count < limit) return 0;
    return Math.max(0, window.ends - this.clock.now());
  }

  /** The number of windows held (for tests). */
  get size(): number {
    return this.#windows.size;
  }
}
