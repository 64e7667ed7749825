/** `_links.next` of a list page (http/links.ts): its quick path writes what URLSearchParams writes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import type { Site } from '../../src/domain/site.ts';
import { pageLinks } from '../../src/http/links.ts';

const site = { baseUrl: 'http://userplane.test' } as Site;
const PATH = '/rest/api/user/712020%3Anoah/property';

/** The rule as URLSearchParams states it: every other parameter kept, jwt dropped, start and limit set. */
function expectedNext(search: string, start: number, limit: number): string {
  const query = new URLSearchParams(search);
  query.delete('jwt');
  query.set('start', String(start + limit));
  query.set('limit', String(limit));
  return `${PATH}?${query.toString()}`;
}

test('next names the following page, the query otherwise as URLSearchParams writes it', () => {
  const searches = [
    '',
    'limit=5',
    'start=0',
    'start=5&limit=5',
    'limit=5&start=5',
    'start=05&limit=005',
    'limit=5&limit=6',
    'start=1&start=2&limit=5',
    'limit=5&',
    '&limit=5',
    'limit=5&expand=x',
    'limit=5&jwt=abc.def.ghi',
    'start=&limit=5',
    'limit=5&a+b=c%2Cd',
    'Limit=5',
  ];
  for (const search of searches) {
    for (const [start, limit] of [
      [0, 5],
      [10, 25],
    ] as const) {
      const url = search === '' ? PATH : `${PATH}?${search}`;
      const links = pageLinks({ url } as FastifyRequest, site, PATH, { start, limit, more: true });
      assert.equal(links.next, expectedNext(search, start, limit), `query "${search}"`);
    }
  }
});

test('no next on the last page or with limit 0', () => {
  const request = { url: `${PATH}?limit=5` } as FastifyRequest;
  assert.equal(pageLinks(request, site, PATH, { start: 0, limit: 5, more: false }).next, undefined);
  assert.equal(pageLinks(request, site, PATH, { start: 0, limit: 0, more: true }).next, undefined);
});
