/**
 * Atlassian's headers on a 429 (docs/behaviour.md §12): `Retry-After` in
 * seconds, `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0`,
 * `X-RateLimit-Reset` (ISO-8601) and `RateLimit-Reason`. Shared by the rate
 * limits and by injected faults.
 */
export type RateLimitProduct = 'confluence' | 'jira';

export interface RateLimitRefusal {
  product: RateLimitProduct;
  /** Seconds until a retry may succeed; at least 1 is sent. */
  retryAfterSeconds: number;
  /** The limit of the window that ran out. */
  limit: number;
  /** When the window resets. */
  resetAt: Date;
  /** `RateLimit-Reason`; `<product>-burst-based` when not given. */
  reason?: string;
}

export function rateLimitHeaders({
  product,
  retryAfterSeconds,
  limit,
  resetAt,
  reason,
}: RateLimitRefusal): Record<string, string> {
  return {
    'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': '0',
    'X-RateLimit-Reset': resetAt.toISOString(),
    'RateLimit-Reason': reason ?? `${product}-burst-based`,
  };
}

/** Atlassian's burst limits per method (docs/behaviour.md §12, `rateLimits: atlassian`). */
export const ATLASSIAN_BURST: Readonly<Record<string, number>> = { GET: 100, POST: 100, PUT: 50, DELETE: 50 };
