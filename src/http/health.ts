/** `/healthz` (the process is up) and `/readyz` (the database answers), SPEC §7. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Kysely } from 'kysely';
import { ApiError } from '../domain/errors.ts';
import { ping } from '../store/database.ts';
import type { Database } from '../store/schema.ts';

const StatusSchema = Type.Object({ status: Type.String() });

export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Kysely<Database> }> = async (app, { db }) => {
  const options = { schema: { tags: ['Health'], response: { 200: StatusSchema } }, config: { access: { kind: 'public' as const } } };

  app.get('/healthz', options, async () => ({ status: 'ok' }));

  app.get('/readyz', options, async (request) => {
    try {
      await ping(db);
    } catch (error) {
      request.log.warn({ err: error, reqId: request.id }, 'readiness check failed');
      throw new ApiError('unavailable', 'The database is not answering');
    }
    return { status: 'ok' };
  });
};
