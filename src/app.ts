/**
 * buildApp: the one place the HTTP server is wired together. It takes an
 * open store and the server's secrets; it never reads the environment.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyPluginCallback, LogController } from 'fastify';
import type { Kysely } from 'kysely';
import { type DestinationStream, pino } from 'pino';
import { Administration } from './domain/admin/administration.ts';
import { SitesAdmin } from './domain/admin/sites.ts';
import { SiteControl } from './domain/admin/snapshots.ts';
import { Authenticator } from './domain/authenticate.ts';
import { AvatarService } from './domain/avatars.ts';
import { DirectoryService } from './domain/directory.ts';
import { EmailService } from './domain/email.ts';
import { ApiError } from './domain/errors.ts';
import { FaultInjector } from './domain/faults.ts';
import { GuessingGuard } from './domain/guessing.ts';
import { JiraPropertyService } from './domain/jira-properties.ts';
import { Journal } from './domain/journal.ts';
import { TokenIssuer } from './domain/oauth.ts';
import { OperatorCredential } from './domain/operator.ts';
import { RateLimiter } from './domain/rate-limits.ts';
import { ReadinessCheck } from './domain/readiness.ts';
import type { Secrets } from './domain/secrets.ts';
import { type Site, SiteService } from './domain/site.ts';
import { ConfluencePropertyService } from './domain/user-properties.ts';
import { WatchService } from './domain/watches.ts';
import { adminRoutes } from './http/admin/index.ts';
import { registerAuth } from './http/auth.ts';
import { avatarRoutes } from './http/avatars.ts';
import { emailRoutes } from './http/confluence/email.ts';
import { userPropertyRoutes } from './http/confluence/user-properties.ts';
import { userDirectoryRoutes } from './http/confluence/users.ts';
import { watchRoutes } from './http/confluence/watches.ts';
import { Drain, registerDraining } from './http/draining.ts';
import { registerErrorHandling, sendError } from './http/errors.ts';
import { healthRoutes } from './http/health.ts';
import { CORS_PREFLIGHT_ROUTE } from './http/hygiene.ts';
import { jiraUserPropertyRoutes } from './http/jira/user-properties.ts';
import { registerJournal } from './http/journal.ts';
import { BODY_LIMIT_BYTES, registerJsonBody } from './http/json-body.ts';
import { oauthRoutes } from './http/oauth.ts';
import { openApiRoutes, registerOpenApi } from './http/openapi.ts';
import { type OperationsOptions, registerOperations } from './http/operations.ts';
import { ADMIN_API_PREFIX, CONFLUENCE_PREFIXES, DOCS_PREFIX, JIRA_PREFIXES, OAUTH_PREFIX } from './http/paths.ts';
import { accessibleResourcesRoutes, registerSiteSelection, rewriteSitePrefix, tenantInfoRoutes } from './http/sites.ts';
import { validatorCompiler } from './http/validation.ts';
import { type Clock, systemClock } from './lib/ttl-cache.ts';
import { StoreDb } from './store/database.ts';
import type { Database } from './store/schema.ts';

export interface AppOptions extends OperationsOptions {
  db: Kysely<Database>;
  secrets: Secrets;
  /** From --operator-token / USERPLANE_OPERATOR_TOKEN, when given (docs/behaviour.md §10). */
  operatorToken?: string;
  /** From --base-url / BASE_URL, when given. */
  baseUrl?: string;
  logLevel?: string;
  /** Where log lines go; standard output unless given (tests read them). */
  logDestination?: DestinationStream;
  /** What the one-second caches of the site and of credentials read the time from (tests move it by hand). */
  clock?: Clock;
  /** From --request-timeout: a request, headers and body, must arrive whole within it (docs/operations.md). */
  requestTimeoutMs?: number;
  /** Turns requests away while the server shuts down (server.ts); a fresh one when not given. */
  drain?: Drain;
  /**
   * From --trust-proxy (`trustedProxies` in config.ts): the peers whose
   * `X-Forwarded-For` names the client in `request.ip`, which the guessing
   * limits count by. Unset: the TCP peer, whatever the headers say.
   */
  trustProxy?: true | string[];
  /** The OpenTelemetry plugin (src/tracing.ts), when traces are on; registered before everything else. */
  tracing?: FastifyPluginCallback;
}

/** The longest path parameter the router matches, percent-encoded (docs/decisions.md). */
const MAX_PATH_PARAMETER_LENGTH = 2048;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const log = pino(
    {
      level: options.logLevel ?? 'info',
      redact: ['req.headers.authorization', 'req.headers.cookie', 'req.query.jwt'],
    },
    options.logDestination,
  );
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    // Our logger is handed to every request (`request.log`, `reply.log`) rather
    // than configured as Fastify's: with a logger of its own, Fastify times
    // every response and listens for its end, for request lines we turn off,
    // at about a tenth of a property read. Per-request lines cost a fifth of
    // the throughput; errors are still logged, with the request id. Without
    // request lines, a child logger per request buys nothing.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: () => log,
    requestIdHeader: 'x-request-id',
    // `/sites/{name}/…` is served as the root is, for that site (http/sites.ts).
    rewriteUrl: rewriteSitePrefix,
    ...(options.trustProxy !== undefined && { trustProxy: options.trustProxy }),
    ...requestTimeouts(options.requestTimeoutMs),
    // While closing, requests still arriving on open connections get the
    // product's envelope from http/draining.ts, not Fastify's own 503.
    return503OnClosing: false,
    // Keys reach 255 characters and accountIds 128, before percent-encoding.
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    // Errors before routing, such as a malformed percent-encoding in the path,
    // in the envelope of the path: Fastify would answer them in its own shape.
    frameworkErrors: (error, request, reply) => {
      if (error.code === 'FST_ERR_BAD_URL') {
        // The path only: the query may hold a jwt, which no answer repeats.
        const path = request.url.split('?')[0];
        return sendError(
          request,
          reply,
          new ApiError('bad_request', `The request URL is not valid: ${path} is not percent-encoded UTF-8`),
        );
      }
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        // A longer path parameter names nothing that can exist (docs/decisions.md "Requests and errors").
        return sendError(
          request,
          reply,
          new ApiError('bad_request', `A path parameter is longer than ${MAX_PATH_PARAMETER_LENGTH} characters`),
        );
      }
      request.log.error({ err: error, reqId: request.id }, 'routing error');
      return sendError(request, reply, new ApiError('internal', `Internal server error (request id ${request.id})`));
    },
  })
    .withTypeProvider<TypeBoxTypeProvider>()
    .setValidatorCompiler(validatorCompiler);
  // Fastify's own lines (listening, closing) and `app.log`, on the same logger.
  app.log = log;

  // Without a configured or stored base URL, links name the address the server listens on (docs/behaviour.md §7).
  const sites = new SiteService(options.db, options.baseUrl, () => listeningUrl(app), options.clock);
  const operator = new OperatorCredential(options.db, options.secrets, options.operatorToken, options.clock);
  const authenticator = new Authenticator(options.db, options.secrets, operator, options.clock);
  const guard = new GuessingGuard(options.clock);
  const confluenceProperties = new ConfluencePropertyService(options.db);
  const jiraProperties = new JiraPropertyService(options.db);
  const directory = new DirectoryService(options.db);
  const email = new EmailService(options.db);
  const watches = new WatchService(options.db);
  // This instance's request journal (docs/behaviour.md §11).
  const journal = new Journal();
  // Injected faults (docs/behaviour.md §12): per site, in memory on this instance.
  const faults = new FaultInjector();
  // This instance's burst buckets and quota ledgers (docs/behaviour.md §12).
  const limiter = new RateLimiter(options.clock ?? systemClock);
  // What this process keeps of a site outside the database, forgotten after a
  // reset or restore (§11) and when the site is deleted (§10).
  const forgetSite = (siteId: number) => {
    journal.clear(siteId);
    faults.clear(siteId);
    limiter.clear(siteId);
  };
  const control = new SiteControl(options.db, options.secrets);
  control.onReset(forgetSite);

  // Before any hook or route, each of which it wraps as it is added.
  if (options.tracing) await app.register(options.tracing);
  // Then the document generator, which collects every route registered after it.
  await registerOpenApi(app);
  registerErrorHandling(app);
  // Before the gateway and auth hooks: a server that is shutting down checks nothing.
  registerDraining(app, options.drain ?? new Drain());
  registerJsonBody(app);
  // Before the site selection, whose refusals it records, and before every route it records.
  const recordUnanswered = registerJournal(app, { journal, sites });
  registerSiteSelection(app, { sites, siteOfBearerToken: (token) => authenticator.siteOfBearerToken(token) });
  registerAuth(app, {
    authenticator,
    guard,
    limiter,
    publicPrefixes: [DOCS_PREFIX, CORS_PREFLIGHT_ROUTE],
    faults,
    recordUnanswered,
  });
  // The store's figures for /metrics (pool use, group-commit batches), where it offers them.
  const database = options.database ?? (options.db instanceof StoreDb ? options.db.observations : undefined);
  const limits = { watchRefusals: limiter.watch.bind(limiter), watchFaults: faults.watch.bind(faults) };
  await registerOperations(app, { ...options, database, limits });

  await app.register(healthRoutes, { readiness: new ReadinessCheck(options.db) });
  await app.register(openApiRoutes);
  await app.register(adminRoutes, {
    prefix: ADMIN_API_PREFIX,
    administration: (site: Site) => new Administration(options.db, options.secrets, site.id, sites.serverBaseUrl()),
    sites,
    sitesAdmin: new SitesAdmin(options.db, options.secrets, sites, forgetSite),
    journal,
    faults,
    limiter,
    forgetCredentials: () => {
      authenticator.forget();
      sites.invalidate();
    },
    control,
  });
  await app.register(avatarRoutes, { avatars: new AvatarService(options.db) });
  await app.register(tenantInfoRoutes);
  await app.register(accessibleResourcesRoutes);
  await app.register(oauthRoutes, {
    prefix: OAUTH_PREFIX,
    issuer: new TokenIssuer(options.db, options.secrets, sites),
    guard,
  });
  for (const { prefix, version } of JIRA_PREFIXES) {
    await app.register(jiraUserPropertyRoutes, { prefix, properties: jiraProperties, version });
  }
  for (const prefix of CONFLUENCE_PREFIXES) {
    await app.register(userPropertyRoutes, { prefix, properties: confluenceProperties });
    await app.register(userDirectoryRoutes, { prefix, directory });
    await app.register(emailRoutes, { prefix, email });
    await app.register(watchRoutes, { prefix, watches });
  }
  return app;
}

/**
 * Node's own request timeouts (docs/operations.md): headers and body must
 * both arrive within `ms` of the connection's first byte, or the socket is
 * answered 408 and closed. Node checks them at an interval, 30 s by
 * default; checking every second keeps the cut close to the limit.
 */
function requestTimeouts(ms: number | undefined) {
  if (ms === undefined) return {};
  const checkEvery = Math.min(1000, ms);
  return {
    requestTimeout: ms,
    http: { requestTimeout: ms, headersTimeout: ms, connectionsCheckingInterval: checkEvery },
  };
}

function listeningUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return 'http://127.0.0.1';
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
