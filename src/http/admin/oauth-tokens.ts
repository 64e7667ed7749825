/**
 * Bearer tokens (docs/behaviour.md §9): an app's tokens listed without the tokens,
 * revoked by id or all at once.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AdminPageQuerySchema, AppKeyParamsSchema } from '../../schemas/admin.ts';
import { AdminOAuthTokenListSchema, OAuthTokenIdParamsSchema } from '../../schemas/admin-oauth-tokens.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { ADMIN_ACCESS, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: bearer tokens'];

export const adminOAuthTokenRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { administration }) => {
  app.get(
    '/apps/:key/oauth-tokens',
    {
      schema: {
        tags: TAGS,
        summary: "List an app's bearer tokens: ids, users, scopes and lifetimes, never the tokens",
        params: AppKeyParamsSchema,
        querystring: AdminPageQuerySchema,
        response: {
          200: AdminOAuthTokenListSchema,
          ...errorResponses('confluence', { 404: 'No app has this key.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).oauthTokens.list(request.params.key, request.query),
  );

  app.delete(
    '/apps/:key/oauth-tokens',
    {
      schema: {
        tags: TAGS,
        summary: 'Revoke every bearer token of an app, asApp and asUser',
        params: AppKeyParamsSchema,
        response: {
          204: NoContent('Revoked, however many there were.'),
          ...errorResponses('confluence', { 404: 'No app has this key.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).oauthTokens.revokeAll(request.params.key);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/oauth-tokens/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Revoke a bearer token',
        params: OAuthTokenIdParamsSchema,
        response: {
          204: NoContent('Revoked.'),
          ...errorResponses('confluence', { 404: 'No bearer token has this id.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).oauthTokens.revoke(request.params.id);
      return reply.code(204).send();
    },
  );
};
