/**
 * `GET /admin/api/export` and `POST /admin/api/import` (docs/behaviour.md §11): the
 * selected site as a seed document, and a seed document loaded into it.
 * JSON both ways; YAML with `Accept: application/yaml` on export and
 * `Content-Type: application/yaml` on import (this plugin's parser only).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { badRequest } from '../../domain/errors.ts';
import { formatDocument, parseDocument } from '../../domain/export.ts';
import { errorResponses } from '../../schemas/errors.ts';
import { SeedFileSchema } from '../../schemas/seed.ts';
import { ImportBodySchema, ImportSummarySchema } from '../../schemas/transfer.ts';
import { ADMIN_ACCESS, type AdminRouteOptions } from './common.ts';

const TAGS = ['Administration: export and import'];

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/** Whether the `Accept` header names a YAML type: then the export is YAML, else JSON. */
function wantsYaml(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept
    .split(',')
    .map((part) => part.split(';')[0]!.trim().toLowerCase())
    .some((type) => YAML_TYPES.includes(type));
}

export const adminTransferRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, { administration }) => {
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (request, body: string, done) => {
    if (request.is404) return done(null, undefined);
    if (body.includes('\0')) return done(badRequest('The request body contains a NUL character'), undefined);
    try {
      done(null, parseDocument(body));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.get(
    '/export',
    {
      schema: {
        tags: TAGS,
        summary: 'The site as a seed document: JSON, or YAML with Accept: application/yaml',
        description:
          'Every list sorted by its natural key. API tokens and app secrets are left out; `omitted` names them.',
        response: { 200: SeedFileSchema },
      },
      config: ADMIN_ACCESS,
    },
    async (request, reply) => {
      const document = await administration(request.site).transfer.export();
      if (!wantsYaml(request.headers.accept)) return document;
      // Text, sent as it is: the JSON serializer applies only to the JSON answer.
      return reply.type('application/yaml; charset=utf-8').send(formatDocument(document, 'yaml') as never);
    },
  );

  app.post(
    '/import',
    {
      schema: {
        tags: TAGS,
        summary: 'Load a seed document into the site: upsert, never delete, all or nothing',
        description:
          'JSON, or YAML with Content-Type: application/yaml. The rules of the seed file apply; of `site`, only the settings.',
        body: ImportBodySchema,
        response: {
          200: ImportSummarySchema,
          ...errorResponses('confluence', {
            409: 'The document would leave the site without an active admin.',
          }),
        },
      },
      config: ADMIN_ACCESS,
    },
    async (request) => administration(request.site).transfer.import(request.body),
  );
};
