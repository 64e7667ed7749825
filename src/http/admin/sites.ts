/** The server's sites (docs/behaviour.md §10): the operator's routes; site admins get 403. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminCreatedSiteSchema,
  AdminPageQuerySchema,
  AdminSiteCreateSchema,
  AdminSiteSummaryListSchema,
  AdminSiteSummarySchema,
  SiteNameParamsSchema,
} from '../../schemas/admin.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { segment } from '../links.ts';
import { ADMIN_API_PREFIX, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: sites'];
const OPERATOR_ACCESS = { access: { kind: 'operator' as const } };

export const adminSitesRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { sitesAdmin }) => {
  app.get(
    '/sites',
    {
      schema: {
        tags: TAGS,
        summary: 'List the sites (operator only)',
        querystring: AdminPageQuerySchema,
        response: { 200: AdminSiteSummaryListSchema },
      },
      config: OPERATOR_ACCESS,
    },
    async (request) => sitesAdmin.list(request.query),
  );

  app.post(
    '/sites',
    {
      schema: {
        tags: TAGS,
        summary: 'Create a site from a seed (operator only)',
        body: AdminSiteCreateSchema,
        response: {
          201: AdminCreatedSiteSchema,
          ...errorResponses('confluence', { 409: 'The name, cloudId or base URL belongs to another site.' }),
        },
      },
      config: OPERATOR_ACCESS,
    },
    async (request, reply) => {
      const site = await sitesAdmin.create(request.body);
      return reply
        .code(201)
        .header('location', `${ADMIN_API_PREFIX}/sites/${segment(site.name)}`)
        .send(site);
    },
  );

  app.get(
    '/sites/:name',
    {
      schema: {
        tags: TAGS,
        summary: 'Get a site (operator only)',
        params: SiteNameParamsSchema,
        response: { 200: AdminSiteSummarySchema, ...errorResponses('confluence', { 404: 'No site has this name.' }) },
      },
      config: OPERATOR_ACCESS,
    },
    async (request) => sitesAdmin.get(request.params.name),
  );

  app.delete(
    '/sites/:name',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete a site and everything of it (operator only)',
        params: SiteNameParamsSchema,
        response: {
          204: NoContent('Deleted.'),
          ...errorResponses('confluence', { 404: 'No site has this name.', 409: 'The default site stays.' }),
        },
      },
      config: OPERATOR_ACCESS,
    },
    async (request, reply) => {
      await sitesAdmin.delete(request.params.name);
      return reply.code(204).send();
    },
  );
};
