/**
 * Prometheus `/metrics`, when `--metrics` switches it on (docs/decisions.md,
 * "Operations"). prom-client is loaded only then. Requests are counted by
 * route template, never by the URL asked for, so ids and keys never become
 * label values; authentication outcomes by the scheme the caller presented.
 * Each app has its own registry: several apps in one process (the tests)
 * never share or clash over a metric.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const METRICS_PATH = '/metrics';

/** The route label of a request no route matched (404s, 405s): one value, whatever the path. */
export const UNMATCHED_ROUTE = '(unmatched)';

/** Seconds; the property routes answer in well under a millisecond, a slow database in seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The credential a request presented: an Authorization scheme, a `jwt` query parameter, or none. */
export type CredentialMode = 'basic' | 'jwt' | 'bearer' | 'anonymous' | 'unsupported';

export function credentialMode(request: FastifyRequest): CredentialMode {
  if ((request.query as Record<string, unknown> | undefined)?.jwt !== undefined) return 'jwt';
  const header = request.headers.authorization;
  if (header === undefined) return 'anonymous';
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  return scheme === 'basic' || scheme === 'jwt' || scheme === 'bearer' ? scheme : 'unsupported';
}

/**
 * How authentication ended on a protected route: a 401 is a failure of the
 * credential presented; a 429 a refusal after too many failures
 * (domain/guessing.ts), before the credential was checked; a principal (with
 * any other status, a 403 included) is a success. Public routes read no credentials and count nothing, nor do
 * answers given before the auth hook ran (an unknown cloudId, a shed request).
 */
function authOutcome(request: FastifyRequest, status: number): 'ok' | 'failed' | 'throttled' | undefined {
  const access = request.routeOptions.config?.access;
  if (!access || access.kind === 'public') return undefined;
  if (status === 401) return 'failed';
  if (status === 429) return 'throttled';
  return request.principal ? 'ok' : undefined;
}

export async function registerMetrics(app: FastifyInstance): Promise<void> {
  const client = await import('prom-client');
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: 'userplane_http_requests_total',
    help: 'Requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'userplane_http_request_duration_seconds',
    help: 'Time from the request to the end of its answer, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const authentications = new client.Counter({
    name: 'userplane_authentications_total',
    help: 'Authentication outcomes on protected routes, by the credential presented (basic, jwt, bearer, anonymous, unsupported).',
    labelNames: ['mode', 'outcome'] as const,
    registers: [registry],
  });

  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
    const outcome = authOutcome(request, reply.statusCode);
    if (outcome) authentications.inc({ mode: credentialMode(request), outcome });
    done();
  });

  // Public by design: bind the server, or this path at the proxy, where only the scraper reaches it (README).
  app.get(METRICS_PATH, { schema: { hide: true }, config: { access: { kind: 'public' } } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
