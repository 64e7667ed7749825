/**
 * Prometheus `/metrics`, when `--metrics` switches it on (docs/decisions.md,
 * "Operations"). prom-client is loaded only then. Requests are counted by
 * route template, never by the URL asked for, so ids and keys never become
 * label values; authentication outcomes by the scheme the caller presented.
 * Each app has its own registry: several apps in one process (the tests)
 * never share or clash over a metric. The database's figures are read from
 * plain hooks the store offers (`DatabaseObservations`); the store knows
 * nothing of prom-client.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../domain/errors.ts';
import type { FaultListener } from '../domain/faults.ts';
import { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_GRANT } from '../domain/oauth.ts';
import type { RefusalListener } from '../domain/rate-limits.ts';
import { OAUTH_PREFIX } from './paths.ts';

export const METRICS_PATH = '/metrics';

/** The route label of a request no route matched (404s, 405s): one value, whatever the path. */
export const UNMATCHED_ROUTE = '(unmatched)';

/** Seconds; the property routes answer in well under a millisecond, a slow database in seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Statements per SQLite group-commit batch: one alone, up to the thousands a burst of writes can gather. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/**
 * What `/metrics` reads of the database, where the store offers it (app.ts
 * passes the store's observations): PostgreSQL's pool, SQLite's group
 * commit. The shape is the store's; it is restated here because routes see
 * no store type.
 */
export interface DatabaseObservations {
  /** The pool's connections now, read at scrape time. */
  poolUse?(): PoolUse;
  /** Each group-commit batch's statement count, until the returned function is called. */
  watchBatches?(listener: (statements: number) => void): () => void;
}

/**
 * What `/metrics` hears of §12 (app.ts passes the site's limiter and fault
 * injector): each refusal of the rate limits, with its reason, and each fault
 * applied, with its action's kind. Both are told only of the rare event, so
 * an admitted request pays nothing for being counted.
 */
export interface LimitObservations {
  watchRefusals?(listener: RefusalListener): () => void;
  watchFaults?(listener: FaultListener): () => void;
}

interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

const TOKEN_ROUTE = `${OAUTH_PREFIX}/token`;

/** The token request's grant, as a bounded label: a forged grant_type never becomes a series of its own. */
function grantLabel(body: unknown): 'client_credentials' | 'jwt_bearer' | 'none' | 'other' {
  const grant = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).grant_type : undefined;
  if (grant === undefined || grant === '') return 'none';
  if (grant === CLIENT_CREDENTIALS_GRANT) return 'client_credentials';
  if (grant === JWT_BEARER_GRANT) return 'jwt_bearer';
  return 'other';
}

/**
 * How a token request ended: `issued`; RFC 6749's error code the answer
 * carried (`invalid_client`, `invalid_grant`, …); `throttled` for the
 * guessing limits' 429; `unavailable` for the database's 503; `error` for
 * any other 5xx. The same derivation as the envelope's (http/errors.ts).
 */
function tokenOutcome(status: number, error: unknown): string {
  if (status < 300) return 'issued';
  if (status === 429) return 'throttled';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'error';
  if (error instanceof ApiError && error.oauthError) return error.oauthError;
  return status === 401 ? 'invalid_client' : 'invalid_request';
}

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

export async function registerMetrics(
  app: FastifyInstance,
  database: DatabaseObservations = {},
  limits: LimitObservations = {},
): Promise<void> {
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

  const tokenRequests = new client.Counter({
    name: 'userplane_oauth_token_requests_total',
    help: 'POST /oauth2/token answers, by grant (client_credentials, jwt_bearer, none, other) and outcome (issued, an RFC 6749 error code, throttled, unavailable, error).',
    labelNames: ['grant_type', 'outcome'] as const,
    registers: [registry],
  });
  registerDatabaseMetrics(app, client, registry, database);
  registerLimitMetrics(app, client, registry, limits);

  // The error a token request failed with, for its outcome: read once, in onResponse.
  const tokenErrors = new WeakMap<FastifyRequest, unknown>();
  app.addHook('onError', (request, _reply, error, done) => {
    if (request.routeOptions.url === TOKEN_ROUTE) tokenErrors.set(request, error);
    done();
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
    if (labels.route === TOKEN_ROUTE && request.method === 'POST') {
      tokenRequests.inc({
        grant_type: grantLabel(request.body),
        outcome: tokenOutcome(reply.statusCode, tokenErrors.get(request)),
      });
    }
    done();
  });

  // Public by design: bind the server, or this path at the proxy, where only the scraper reaches it (README).
  app.get(METRICS_PATH, { schema: { hide: true }, config: { access: { kind: 'public' } } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}

/**
 * §12's refusals and faults as counters. Labels are closed sets: the six
 * `RateLimit-Reason` values and their kind (burst, quota); the three kinds of
 * action. Never a rule id, an app or a site, which are unbounded.
 */
function registerLimitMetrics(
  app: FastifyInstance,
  client: typeof import('prom-client'),
  registry: import('prom-client').Registry,
  { watchRefusals, watchFaults }: LimitObservations,
): void {
  const stops: Array<() => void> = [];
  if (watchRefusals) {
    const refused = new client.Counter({
      name: 'userplane_rate_limited_total',
      help: 'Requests the rate limits answered 429, by RateLimit-Reason (jira-burst-based, confluence-quota-tenant-based, …) and kind (burst, quota). Injected 429s are not counted here.',
      labelNames: ['reason', 'kind'] as const,
      registers: [registry],
    });
    stops.push(watchRefusals((reason, kind) => refused.inc({ reason, kind })));
  }
  if (watchFaults) {
    const faults = new client.Counter({
      name: 'userplane_faults_injected_total',
      help: 'Injected faults applied, by the kind of action (status, delay, reset).',
      labelNames: ['action'] as const,
      registers: [registry],
    });
    stops.push(watchFaults((action) => faults.inc({ action })));
  }
  if (stops.length > 0)
    app.addHook('onClose', (_instance, done) => {
      for (const stop of stops) stop();
      done();
    });
}

/**
 * PostgreSQL's pool as gauges, read from the pool when scraped; SQLite's
 * group-commit batch sizes as a histogram, told by the store after each
 * batch while this app lives. A store that offers neither gets neither.
 */
function registerDatabaseMetrics(
  app: FastifyInstance,
  client: typeof import('prom-client'),
  registry: import('prom-client').Registry,
  database: DatabaseObservations,
): void {
  const { poolUse, watchBatches } = database;
  if (poolUse) {
    const gauge = (name: string, help: string, read: (use: PoolUse) => number) =>
      new client.Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read(poolUse()));
        },
      });
    gauge(
      'userplane_database_pool_connections',
      'PostgreSQL connections open in the pool, idle or in use.',
      (u) => u.total,
    );
    gauge(
      'userplane_database_pool_idle_connections',
      'PostgreSQL connections open in the pool and idle.',
      (u) => u.idle,
    );
    gauge(
      'userplane_database_pool_waiting_requests',
      'Requests waiting for a PostgreSQL connection from the pool.',
      (u) => u.waiting,
    );
    gauge('userplane_database_pool_max_connections', 'The most connections the pool opens.', (u) => u.max);
  }
  if (watchBatches) {
    const batches = new client.Histogram({
      name: 'userplane_database_group_commit_statements',
      help: 'Statements per SQLite group-commit batch (writes that arrived in the same turn and shared one COMMIT).',
      buckets: BATCH_BUCKETS,
      registers: [registry],
    });
    const stop = watchBatches((statements) => batches.observe(statements));
    app.addHook('onClose', (_instance, done) => {
      stop();
      done();
    });
  }
}
