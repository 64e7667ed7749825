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
  const query = new URLSearchParams(request.url.split('?')[1] ?? '');
  query.delete('jwt');
  query.set('start', String(page.start + page.limit));
  query.set('limit', String(page.limit));
  return { ...links, next: `${path}?${query.toString()}` };
}

export const segment = encodeURIComponent;
