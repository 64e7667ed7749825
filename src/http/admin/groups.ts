/** Groups and memberships (docs/behaviour.md §9). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminGroupCreateSchema,
  AdminGroupListSchema,
  AdminGroupSchema,
  AdminPageQuerySchema,
  AdminUserListSchema,
  GroupParamsSchema,
  MemberParamsSchema,
} from '../../schemas/admin.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { segment } from '../links.ts';
import { ADMIN_ACCESS, ADMIN_API_PREFIX, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: groups'];

export const adminGroupRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { administration }) => {
  app.get(
    '/groups',
    {
      schema: {
        tags: TAGS,
        summary: 'List groups',
        querystring: AdminPageQuerySchema,
        response: { 200: AdminGroupListSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).groups.list(request.query),
  );

  app.post(
    '/groups',
    {
      schema: {
        tags: TAGS,
        summary: 'Create a group',
        body: AdminGroupCreateSchema,
        response: { 201: AdminGroupSchema, ...errorResponses('confluence', { 409: 'A group with this name exists.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      const group = await administration(request.site).groups.create(request.body.name);
      return reply
        .code(201)
        .header('location', `${ADMIN_API_PREFIX}/groups/${segment(group.name)}`)
        .send(group);
    },
  );

  app.delete(
    '/groups/:name',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete a group and its memberships',
        params: GroupParamsSchema,
        response: {
          204: NoContent('Deleted.'),
          ...errorResponses('confluence', { 404: 'No group has this name.', 409: 'The site settings name the group.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).groups.delete(request.params.name);
      return reply.code(204).send();
    },
  );

  app.get(
    '/groups/:name/members',
    {
      schema: {
        tags: TAGS,
        summary: "List a group's members",
        params: GroupParamsSchema,
        querystring: AdminPageQuerySchema,
        response: { 200: AdminUserListSchema, ...errorResponses('confluence', { 404: 'No group has this name.' }) },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).groups.listMembers(request.params.name, request.query),
  );

  app.put(
    '/groups/:name/members/:accountId',
    {
      schema: {
        tags: TAGS,
        summary: 'Add a member (idempotent)',
        params: MemberParamsSchema,
        response: {
          204: NoContent('A member; also when already one.'),
          ...errorResponses('confluence', {
            404: 'The group or the user does not exist.',
            409: 'Bot users belong to no groups, or the change would leave the site without an active admin.',
          }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).groups.addMember(request.params.name, request.params.accountId);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/groups/:name/members/:accountId',
    {
      schema: {
        tags: TAGS,
        summary: 'Remove a member (idempotent)',
        params: MemberParamsSchema,
        response: {
          204: NoContent('Not a member; also when not one before.'),
          ...errorResponses('confluence', {
            404: 'The group or the user does not exist.',
            409: 'The change would leave the site without an active admin.',
          }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await administration(request.site).groups.removeMember(request.params.name, request.params.accountId);
      return reply.code(204).send();
    },
  );
};
