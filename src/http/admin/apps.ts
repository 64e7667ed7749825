/** Apps (docs/behaviour.md §9): secrets are write-only; the bot user comes and goes with the app. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminAppCreateSchema,
  AdminAppListSchema,
  AdminAppPatchSchema,
  AdminAppSchema,
  AdminPageQuerySchema,
  AppKeyParamsSchema,
} from '../../schemas/admin.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { segment } from '../links.ts';
import { ADMIN_ACCESS, ADMIN_API_PREFIX, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: apps'];

export const adminAppRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { administration }) => {
  app.get(
    '/apps',
    {
      schema: {
        tags: TAGS,
        summary: 'List apps',
        querystring: AdminPageQuerySchema,
        response: { 200: AdminAppListSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).apps.list(request.query),
  );

  app.post(
    '/apps',
    {
      schema: {
        tags: TAGS,
        summary: 'Install an app and create its bot user',
        body: AdminAppCreateSchema,
        response: {
          201: AdminAppSchema,
          ...errorResponses('confluence', { 409: 'The key, client id or bot accountId is taken.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      const created = await administration(request.site).apps.create(request.body);
      return reply
        .code(201)
        .header('location', `${ADMIN_API_PREFIX}/apps/${segment(created.key)}`)
        .send(created);
    },
  );

  app.get(
    '/apps/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Get an app',
        params: AppKeyParamsSchema,
        response: { 200: AdminAppSchema, ...errorResponses('confluence', { 404: 'No app has this key.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).apps.get(request.params.key),
  );

  app.patch(
    '/apps/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Change an app',
        params: AppKeyParamsSchema,
        body: AdminAppPatchSchema,
        response: {
          200: AdminAppSchema,
          ...errorResponses('confluence', { 404: 'No app has this key.', 409: 'The client id is taken.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).apps.update(request.params.key, request.body),
  );

  app.delete(
    '/apps/:key',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete an app, its bot user and its Confluence properties',
        params: AppKeyParamsSchema,
        response: { 204: NoContent('Deleted.'), ...errorResponses('confluence', { 404: 'No app has this key.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).apps.delete(request.params.key);
      return reply.code(204).send();
    },
  );
};
