/**
 * `/healthz` (the process is up) and `/readyz` (the database answers),
 * docs/behaviour.md §7. While the server shuts down, both answer 503 (http/draining.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ApiError } from '../domain/errors.ts';
import type { ReadinessCheck } from '../domain/readiness.ts';
import { DATABASE_RETRY_AFTER_SECONDS } from '../domain/unavailable.ts';
import { errorResponses } from '../schemas/errors.ts';

const StatusSchema = Type.Object({ status: Type.String() });

export interface HealthRoutesOptions {
  readiness: ReadinessCheck;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { readiness }) => {
  const config = { access: { kind: 'public' as const } };

  app.get(
    '/healthz',
    { schema: { tags: ['Health'], summary: 'The process is up', response: { 200: StatusSchema } }, config },
    async () => ({ status: 'ok' }),
  );

  const readySchema = {
    tags: ['Health'],
    summary: 'The database answers',
    response: { 200: StatusSchema, ...errorResponses('confluence', { 503: 'The database is not answering.' }) },
  };
  app.get('/readyz', { schema: readySchema, config }, async (request) => {
    try {
      await readiness.check();
    } catch (error) {
      request.log.warn({ err: error, reqId: request.id }, 'readiness check failed');
      throw new ApiError('unavailable', 'The database is not answering', {
        'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS),
      });
    }
    return { status: 'ok' };
  });
};
