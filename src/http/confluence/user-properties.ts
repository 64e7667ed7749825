/** `/user/{userId}/property…` (docs/behaviour.md §5): parse → domain → shape. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import { type Page, requestedPage } from '../../domain/paging.ts';
import type { PropertyWithJsonValue } from '../../domain/properties.ts';
import type { Site } from '../../domain/site.ts';
import { type ConfluencePropertyService, PROPERTY_PAGE } from '../../domain/user-properties.ts';
import { andThen } from '../../lib/maybe-promise.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import {
  PropertyListQuerySchema,
  PropertyParamsSchema,
  UserIdParamsSchema,
  UserPropertyBodySchema,
  UserPropertyKeyArraySchema,
  UserPropertySchema,
} from '../../schemas/user-properties.ts';
import { confluenceLinks, pageLinks, segment } from '../links.ts';
import { CONFLUENCE_REST } from '../paths.ts';

const TAGS = ['Confluence user properties'];

/** Links name the canonical path (docs/behaviour.md §4), whichever prefix was called. */
const USER_PATH = `${CONFLUENCE_REST}/user/`;

export interface UserPropertyRoutesOptions {
  properties: ConfluencePropertyService;
}

export const userPropertyRoutes: FastifyPluginAsyncTypebox<UserPropertyRoutesOptions> = async (app, { properties }) => {
  app.get(
    '/user/:userId/property',
    {
      schema: {
        tags: TAGS,
        summary: 'Get user property keys',
        params: UserIdParamsSchema,
        querystring: PropertyListQuerySchema,
        response: {
          200: UserPropertyKeyArraySchema,
          ...errorResponses('confluence', { 404: 'The user does not exist.' }),
        },
      },
      config: { access: { kind: 'product', operation: 'confluence.getUserProperties' } },
    },
    // Not async, like the single GET: when the store answers at once, so does the route.
    (request, reply) => {
      const page = requestedPage(request.query, PROPERTY_PAGE);
      return andThen(properties.listKeys(request.principal, request.site, request.params.userId, page), sendKeys, {
        reply,
        page,
      });
    },
  );

  app.get(
    '/user/:userId/property/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Get user property',
        params: PropertyParamsSchema,
        response: {
          200: UserPropertySchema,
          ...errorResponses('confluence', { 404: 'The user or the property does not exist.' }),
        },
      },
      config: {
        access: { kind: 'product', operation: 'confluence.getUserProperty' },
        documented: { responseHeaders: ETAG },
      },
    },
    // Not async: when the store answers at once, so does the route (ConfluencePropertyService.get).
    (request, reply) => {
      const { userId, key } = request.params;
      return andThen(properties.get(request.principal, request.site, userId, key), sendProperty, reply);
    },
  );

  app.post(
    '/user/:userId/property/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Create user property',
        params: PropertyParamsSchema,
        body: UserPropertyBodySchema,
        response: {
          201: UserPropertySchema,
          ...errorResponses('confluence', {
            404: 'The user does not exist.',
            409: 'The user already has a property with this key.',
          }),
        },
      },
      config: {
        access: { kind: 'product', operation: 'confluence.createUserProperty' },
        documented: { responseHeaders: ETAG },
      },
    },
    async (request, reply) => {
      const { userId, key } = request.params;
      const property = await properties.create(request.principal, request.site, userId, key, request.body);
      sendProperty(property, reply.code(201));
    },
  );

  app.put(
    '/user/:userId/property/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Update user property',
        params: PropertyParamsSchema,
        body: UserPropertyBodySchema,
        response: {
          204: NoContent('Updated; the `ETag` header names the new version.'),
          ...errorResponses('confluence', {
            404: 'The user or the property does not exist.',
            412: '`If-Match` does not name the current version.',
          }),
        },
      },
      config: {
        access: { kind: 'product', operation: 'confluence.updateUserProperty' },
        documented: { headers: IF_MATCH, responseHeaders: ETAG },
      },
    },
    async (request, reply) => {
      const { userId, key } = request.params;
      const version = await properties.update(
        request.principal,
        request.site,
        userId,
        key,
        request.body,
        parseIfMatch(request.headers['if-match']),
      );
      return reply.code(204).header('etag', etag(version)).send();
    },
  );

  app.delete(
    '/user/:userId/property/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete user property',
        params: PropertyParamsSchema,
        response: {
          204: NoContent('Deleted.'),
          ...errorResponses('confluence', {
            404: 'The user or the property does not exist.',
            412: '`If-Match` does not name the current version.',
          }),
        },
      },
      config: {
        access: { kind: 'product', operation: 'confluence.deleteUserProperty' },
        documented: { headers: IF_MATCH },
      },
    },
    async (request, reply) => {
      const { userId, key } = request.params;
      await properties.delete(request.principal, request.site, userId, key, parseIfMatch(request.headers['if-match']));
      return reply.code(204).send();
    },
  );
};

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const propertyPath = (userId: string, key: string) => `${USER_PATH}${segment(userId)}/property/${segment(key)}`;

/**
 * Answers with a UserPropertySchema body, with its ETag, as JSON text (see
 * propertyJson). The reply's request names the property's user: its `userId`.
 */
function sendProperty(property: PropertyWithJsonValue, reply: FastifyReply): void {
  const { request } = reply;
  const { userId } = request.params as { userId: string };
  const links = linksJson(request.site, propertyPath(userId, property.key));
  reply.header('etag', etag(property.version)).type(JSON_CONTENT_TYPE).send(propertyJson(property, links));
}

/** A site's `_links` up to `self`, as JSON text, and the base `self` starts with; made once per site object. */
const linksHeads = new WeakMap<Site, { baseUrl: string; head: string; base: string }>();

/** `confluenceLinks(site, path)` as JSON text, the same bytes JSON.stringify writes. */
function linksJson(site: Site, path: string): string {
  let known = linksHeads.get(site);
  if (known === undefined || known.baseUrl !== site.baseUrl) {
    const { base, context } = confluenceLinks(site, '');
    known = {
      baseUrl: site.baseUrl,
      head: `{"base":${JSON.stringify(base)},"context":${JSON.stringify(context)},"self":`,
      base,
    };
    linksHeads.set(site, known);
  }
  return `${known.head}${JSON.stringify(`${known.base}${path}`)}}`;
}

/**
 * The UserPropertySchema body as JSON text, fields in the schema's order.
 * Built here rather than by the schema's serializer so that the stored value
 * goes out as stored: it is compact JSON written by JSON.stringify
 * (domain/user-properties.ts), so embedding it gives the very bytes that
 * parsing and serializing it again would, for much less work on the hottest
 * route. The schema still documents the body, and tests hold the two equal.
 */
function propertyJson(property: PropertyWithJsonValue, linksJson: string): string {
  return (
    `{"key":${JSON.stringify(property.key)},"value":${property.valueJson},"id":${JSON.stringify(property.id)},` +
    `"createdDate":${JSON.stringify(property.createdAt)},"lastModifiedDate":${JSON.stringify(property.updatedAt)},` +
    `"_links":${linksJson}}`
  );
}

/**
 * Answers with a UserPropertyKeyArraySchema body as JSON text, fields in the
 * schema's order, for the reason propertyJson gives: the list route is hot.
 * Each key and link goes through JSON.stringify, as the schema's serializer
 * would write them; tests hold the body to the schema.
 *
 * A page's body is made once and kept (keyPageBodies): it is determined by
 * the site's base URL, the request URL (user, paging and the rest of the
 * query, which `next` repeats) and the page's keys, and a page that has not
 * changed is answered with the same bytes. Building the links and the text
 * cost more than the rest of the route (docs/decisions.md, "Performance on
 * the hot paths").
 */
function sendKeys(
  { keys, more }: { keys: readonly string[]; more: boolean },
  { reply, page }: { reply: FastifyReply; page: Page },
): void {
  const { request } = reply;
  const { site, url } = request;
  const known = keyPageBodies.get(site)?.get(url);
  if (known !== undefined && known.more === more && sameKeys(known.keys, keys)) {
    reply.type(JSON_CONTENT_TYPE).send(known.body);
    return;
  }
  const { userId } = request.params as { userId: string };
  const { start, limit } = page;
  const links = pageLinks(request, site, `${USER_PATH}${segment(userId)}/property`, { start, limit, more });
  const body = Buffer.from(
    `{"results":[${resultsJson(keys)}],"start":${start},"limit":${limit},"size":${keys.length},"_links":${JSON.stringify(links)}}`,
  );
  // A Connect JWT in the query is new on every request: its URL is never asked again.
  if ((request.query as { jwt?: unknown }).jwt === undefined) keepKeyPageBody(site, url, { keys, more, body });
  reply.type(JSON_CONTENT_TYPE).send(body);
}

interface KeyPageBody {
  keys: readonly string[];
  more: boolean;
  /** Sent as it is to every request that finds it: never changed. */
  body: Buffer;
}

/**
 * The list's bodies last made, per site object and request URL. The site
 * cache replaces a site's object at least every second (domain/site.ts), so
 * a base URL changed since is never answered from here, and each map lives
 * about a second; within it, at most KEY_PAGE_BODIES_PER_SITE URLs, after
 * which it starts over empty.
 */
const keyPageBodies = new WeakMap<Site, Map<string, KeyPageBody>>();
const KEY_PAGE_BODIES_PER_SITE = 1000;

function keepKeyPageBody(site: Site, url: string, made: KeyPageBody): void {
  const bodies = keyPageBodies.get(site);
  if (bodies === undefined) {
    keyPageBodies.set(site, new Map([[url, made]]));
    return;
  }
  if (bodies.size >= KEY_PAGE_BODIES_PER_SITE) bodies.clear();
  bodies.set(url, made);
}

/** The same keys in the same order; a page read from SQLite's memo holds the very same strings, compared at once. */
function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Text JSON.stringify writes as it is, between quotes: ASCII letters, digits, `_`, `-` and `.`. */
const PLAIN = /^[\w.-]*$/;

/**
 * `{"key":…}` for each key, comma-separated. Keys are nearly always plain
 * (docs/behaviour.md §5: letters, digits, `-` and `_` by default), so one
 * join and one test over all of them replace a JSON.stringify per key; a
 * page with any other character in a key goes the long way.
 */
function resultsJson(keys: readonly string[]): string {
  if (keys.length === 0) return '';
  if (PLAIN.test(keys.join(''))) return `{"key":"${keys.join('"},{"key":"')}"}`;
  return keys.map((key) => `{"key":${JSON.stringify(key)}}`).join(',');
}

/**
 * `If-Match` (userplane's own, docs/behaviour.md §5): undefined when absent or `*`,
 * otherwise the versions a change may apply to. Weak tags never match
 * (RFC 9110 uses strong comparison for If-Match).
 */
export function parseIfMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const tag of header.split(',')) {
    const match = /^"(\d{1,15})"$/.exec(tag.trim());
    if (match) versions.push(Number(match[1]));
  }
  return versions;
}

/** userplane's own addition (docs/behaviour.md §5): the version as a strong ETag. */
const etag = (version: number) => `"${version}"`;

const ETAG = {
  ETag: { description: 'The property\'s version, `"<n>"`: send it back as `If-Match`.', schema: Type.String() },
};
const IF_MATCH = {
  'if-match': { description: "Only if the property's ETag is this one; else 412.", schema: Type.String() },
};
