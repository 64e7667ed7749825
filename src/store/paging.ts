/** Offset paging, shared by the listings of every table. */
import type { Page } from '../domain/paging.ts';

export type { Page };

/** The page of `rows`, fetched with one extra row to tell whether more exist. */
function paged<T>(rows: T[], page: Page): { items: T[]; more: boolean } {
  return { items: rows.slice(0, page.limit), more: rows.length > page.limit };
}

/** The part of a Kysely select that paging needs: its rows, limited and offset. */
interface PageableQuery<O> {
  limit(limit: number): { offset(offset: number): { execute(): Promise<O[]> } };
}

/** Runs `query` for one page: one extra row tells whether more exist. */
export async function fetchPage<O>(query: PageableQuery<O>, page: Page): Promise<{ items: O[]; more: boolean }> {
  return paged(
    await query
      .limit(page.limit + 1)
      .offset(page.start)
      .execute(),
    page,
  );
}
