/** Confluence `_links` (docs/behaviour.md §4): base, context and an absolute self; lists add `next`. */
import type { FastifyRequest } from 'fastify';
import type { Site } from '../domain/site.ts';
import type { Links } from '../schemas/common.ts';
import { WIKI_CONTEXT } from './paths.ts';

/** `path` is relative to the Confluence base, e.g. `/rest/api/user/…` (paths.ts: CONFLUENCE_REST). */
export function confluenceLinks(site: Site, path: string): Links {
  const base = `${site.baseUrl}${WIKI_CONTEXT}`;
  return { base, context: WIKI_CONTEXT, self: `${base}${path}` };
}

/** A page of a list: its links, with `next` while more results exist. */
export function pageLinks(
  request: FastifyRequest,
  site: Site,
  path: string,
  page: { start: number; limit: number; more: boolean },
): Links {
  const links = confluenceLinks(site, path);
  if (!page.more || page.limit === 0) return links;
  const start = String(page.start + page.limit);
  const limit = String(page.limit);
  const search = request.url.indexOf('?') < 0 ? '' : request.url.slice(request.url.indexOf('?') + 1);
  const next = PAGING_ONLY.test(search) ? pagingQuery(search, start, limit) : undefined;
  if (next !== undefined) return { ...links, next: `${path}?${next}` };
  const query = new URLSearchParams(search);
  query.delete('jwt');
  query.set('start', start);
  query.set('limit', limit);
  return { ...links, next: `${path}?${query.toString()}` };
}

/** A query of nothing but `start` and `limit` with digits, each at most once: what paging clients send. */
const PAGING_ONLY = /^(?:(?:start|limit)=\d+(?:&(?!$)|$))*$/;

/**
 * The next page's query for a PAGING_ONLY query, as URLSearchParams writes
 * it after `set('start')` and `set('limit')`: each in its place, a missing
 * one appended. Undefined when a name repeats (URLSearchParams then drops the
 * later ones: left to it). The list routes are hot (docs/architecture.md "Hot routes").
 */
function pagingQuery(search: string, start: string, limit: string): string | undefined {
  let query = '';
  let seenStart = false;
  let seenLimit = false;
  if (search !== '') {
    for (const part of search.split('&')) {
      const isStart = part.charCodeAt(0) === 115; // 's'
      if (isStart ? seenStart : seenLimit) return undefined;
      if (isStart) seenStart = true;
      else seenLimit = true;
      query += `${query === '' ? '' : '&'}${isStart ? `start=${start}` : `limit=${limit}`}`;
    }
  }
  if (!seenStart) query += `${query === '' ? '' : '&'}start=${start}`;
  if (!seenLimit) query += `&limit=${limit}`;
  return query;
}

export const segment = encodeURIComponent;
