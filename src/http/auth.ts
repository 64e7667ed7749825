/**
 * Authentication and route-level policy, as one `onRequest` hook: the
 * request's credentials become a principal (domain/authenticate.ts), then
 * the route's declared access is enforced — in docs/behaviour.md §3's order: 401 for
 * credentials, then 403 for can-use and scopes — before any body is read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, onSendHookHandler } from 'fastify';
import type { Authenticator } from '../domain/authenticate.ts';
import { ApiError, atStep, forbidden, unauthenticated } from '../domain/errors.ts';
import type { FaultInjector } from '../domain/faults.ts';
import { basicIdentity, type GuessingGuard, jwtIdentity } from '../domain/guessing.ts';
import { ANONYMOUS, actingUser, canUse, isAdmin, type Principal } from '../domain/principal.ts';
import { type RateLimiter, requestPoints } from '../domain/rate-limits.ts';
import { describeScopes, OPERATION_SCOPES, type OperationId, scopesAllow } from '../domain/scopes.ts';
import type { Site } from '../domain/site.ts';
import { andThen, type MaybePromise, recover, settle } from '../lib/maybe-promise.ts';
import { injectFault } from './faults.ts';
import type { RecordUnanswered } from './journal.ts';
import { withoutGatewayPrefix } from './paths.ts';
import { sitePrefixOf } from './sites.ts';

/** What a route declares in `config.access`. */
export type RouteAccess =
  /** No credentials needed or read: health, docs, tenant info. */
  | { kind: 'public' }
  /** A Confluence or Jira operation; `anonymous` when anonymous callers may use it on sites that allow them. */
  | { kind: 'product'; operation: OperationId; anonymous?: boolean }
  /** userplane's administration API: site admins and the operator. */
  | { kind: 'admin' }
  /** The server's sites (docs/behaviour.md §10): the operator only. */
  | { kind: 'operator' }
  /** What a bearer token of `POST /oauth2/token` may reach (accessible resources): that token only. */
  | { kind: 'token' };

/** One served method and path, and what it declared: the source of docs/scopes.md (http/scope-table.ts). */
export interface RouteAccessEntry {
  method: string;
  /** As registered, e.g. `/wiki/rest/api/user/:userId/property/:key`. */
  url: string;
  access: RouteAccess;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    /** Every route registered so far, with its declared access, in registration order. */
    routeAccess: readonly RouteAccessEntry[];
  }
}

export interface AuthOptions {
  authenticator: Authenticator;
  /** Counts failed credentials and refuses guessers (docs/behaviour.md §3). */
  guard: GuessingGuard;
  /** Burst limits and quotas (docs/behaviour.md §12), checked once the principal is known. */
  limiter: RateLimiter;
  /**
   * Path prefixes whose routes a third-party plugin registers without
   * `config.access`, all public by design (the `/docs` page's assets).
   */
  publicPrefixes?: readonly string[];
  /** Injected faults (docs/behaviour.md §12), applied to product routes after credentials. */
  faults?: FaultInjector;
  /** Journals a request a fault ended with no answer (http/journal.ts). */
  recordUnanswered?: RecordUnanswered;
}

export function registerAuth(app: FastifyInstance, { publicPrefixes = [], ...deps }: AuthOptions): void {
  app.decorateRequest('principal', null as never);

  const table: RouteAccessEntry[] = [];
  app.decorate('routeAccess', table);

  // Each protected route gets its own hook, with its access rule in the closure.
  app.addHook('onRoute', (route) => {
    const access =
      route.config?.access ??
      (publicPrefixes.some((prefix) => route.url.startsWith(`${prefix}/`) || route.url === prefix)
        ? PUBLIC
        : undefined);
    // docs/behaviour.md §3: every route declares what it needs; one that forgot would be open to anyone.
    if (!access)
      throw new Error(
        `${[route.method].flat().join(', ')} ${route.url} declares no config.access (public, product or admin)`,
      );
    for (const method of [route.method].flat()) table.push({ method, url: route.url, access });
    if (access.kind === 'public') return;
    const admit = admitter(access, deps);
    route.onRequest = [admit, ...[route.onRequest ?? []].flat()];
    if (access.kind === 'product') route.onSend = [...[route.onSend ?? []].flat(), charger(access, deps.limiter)];
  });
}

/**
 * The hook for one route, once http/sites.ts chose the site: the guessing check, then
 * credentials → principal (a failure counted against the address and the
 * identity the credential names), then the route's access rule.
 *
 * A hot path (lib/maybe-promise.ts): callback style, and synchronous while
 * the site and the credential's outcome are cached, as they are for nearly
 * every request; an async hook would cost a promise and two trips through
 * the microtask queue on every protected request. The steps are made once
 * per route and get the request as `andThen`'s context.
 */
function admitter(
  access: ProtectedAccess,
  { authenticator, guard, faults, recordUnanswered, limiter }: Omit<AuthOptions, 'publicPrefixes'>,
): onRequestHookHandler {
  const operation = access.kind === 'product' ? access.operation : undefined;
  const product = operation?.startsWith('jira.') ? 'jira' : 'confluence';
  // A failure is counted where the 401 is made. The cached success path
  // meets one clock read (mayRefuse) and a try: no await, no allocation.
  const counted = (error: unknown, request: FastifyRequest): unknown => {
    if (error instanceof ApiError && error.code === 'unauthenticated')
      guard.failed(request.ip, claimedIdentity(request), request.site.settings);
    return error;
  };
  const rethrowCounted = (error: unknown, request: FastifyRequest): never => {
    throw counted(error, request);
  };
  const identify = (request: FastifyRequest): MaybePromise<Principal> => {
    const { site } = request;
    // Refused before the credential is checked, so a guesser learns nothing more.
    if (guard.mayRefuse()) guard.check(request.ip, claimedIdentity(request), site.settings);
    let principal: MaybePromise<Principal>;
    try {
      principal = resolvePrincipal(request, authenticator);
    } catch (error) {
      throw counted(error, request);
    }
    return recover(principal, rethrowCounted, request);
  };
  // Step 3 (docs/behaviour.md §12): the rate limits once the credentials passed, before can-use and scopes. Off: one comparison.
  const limitAndEnforce = (principal: Principal, request: FastifyRequest): void => {
    const { site } = request;
    if (operation !== undefined && site.settings.rateLimits !== 'off' && passedCredentials(access, principal, site))
      limiter.check(site, operation, request.method, principal, product);
    enforce(access, principal, site);
  };
  // Given the reply (a fault may end the connection), whose `request` it reads.
  const admit = (principal: Principal, reply: FastifyReply): MaybePromise<void> => {
    const { request } = reply;
    request.principal = principal;
    const { site } = request;
    // Injected faults (docs/behaviour.md §12): after credentials, before step 3. A site
    // without rules costs one Map lookup.
    if (faults !== undefined && operation !== undefined) {
      const rules = faults.rulesOf(site.id);
      if (rules !== undefined && passedCredentials(access, principal, site)) {
        const delayed = injectFault(faults, rules, operation, reply, recordUnanswered);
        if (delayed !== undefined) return delayed.then(() => limitAndEnforce(principal, request));
      }
    }
    limitAndEnforce(principal, request);
  };
  return (request, reply, done) => {
    let admitted: MaybePromise<void>;
    try {
      admitted = andThen(identify(request), admit, reply);
    } catch (error) {
      done(error as Error);
      return;
    }
    settle(admitted, done);
  };
}

/**
 * The `onSend` hook of a product route: charges an app's answered request to its
 * quota and adds the quota's headers (docs/behaviour.md §12). Refused requests
 * cost nothing. Off: one comparison.
 */
function charger(access: { operation: OperationId }, limiter: RateLimiter): onSendHookHandler {
  const { operation } = access;
  return (request, reply, payload, done) => {
    const site = request.site;
    if (site === null || site.settings.rateLimits === 'off' || reply.statusCode >= 400 || !request.principal) {
      done(null, payload);
      return;
    }
    const headers = limiter.charge(site, request.principal, requestPoints(operation, request.method, payload));
    if (headers !== undefined) reply.headers(headers);
    done(null, payload);
  };
}

function resolvePrincipal(request: FastifyRequest, authenticator: Authenticator): MaybePromise<Principal> {
  const header = request.headers.authorization;
  const queryJwt = (request.query as Record<string, unknown> | undefined)?.jwt;
  if (header !== undefined && queryJwt !== undefined) {
    throw unauthenticated('Send one credential: both an Authorization header and a jwt query parameter were given');
  }
  if (queryJwt !== undefined) {
    if (typeof queryJwt !== 'string') throw unauthenticated('Send one jwt query parameter');
    return authenticator.connectJwt(
      request.site.id,
      queryJwt,
      request.method,
      withoutGatewayPrefix(request.url),
      sitePrefixOf(request),
    );
  }
  if (header === undefined) return ANONYMOUS;

  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const credential = space === -1 ? '' : header.slice(space + 1).trim();
  switch (scheme) {
    case 'basic':
      return authenticator.basic(request.site.id, credential);
    case 'jwt':
      return authenticator.connectJwt(
        request.site.id,
        credential,
        request.method,
        withoutGatewayPrefix(request.url),
        sitePrefixOf(request),
      );
    case 'bearer':
      return authenticator.bearer(request.site.id, credential);
    default:
      // The journal's reason leaves out the "scheme": a header without a space is all scheme, perhaps a bare token.
      throw atStep(
        'credentials',
        unauthenticated(`Unsupported Authorization scheme "${scheme}": use Basic, JWT or Bearer`),
        'Unsupported Authorization scheme: use Basic, JWT or Bearer',
      );
  }
}

/**
 * The identity a request's credential names, for the guessing counts: a
 * Basic credential's email or a Connect JWT's `iss`; a bearer token names
 * none beyond the address.
 */
function claimedIdentity(request: FastifyRequest): string | undefined {
  const named = namedIdentity(request);
  // An identity belongs to its site (docs/behaviour.md §10): one email on two sites is two identities.
  return named === undefined ? undefined : `${request.site.id} ${named}`;
}

function namedIdentity(request: FastifyRequest): string | undefined {
  const queryJwt = (request.query as Record<string, unknown> | undefined)?.jwt;
  if (typeof queryJwt === 'string') return jwtIdentity(queryJwt);
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const space = header.indexOf(' ');
  if (space === -1) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const credential = header.slice(space + 1).trim();
  if (scheme === 'basic') return basicIdentity(credential);
  if (scheme === 'jwt') return jwtIdentity(credential);
  return undefined;
}

/** Whether a product route's caller passed step 2: anyone but an anonymous caller the route or site refuses. */
function passedCredentials(access: ProtectedAccess, principal: Principal, site: Site): boolean {
  if (principal.kind !== 'anonymous') return true;
  return access.kind === 'product' && access.anonymous === true && site.settings.anonymousAccess;
}

const PUBLIC: RouteAccess = { kind: 'public' };

type ProtectedAccess = Exclude<RouteAccess, { kind: 'public' }>;

function enforce(access: ProtectedAccess, principal: Principal, site: Site): void {
  const { settings } = site;
  if (access.kind === 'operator') {
    if (principal.kind === 'operator') return;
    if (principal.kind === 'anonymous')
      throw unauthenticated("Authentication required: sites are managed with the server's operator token");
    throw forbidden("Only the server's operator may manage sites: send the operator token as a Bearer credential");
  }
  if (access.kind === 'admin') {
    if (principal.kind === 'operator') return;
    if (principal.kind === 'anonymous')
      throw unauthenticated('Authentication required: the administration API is for site admins');
    if (principal.kind !== 'user' || !isAdmin(principal.user, settings)) {
      throw forbidden('Only site admins may use the administration API');
    }
    return;
  }
  if (principal.kind === 'operator') {
    throw atStep(
      'can-use',
      forbidden('The operator token is for the administration API only: call products as a user or an app'),
    );
  }
  if (access.kind === 'token') {
    if (principal.kind === 'asUser' || (principal.kind === 'app' && principal.via === 'bearer')) return;
    if (principal.kind === 'anonymous')
      throw unauthenticated('Authentication required: send a bearer token from POST /oauth2/token');
    throw atStep('can-use', forbidden('Only a bearer token from POST /oauth2/token lists its accessible resources'));
  }

  if (principal.kind === 'anonymous') {
    if (access.anonymous && settings.anonymousAccess) return;
    throw unauthenticated(
      settings.anonymousAccess
        ? 'Authentication required: anonymous callers may only read users and groups'
        : 'Authentication required: this site does not allow anonymous access',
    );
  }
  // An app acting as itself skips "Can use"; an impersonated user is checked (docs/behaviour.md §3).
  const user = actingUser(principal);
  if (user && !canUse(user, settings)) {
    throw atStep(
      'can-use',
      forbidden(`User ${user.accountId} may not use this site: not a member of ${settings.canUseGroups.join(' or ')}`),
    );
  }
  // Basic-auth users are not scope-limited; app credentials are: a Connect JWT
  // with the app's scopes, a bearer token with those granted at issue.
  if (principal.kind === 'app' || principal.kind === 'asUser') {
    const needed = OPERATION_SCOPES[access.operation];
    if (!scopesAllow(principal.scopes, needed)) {
      const bearer = principal.kind === 'asUser' || principal.via === 'bearer';
      const granted = bearer ? ` (this bearer token carries ${principal.scopes.join(' ') || 'no scope'})` : '';
      const scopes = describeScopes(needed);
      throw atStep(
        'scope',
        forbidden(`App ${principal.app.key} lacks the scope for this operation: it needs ${scopes}${granted}`),
        `needs ${scopes}`,
      );
    }
  }
}
