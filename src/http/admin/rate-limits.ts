/**
 * `GET DELETE /admin/api/rate-limits` and `POST /admin/api/rate-limits/advance`
 * (docs/behaviour.md §12): this instance's buckets and ledgers of the site, and its clock.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NoContent } from '../../schemas/errors.ts';
import { RateLimitsAdvanceSchema, RateLimitsSchema } from '../../schemas/rate-limits.ts';
import { ADMIN_ACCESS, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: rate limits'];

export const adminRateLimitRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { limiter }) => {
  app.get(
    '/rate-limits',
    {
      schema: {
        tags: TAGS,
        summary: "The site's burst buckets and quota ledgers on this instance",
        response: { 200: RateLimitsSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => limiter.view(request.site),
  );

  app.post(
    '/rate-limits/advance',
    {
      schema: {
        tags: TAGS,
        summary: "Move the site's rate-limit clock forward: buckets refill, hours roll over",
        body: RateLimitsAdvanceSchema,
        response: { 200: RateLimitsSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => {
      limiter.advance(request.site.id, request.body.seconds);
      return limiter.view(request.site);
    },
  );

  app.delete(
    '/rate-limits',
    {
      schema: {
        tags: TAGS,
        summary: "Empty the site's buckets and ledgers on this instance, and set its clock back",
        response: { 204: NoContent('Emptied.') },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      limiter.clear(request.site.id);
      return reply.code(204).send();
    },
  );
};
