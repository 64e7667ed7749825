/** `/user/{userId}/property…` (docs/behaviour.md §5): parse → domain → shape. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { type Page, requestedPage } from '../../domain/paging.ts';
import type { PropertyWithJsonValue } from '../../domain/properties.ts';
import type { Site } from '../../domain/site.ts';
import { type ConfluencePropertyService, type KeyPage, PROPERTY_PAGE } from '../../domain/user-properties.ts';
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
import { KeptBodies } from '../kept-bodies.ts';
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
      return andThen(properties.get(request.principal, request.site, userId, key), sendReadProperty, reply);
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
  reply.header('etag', etag(property.version)).type(JSON_CONTENT_TYPE).send(propertyText(property, reply.request));
}

/** The GET's answer: sendProperty's, with an unchanged property answered by the bytes made for it (http/kept-bodies.ts). */
function sendReadProperty(property: PropertyWithJsonValue, reply: FastifyReply): void {
  const body = propertyBodies.body(reply.request, property, () => propertyText(property, reply.request));
  reply.header('etag', etag(property.version)).type(JSON_CONTENT_TYPE).send(body);
}

const propertyBodies = new KeptBodies<PropertyWithJsonValue>(
  (a, b) =>
    a.version === b.version &&
    a.id === b.id &&
    a.key === b.key &&
    a.valueJson === b.valueJson &&
    a.createdAt === b.createdAt &&
    a.updatedAt === b.updatedAt,
);

/** The property as JSON text; the request names its user (`userId`). */
function propertyText(property: PropertyWithJsonValue, request: FastifyRequest): string {
  const { userId } = request.params as { userId: string };
  return propertyJson(property, linksJson(request.site, propertyPath(userId, property.key)));
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
 * would write them; tests hold the body to the schema. An unchanged page is
 * answered with the bytes made for it (http/kept-bodies.ts).
 */
function sendKeys(page: KeyPage, { reply, page: { start, limit } }: { reply: FastifyReply; page: Page }): void {
  const { request } = reply;
  const body = keyPageBodies.body(request, page, () => {
    const { userId } = request.params as { userId: string };
    const { keys, more } = page;
    const links = pageLinks(request, request.site, `${USER_PATH}${segment(userId)}/property`, { start, limit, more });
    return `{"results":[${resultsJson(keys)}],"start":${start},"limit":${limit},"size":${keys.length},"_links":${JSON.stringify(links)}}`;
  });
  reply.type(JSON_CONTENT_TYPE).send(body);
}

/** The same keys in the same order; a page SQLite's memo answered again is the very same page (store/properties.ts). */
const keyPageBodies = new KeptBodies<KeyPage>((a, b) => {
  if (a === b) return true;
  if (a.more !== b.more || a.keys.length !== b.keys.length) return false;
  for (let i = 0; i < a.keys.length; i++) if (a.keys[i] !== b.keys[i]) return false;
  return true;
});

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
