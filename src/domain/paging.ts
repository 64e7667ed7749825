/**
 * Paging (docs/behaviour.md §4): `start` and `limit` query parameters; each list has
 * its own default and maximum, and a larger `limit` is clamped, never refused.
 */

/** A list's paging: the `limit` when none is given, and the largest one served. */
export interface PageSize {
  readonly defaultLimit: number;
  readonly maxLimit: number;
}

/** What a request asks for: either may be absent. */
export interface PageRequest {
  start?: number;
  limit?: number;
}

export interface Page {
  start: number;
  limit: number;
}

/** The page a request asks for: from `start` (0 when absent), `limit` defaulted and clamped to the list's. */
export function requestedPage(query: PageRequest, size: PageSize): Page {
  return { start: query.start ?? 0, limit: Math.min(query.limit ?? size.defaultLimit, size.maxLimit) };
}
