/** `/user/{userId}/property…` (SPEC §5): parse → domain → shape. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import Type from 'typebox';
import {
  createUserProperty,
  deleteUserProperty,
  getUserProperty,
  listUserPropertyKeys,
  PROPERTY_PAGE,
  updateUserProperty,
  type PropertyContext,
  type UserProperty,
} from '../../domain/user-properties.ts';
import {
  PropertyListQuerySchema,
  PropertyParamsSchema,
  UserIdParamsSchema,
  UserPropertyBodySchema,
  UserPropertyKeyArraySchema,
  UserPropertySchema,
} from '../../schemas/user-properties.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import type { Database } from '../../store/schema.ts';
import { confluenceLinks, pageLinks, segment } from '../links.ts';

const TAGS = ['Confluence user properties'];

export const userPropertyRoutes: FastifyPluginAsyncTypebox<{ db: Kysely<Database> }> = async (app, { db }) => {
  const context = (request: FastifyRequest): PropertyContext => ({ db, principal: request.principal, settings: request.site.settings });
  const propertyPath = (userId: string, key: string) => `/rest/api/user/${segment(userId)}/property/${segment(key)}`;
  const shape = (request: FastifyRequest, userId: string, property: UserProperty) => ({
    key: property.key,
    value: property.value,
    id: property.id,
    createdDate: property.createdAt,
    lastModifiedDate: property.updatedAt,
    _links: confluenceLinks(request.site, propertyPath(userId, property.key)),
  });

  app.get(
    '/user/:userId/property',
    {
      schema: {
        tags: TAGS,
        summary: 'Get user property keys',
        params: UserIdParamsSchema,
        querystring: PropertyListQuerySchema,
        response: { 200: UserPropertyKeyArraySchema, ...errorResponses('confluence', { 404: 'The user does not exist.' }) },
      },
      config: { access: { kind: 'product', operation: 'confluence.getUserProperties' } },
    },
    async (request) => {
      const { userId } = request.params;
      const start = request.query.start ?? 0;
      const limit = Math.min(request.query.limit ?? PROPERTY_PAGE.defaultLimit, PROPERTY_PAGE.maxLimit);
      const { keys, more } = await listUserPropertyKeys(context(request), userId, { start, limit });
      return {
        results: keys.map((key) => ({ key })),
        start,
        limit,
        size: keys.length,
        _links: pageLinks(request, request.site, `/rest/api/user/${segment(userId)}/property`, { start, limit, more }),
      };
    },
  );

  app.get(
    '/user/:userId/property/:key',
    {
      schema: { tags: TAGS, summary: 'Get user property', params: PropertyParamsSchema, response: { 200: UserPropertySchema, ...errorResponses('confluence', { 404: 'The user or the property does not exist.' }) } },
      config: { access: { kind: 'product', operation: 'confluence.getUserProperty' }, documented: { responseHeaders: ETAG } },
    },
    async (request, reply) => {
      const { userId, key } = request.params;
      const property = await getUserProperty(context(request), userId, key);
      reply.header('etag', etag(property));
      return shape(request, userId, property);
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
        response: { 201: UserPropertySchema, ...errorResponses('confluence', { 404: 'The user does not exist.', 409: 'The user already has a property with this key.' }) },
      },
      config: { access: { kind: 'product', operation: 'confluence.createUserProperty' }, documented: { responseHeaders: ETAG } },
    },
    async (request, reply) => {
      const { userId, key } = request.params;
      const property = await createUserProperty(context(request), userId, key, request.body);
      return reply.code(201).header('etag', etag(property)).send(shape(request, userId, property));
    },
  );

  app.put(
    '/user/:userId/property/:key',
    {
      schema: { tags: TAGS, summary: 'Update user property', params: PropertyParamsSchema, body: UserPropertyBodySchema, response: { 204: NoContent('Updated; the `ETag` header names the new version.'), ...errorResponses('confluence', { 404: 'The user or the property does not exist.', 412: '`If-Match` does not name the current version.' }) } },
      config: { access: { kind: 'product', operation: 'confluence.updateUserProperty' }, documented: { headers: IF_MATCH, responseHeaders: ETAG } },
    },
    async (request, reply) => {
      const { userId, key } = request.params;
      const property = await updateUserProperty(context(request), userId, key, request.body, request.headers['if-match']);
      return reply.code(204).header('etag', etag(property)).send();
    },
  );

  app.delete(
    '/user/:userId/property/:key',
    {
      schema: { tags: TAGS, summary: 'Delete user property', params: PropertyParamsSchema, response: { 204: NoContent('Deleted.'), ...errorResponses('confluence', { 404: 'The user or the property does not exist.', 412: '`If-Match` does not name the current version.' }) } },
      config: { access: { kind: 'product', operation: 'confluence.deleteUserProperty' }, documented: { headers: IF_MATCH } },
    },
    async (request, reply) => {
      const { userId, key } = request.params;
      await deleteUserProperty(context(request), userId, key, request.headers['if-match']);
      return reply.code(204).send();
    },
  );
};

/** userplane's own addition (SPEC §5): the version as a strong ETag. */
const etag = (property: { version: number }) => `"${property.version}"`;

const ETAG = { ETag: { description: 'The property\'s version, `"<n>"`: send it back as `If-Match`.', schema: Type.String() } };
const IF_MATCH = { 'if-match': { description: 'Only if the property\'s ETag is this one; else 412.', schema: Type.String() } };
