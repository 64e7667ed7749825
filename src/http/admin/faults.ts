/**
 * `POST GET DELETE /admin/api/faults` (docs/behaviour.md §12): the site's
 * injected fault rules on this instance. Site admins of the site and the operator.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { FaultIdParamsSchema, FaultListSchema, FaultRuleCreateSchema, FaultRuleSchema } from '../../schemas/faults.ts';
import { segment } from '../links.ts';
import { ADMIN_ACCESS, ADMIN_API_PREFIX, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: faults'];

export const adminFaultRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { faults }) => {
  app.post(
    '/faults',
    {
      schema: {
        tags: TAGS,
        summary: 'Add a fault rule: a status, a delay or a destroyed connection for matching product requests',
        body: FaultRuleCreateSchema,
        response: { 201: FaultRuleSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      const rule = faults.add(request.site.id, request.body);
      return reply
        .code(201)
        .header('location', `${ADMIN_API_PREFIX}/faults/${segment(rule.id)}`)
        .send(rule.view());
    },
  );

  app.get(
    '/faults',
    {
      schema: {
        tags: TAGS,
        summary: "The site's fault rules on this instance, in the order they are tried",
        response: { 200: FaultListSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => {
      const results = faults.list(request.site.id).map((rule) => rule.view());
      return { results, size: results.length };
    },
  );

  app.delete(
    '/faults/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Remove a fault rule',
        params: FaultIdParamsSchema,
        response: {
          204: NoContent('Removed.'),
          ...errorResponses('confluence', { 404: 'The site has no rule of this id.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      faults.remove(request.site.id, request.params.id);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/faults',
    {
      schema: {
        tags: TAGS,
        summary: 'Remove every fault rule of the site on this instance',
        response: { 204: NoContent('Removed.') },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      faults.clear(request.site.id);
      return reply.code(204).send();
    },
  );
};
