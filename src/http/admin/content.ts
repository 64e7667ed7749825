/** Content (pages and blog posts) with labels and view restrictions (docs/behaviour.md §9). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminContentCreateSchema,
  AdminContentListQuerySchema,
  AdminContentListSchema,
  AdminContentPatchSchema,
  AdminContentSchema,
  ContentIdParamsSchema,
} from '../../schemas/admin-spaces.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { segment } from '../links.ts';
import { ADMIN_ACCESS, ADMIN_API_PREFIX, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: content'];

export const adminContentRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { administration }) => {
  app.get(
    '/content',
    {
      schema: {
        tags: TAGS,
        summary: 'List content by id',
        querystring: AdminContentListQuerySchema,
        response: {
          200: AdminContentListSchema,
          ...errorResponses('confluence', { 404: 'No space has the key given as space.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).content.list(request.query),
  );

  app.post(
    '/content',
    {
      schema: {
        tags: TAGS,
        summary: 'Create a page or blog post',
        body: AdminContentCreateSchema,
        response: { 201: AdminContentSchema, ...errorResponses('confluence', { 409: 'The id is taken.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      const content = await administration(request.site).content.create(request.body);
      return reply
        .code(201)
        .header('location', `${ADMIN_API_PREFIX}/content/${segment(content.id)}`)
        .send(content);
    },
  );

  app.get(
    '/content/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Get content',
        params: ContentIdParamsSchema,
        response: { 200: AdminContentSchema, ...errorResponses('confluence', { 404: 'No content has this id.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).content.get(request.params.id),
  );

  app.patch(
    '/content/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Change content',
        params: ContentIdParamsSchema,
        body: AdminContentPatchSchema,
        response: { 200: AdminContentSchema, ...errorResponses('confluence', { 404: 'No content has this id.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).content.update(request.params.id, request.body),
  );

  app.delete(
    '/content/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete content and its watches (its labels stay)',
        params: ContentIdParamsSchema,
        response: { 204: NoContent('Deleted.'), ...errorResponses('confluence', { 404: 'No content has this id.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).content.delete(request.params.id);
      return reply.code(204).send();
    },
  );
};
