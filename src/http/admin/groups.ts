/** Groups and memberships (SPEC §9). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  addAdminGroupMember,
  createAdminGroup,
  deleteAdminGroup,
  listAdminGroupMembers,
  listAdminGroups,
  removeAdminGroupMember,
} from '../../domain/admin/groups.ts';
import {
  AdminGroupCreateSchema,
  AdminGroupListSchema,
  AdminGroupSchema,
  AdminPageQuerySchema,
  AdminUserListSchema,
  GroupParamsSchema,
  MemberParamsSchema,
} from '../../schemas/admin.ts';
import { segment } from '../links.ts';
import { ADMIN_ACCESS, ADMIN_API_PREFIX, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: groups'];

export const adminGroupRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { db }) => {
  app.get(
    '/groups',
    {
      schema: { tags: TAGS, summary: 'List groups', querystring: AdminPageQuerySchema, response: { 200: AdminGroupListSchema } },
      config: ADMIN_ACCESS,
    },
    async (request) => listAdminGroups(db, request.query),
  );

  app.post(
    '/groups',
    {
      schema: { tags: TAGS, summary: 'Create a group', body: AdminGroupCreateSchema, response: { 201: AdminGroupSchema } },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      const group = await createAdminGroup(db, request.body.name);
      return reply.code(201).header('location', `${ADMIN_API_PREFIX}/groups/${segment(group.name)}`).send(group);
    },
  );

  app.delete(
    '/groups/:name',
    { schema: { tags: TAGS, summary: 'Delete a group and its memberships', params: GroupParamsSchema }, config: ADMIN_ACCESS },
    async (request, reply) => {
      await deleteAdminGroup(db, request.params.name);
      return reply.code(204).send();
    },
  );

  app.get(
    '/groups/:name/members',
    {
      schema: {
        tags: TAGS,
        summary: 'List a group\'s members',
        params: GroupParamsSchema,
        querystring: AdminPageQuerySchema,
        response: { 200: AdminUserListSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => listAdminGroupMembers(db, request.params.name, request.query),
  );

  app.put(
    '/groups/:name/members/:accountId',
    { schema: { tags: TAGS, summary: 'Add a member (idempotent)', params: MemberParamsSchema }, config: ADMIN_ACCESS },
    async (request, reply) => {
      await addAdminGroupMember(db, request.params.name, request.params.accountId);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/groups/:name/members/:accountId',
    { schema: { tags: TAGS, summary: 'Remove a member (idempotent)', params: MemberParamsSchema }, config: ADMIN_ACCESS },
    async (request, reply) => {
      await removeAdminGroupMember(db, request.params.name, request.params.accountId);
      return reply.code(204).send();
    },
  );
};
