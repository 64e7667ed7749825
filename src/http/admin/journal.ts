/** `GET DELETE /admin/api/journal` (docs/behaviour.md §11): this instance's journal of the site's requests. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NoContent } from '../../schemas/errors.ts';
import { JournalQuerySchema, JournalSchema } from '../../schemas/journal.ts';
import { ADMIN_ACCESS, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: request journal'];

export const adminJournalRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { journal }) => {
  app.get(
    '/journal',
    {
      schema: {
        tags: TAGS,
        summary: "The site's latest requests on this instance, newest first",
        querystring: JournalQuerySchema,
        response: { 200: JournalSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => {
      const results = journal.list(request.site, request.query);
      return { results, size: results.length };
    },
  );

  app.delete(
    '/journal',
    {
      schema: {
        tags: TAGS,
        summary: "Empty the site's journal on this instance",
        response: { 204: NoContent('Emptied.') },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      journal.clear(request.site.id);
      return reply.code(204).send();
    },
  );
};
