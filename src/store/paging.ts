/** Offset paging, shared by the listings of every table. */

export interface Page {
  start: number;
  limit: number;
}

/** One page, fetched with one extra row to tell whether more exist. */
export function paged<T>(rows: T[], page: Page): { items: T[]; more: boolean } {
  return { items: rows.slice(0, page.limit), more: rows.length > page.limit };
}
