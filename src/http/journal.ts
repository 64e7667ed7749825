/**
 * Recording the request journal (docs/behaviour.md §11; domain/journal.ts
 * keeps it): the product routes, `POST /oauth2/token` and
 * `/oauth/token/accessible-resources`, and unknown paths and methods under
 * their prefixes, in the journal of the request's site.
 *
 * On the hot routes (docs/architecture.md "Hot routes"): one clock read when
 * the request arrives, and, when the answer is sent, an `onSend` hook made
 * once per route that reads the clock twice and hands the journal one
 * record of values the request already holds. No closure or promise per
 * request; with `journalSize` 0, no record either. `onSend` rather than
 * `onResponse`: a route with an `onResponse` hook makes Fastify listen for
 * the end of every response.
 *
 * Never recorded: the `Authorization` header, bodies, and the `jwt` query
 * parameter (taken out when the journal is read).
 */
import type { FastifyInstance, FastifyRequest, onSendHookHandler } from 'fastify';
import { type AuthMode, type Journal, JournalRecord } from '../domain/journal.ts';
import type { Principal } from '../domain/principal.ts';
import type { SiteService } from '../domain/site.ts';
import { andThen } from '../lib/maybe-promise.ts';
import type { RouteAccess } from './auth.ts';
import { CONFLUENCE_API_ALIAS, GATEWAY_ROOT, OAUTH_PREFIX, WIKI_CONTEXT } from './paths.ts';
import { ACCESSIBLE_RESOURCES_PATH, siteOfUnroutedRequest } from './sites.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** `performance.now()` when the request arrived, for the journal's `durationMs`. */
    arrivedAt: number;
  }
}

const TOKEN_PATH = `${OAUTH_PREFIX}/token`;

/** Paths whose unknown routes and methods are journaled: the products', the gateway's and OAuth's. */
const JOURNALED_PREFIXES = [
  `${WIKI_CONTEXT}/`,
  `${CONFLUENCE_API_ALIAS}/`,
  GATEWAY_ROOT,
  `${OAUTH_PREFIX}/`,
  ACCESSIBLE_RESOURCES_PATH,
];

/** Records a request that got no answer (a fault rule's `reset`, http/faults.ts). */
export type RecordUnanswered = (request: FastifyRequest) => void;

export interface JournalOptions {
  journal: Journal;
  sites: SiteService;
}

/**
 * Registered before the site selection (whose failures are journaled too)
 * and before every route, whose `onSend` hooks it adds as they are registered.
 */
export function registerJournal(app: FastifyInstance, { journal, sites }: JournalOptions): RecordUnanswered {
  app.decorateRequest('arrivedAt', 0);
  app.addHook('onRequest', (request, _reply, done) => {
    request.arrivedAt = performance.now();
    done();
  });

  const record = (request: FastifyRequest, status: number, operation: string | null): void => {
    const { site } = request;
    // No site (an unknown cloudId or site name) is no journal; neither is a journalSize of 0.
    if (site === null || site.settings.journalSize === 0) return;
    journal.record(
      site,
      new JournalRecord(
        request.method,
        request.url,
        status,
        performance.now() - request.arrivedAt,
        operation,
        authModeOf(request),
        request.principal,
        request.failure,
      ),
    );
  };

  app.addHook('onRoute', (route) => {
    const operation = journaledOperation(route.config?.access, route.url);
    if (operation === undefined) return;
    // One hook per route, its operation in the closure.
    const recordRoute: onSendHookHandler = (request, reply, payload, done) => {
      record(request, reply.statusCode, operation);
      done(null, payload);
    };
    route.onSend = [...[route.onSend ?? []].flat(), recordRoute];
  });

  // Unknown paths and methods (404, 405) under the journaled prefixes: the router
  // matched no route, and http/sites.ts chose no site for them, so one is found here.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.is404 || !JOURNALED_PREFIXES.some((prefix) => request.url.startsWith(prefix))) {
      done(null, payload);
      return;
    }
    andThen(request.site ?? siteOfUnroutedRequest(request, sites), (site) => {
      if (site !== undefined) {
        request.site = site;
        record(request, reply.statusCode, null);
      }
      done(null, payload);
    });
  });

  // A request a fault rule ended with no answer (http/faults.ts): journaled with status 0.
  return (request) => {
    const access = request.routeOptions.config.access;
    record(request, 0, journaledOperation(access, request.routeOptions.url ?? '') ?? null);
  };
}

/** The operation a route's journal entries name: its operation id, or null; undefined when the route is not journaled. */
function journaledOperation(access: RouteAccess | undefined, url: string): string | null | undefined {
  if (access?.kind === 'product') return access.operation;
  if (access?.kind === 'token' || url === TOKEN_PATH) return null;
  return undefined;
}

/** From the principal when the credentials resolved to one; else from the credential sent. */
export function authModeOf(request: FastifyRequest): AuthMode {
  const principal: Principal | null = request.principal;
  if (principal !== null) {
    switch (principal.kind) {
      case 'anonymous':
        return 'none';
      case 'user':
        return 'basic';
      // docs/behaviour.md §13: a Forge app's calls, asApp and asUser, by the tokens issued to it.
      case 'app':
        return principal.app.kind === 'forge' ? 'forge' : principal.via;
      case 'asUser':
        return principal.app.kind === 'forge' ? 'forge' : 'bearer';
      case 'operator':
        return 'bearer';
    }
  }
  const header = request.headers.authorization;
  if (header === undefined) {
    const query = request.query as Record<string, unknown> | undefined;
    return query?.jwt === undefined ? 'none' : 'jwt';
  }
  if (BASIC.test(header)) return 'basic';
  if (JWT.test(header)) return 'jwt';
  if (BEARER.test(header)) return 'bearer';
  return 'none';
}

const BASIC = /^basic(?:\s|$)/i;
const JWT = /^jwt(?:\s|$)/i;
const BEARER = /^bearer(?:\s|$)/i;
