/** `/admin/api/users…` (docs/behaviour.md §9): list, create, read, change, deactivate and delete users. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AccountIdParamsSchema,
  AdminUserCreateSchema,
  AdminUserListQuerySchema,
  AdminUserListSchema,
  AdminUserPatchSchema,
  AdminUserSchema,
} from '../../schemas/admin.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { segment } from '../links.ts';
import { ADMIN_ACCESS, ADMIN_API_PREFIX, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: users'];

export const adminUserRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { administration }) => {
  app.get(
    '/users',
    {
      schema: {
        tags: TAGS,
        summary: 'List users',
        querystring: AdminUserListQuerySchema,
        response: { 200: AdminUserListSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).users.list(request.query),
  );

  app.post(
    '/users',
    {
      schema: {
        tags: TAGS,
        summary: 'Create a user',
        body: AdminUserCreateSchema,
        response: {
          201: AdminUserSchema,
          ...errorResponses('confluence', { 409: 'The accountId or email belongs to another user.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      const user = await administration(request.site).users.create(request.body);
      return reply
        .code(201)
        .header('location', `${ADMIN_API_PREFIX}/users/${segment(user.accountId)}`)
        .send(user);
    },
  );

  app.get(
    '/users/:accountId',
    {
      schema: {
        tags: TAGS,
        summary: 'Get a user',
        params: AccountIdParamsSchema,
        response: { 200: AdminUserSchema, ...errorResponses('confluence', { 404: 'No user has this accountId.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).users.get(request.params.accountId),
  );

  app.patch(
    '/users/:accountId',
    {
      schema: {
        tags: TAGS,
        summary: 'Change, deactivate ({"active": false}) or reactivate a user',
        params: AccountIdParamsSchema,
        body: AdminUserPatchSchema,
        response: {
          200: AdminUserSchema,
          ...errorResponses('confluence', {
            404: 'No user has this accountId.',
            409: 'The email belongs to another user, the user is a bot user, or the site would lose its last admin.',
          }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).users.update(request.params.accountId, request.body),
  );

  app.delete(
    '/users/:accountId',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete a user, their memberships, tokens and properties',
        params: AccountIdParamsSchema,
        response: {
          204: NoContent('Deleted.'),
          ...errorResponses('confluence', {
            404: 'No user has this accountId.',
            409: "The user is a bot user, or the site's last admin.",
          }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).users.delete(request.params.accountId);
      return reply.code(204).send();
    },
  );
};
