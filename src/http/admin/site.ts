/** `GET PATCH /admin/api/site` (docs/behaviour.md §9): settings and cloudId. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AdminSitePatchSchema, AdminSiteSchema } from '../../schemas/admin.ts';
import { errorResponses } from '../../schemas/errors.ts';
import { ADMIN_ACCESS, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: site'];

export const adminSiteRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { administration, sites }) => {
  app.get(
    '/site',
    {
      schema: { tags: TAGS, summary: 'Get the site settings', response: { 200: AdminSiteSchema } },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).site.get(request.site.baseUrl),
  );

  app.patch(
    '/site',
    {
      schema: {
        tags: TAGS,
        summary: 'Change site settings',
        body: AdminSitePatchSchema,
        response: {
          200: AdminSiteSchema,
          ...errorResponses('confluence', {
            409: 'The change would leave the site without an active admin, or its base URL names the host of another site.',
          }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => {
      await administration(request.site).site.update(request.body);
      // This process sees the change at once; other instances within a second (docs/behaviour.md §7).
      sites.invalidate();
      // The base URL requests see follows the change; read the site afresh.
      const site = await sites.byId(request.site.id);
      return administration(request.site).site.get(site?.baseUrl ?? request.site.baseUrl);
    },
  );
};
