/** API tokens (docs/behaviour.md §9): issued per user, shown once, listed without secrets, revoked by id. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AccountIdParamsSchema,
  AdminNewTokenSchema,
  AdminPageQuerySchema,
  AdminTokenCreateSchema,
  AdminTokenListSchema,
  TokenIdParamsSchema,
} from '../../schemas/admin.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { ADMIN_ACCESS, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: API tokens'];

export const adminTokenRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { administration }) => {
  app.post(
    '/users/:accountId/tokens',
    {
      schema: {
        tags: TAGS,
        summary: 'Issue an API token; the token is in this answer only',
        params: AccountIdParamsSchema,
        // The body is optional: `{}`, or no body at all, issue an unnamed token that never expires.
        body: AdminTokenCreateSchema,
        response: {
          201: AdminNewTokenSchema,
          ...errorResponses('confluence', { 404: 'No user has this accountId.', 409: 'Bot users get no API tokens.' }),
        },
      },
      config: ADMIN_ACCESS,
      // A POST with no body at all is an empty options object.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      const created = await administration(request.site).tokens.create(request.params.accountId, request.body);
      // The token is a credential: no cache may keep this answer.
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.get(
    '/users/:accountId/tokens',
    {
      schema: {
        tags: TAGS,
        summary: "List a user's API tokens: ids and names, never the tokens",
        params: AccountIdParamsSchema,
        querystring: AdminPageQuerySchema,
        response: {
          200: AdminTokenListSchema,
          ...errorResponses('confluence', { 404: 'No user has this accountId.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).tokens.list(request.params.accountId, request.query),
  );

  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Revoke an API token',
        params: TokenIdParamsSchema,
        response: { 204: NoContent('Revoked.'), ...errorResponses('confluence', { 404: 'No API token has this id.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).tokens.revoke(request.params.id);
      return reply.code(204).send();
    },
  );
};
