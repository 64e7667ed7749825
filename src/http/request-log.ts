/**
 * `--log-requests`: one JSON line per answered request (docs/decisions.md,
 * "Operations"). The line is built from named fields only, never from the
 * headers or the query string, so no credential can reach it: not the
 * Authorization header, not a `jwt` parameter, not a cookie.
 */
import type { FastifyInstance } from 'fastify';
import { callerAccountId, callingApp } from '../domain/principal.ts';
import { UNMATCHED_ROUTE } from './metrics.ts';

export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const principal = request.principal;
    const app = principal ? callingApp(principal) : undefined;
    const accountId = principal ? callerAccountId(principal) : undefined;
    request.log.info(
      {
        reqId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        responseTime: Math.round(reply.elapsedTime * 1000) / 1000,
        ...(principal && {
          principal: {
            kind: principal.kind,
            ...(accountId !== undefined && { accountId }),
            ...(app && { app: app.key }),
          },
        }),
      },
      'request',
    );
    done();
  });
}
