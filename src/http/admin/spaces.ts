/** Spaces with their view permission (docs/behaviour.md §9). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AdminPageQuerySchema } from '../../schemas/admin.ts';
import {
  AdminSpaceCreateSchema,
  AdminSpaceListSchema,
  AdminSpacePatchSchema,
  AdminSpaceSchema,
  SpaceKeyParamsSchema,
} from '../../schemas/admin-spaces.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { segment } from '../links.ts';
import { ADMIN_ACCESS, ADMIN_API_PREFIX, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: spaces'];

export const adminSpaceRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { administration }) => {
  app.get(
    '/spaces',
    {
      schema: {
        tags: TAGS,
        summary: 'List spaces by key',
        querystring: AdminPageQuerySchema,
        response: { 200: AdminSpaceListSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).spaces.list(request.query),
  );

  app.post(
    '/spaces',
    {
      schema: {
        tags: TAGS,
        summary: 'Create a space',
        body: AdminSpaceCreateSchema,
        response: {
          201: AdminSpaceSchema,
          ...errorResponses('confluence', { 409: 'The key is taken, or the owner has a personal space.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      const space = await administration(request.site).spaces.create(request.body);
      return reply
        .code(201)
        .header('location', `${ADMIN_API_PREFIX}/spaces/${segment(space.key)}`)
        .send(space);
    },
  );

  app.get(
    '/spaces/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Get a space',
        params: SpaceKeyParamsSchema,
        response: { 200: AdminSpaceSchema, ...errorResponses('confluence', { 404: 'No space has this key.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).spaces.get(request.params.key),
  );

  app.patch(
    '/spaces/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Change a space',
        params: SpaceKeyParamsSchema,
        body: AdminSpacePatchSchema,
        response: {
          200: AdminSpaceSchema,
          ...errorResponses('confluence', {
            404: 'No space has this key.',
            409: 'The new owner has a personal space.',
          }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).spaces.update(request.params.key, request.body),
  );

  app.delete(
    '/spaces/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete a space, its content and their watches',
        params: SpaceKeyParamsSchema,
        response: { 204: NoContent('Deleted.'), ...errorResponses('confluence', { 404: 'No space has this key.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).spaces.delete(request.params.key);
      return reply.code(204).send();
    },
  );
};
