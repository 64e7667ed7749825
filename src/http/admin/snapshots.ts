/**
 * Reset and snapshots of the request's site (docs/behaviour.md §11): site
 * admins of that site and the operator. The credential caches are emptied
 * after each of these, as after every administration change (index.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminPageQuerySchema,
  AdminSnapshotCreateSchema,
  AdminSnapshotListSchema,
  AdminSnapshotSchema,
  SnapshotNameParamsSchema,
} from '../../schemas/admin.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import { segment } from '../links.ts';
import { ADMIN_ACCESS, ADMIN_API_PREFIX, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: reset and snapshots'];

export const adminSnapshotRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { control }) => {
  app.post(
    '/reset',
    {
      schema: {
        tags: TAGS,
        summary: "Empty the site and bring back its seed state, the first-start admin's credentials included",
        response: { 204: NoContent('Reset.') },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await control.reset(request.site.id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/snapshots',
    {
      schema: {
        tags: TAGS,
        summary: "List the site's snapshots",
        querystring: AdminPageQuerySchema,
        response: { 200: AdminSnapshotListSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => control.list(request.site.id, request.query),
  );

  app.post(
    '/snapshots',
    {
      schema: {
        tags: TAGS,
        summary: 'Take a snapshot of the site, credentials included',
        body: AdminSnapshotCreateSchema,
        response: {
          201: AdminSnapshotSchema,
          ...errorResponses('confluence', { 409: 'The site has a snapshot of this name.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      const snapshot = await control.snapshot(request.site.id, request.body.name);
      return reply
        .code(201)
        .header('location', `${ADMIN_API_PREFIX}/snapshots/${segment(snapshot.name)}`)
        .send(snapshot);
    },
  );

  app.post(
    '/snapshots/:name/restore',
    {
      schema: {
        tags: TAGS,
        summary: 'Put the site back exactly as it was when the snapshot was taken',
        params: SnapshotNameParamsSchema,
        response: {
          204: NoContent('Restored.'),
          ...errorResponses('confluence', { 404: 'The site has no snapshot of this name.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await control.restore(request.site.id, request.params.name);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/snapshots/:name',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete a snapshot',
        params: SnapshotNameParamsSchema,
        response: {
          204: NoContent('Deleted.'),
          ...errorResponses('confluence', { 404: 'The site has no snapshot of this name.' }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      await control.delete(request.site.id, request.params.name);
      return reply.code(204).send();
    },
  );
};
