/**
 * Which site a request is for (docs/behaviour.md §10), decided before
 * routing's 404 and before credentials, in the envelope of the path:
 *
 * 1. `/ex/{product}/{cloudId}/…` → the site with that cloudId;
 * 2. `/sites/{name}/…` → that site, the rest of the path served as at the root;
 * 3. a `Host` equal to the host and port of a site's base URL → that site;
 * 4. otherwise the default site.
 *
 * `/sites/{name}` is taken off the URL before routing (`rewriteSitePrefix`,
 * Fastify's `rewriteUrl`), so every route is served under it unchanged; the
 * name travels on the raw request. Also `/_edge/tenant_info`, where Atlassian
 * tells clients a site's cloudId.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { atStep, notFound } from '../domain/errors.ts';
import { SITE_NAME_PATTERN, SITES_ROOT, type Site, type SiteService } from '../domain/site.ts';
import { andThen, type MaybePromise, recover, settle } from '../lib/maybe-promise.ts';
import { AccessibleResourceSchema, TenantInfoSchema } from '../schemas/gateway.ts';
import { ANONYMOUS_AVATAR_PATH } from './avatars.ts';
import { GATEWAY_PREFIX, isGatewayPath } from './paths.ts';

const TENANT_INFO_PATH = '/_edge/tenant_info';
export const ACCESSIBLE_RESOURCES_PATH = '/oauth/token/accessible-resources';

/** `/sites/{name}` at the start of a request target; captures the name as sent. */
const SITE_PREFIX = /^\/sites\/([^/?#]*)/;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A host and port as a base URL can name them; any other Host header names no site. */
const HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** How the site was chosen: `default` when nothing in the request named one. */
export type SiteSelector = 'gateway' | 'prefix' | 'host' | 'default';

const PREFIX = Symbol('userplane.sitePrefix');

interface TaggedRequest extends IncomingMessage {
  [PREFIX]?: { prefix: string; name: string | undefined };
}

declare module 'fastify' {
  interface FastifyRequest {
    site: Site;
    siteSelector: SiteSelector;
  }
}

/**
 * For Fastify's `rewriteUrl`: takes `/sites/{name}` off the URL, and keeps
 * it on the request. `/sites/acme?x` becomes `/?x`.
 */
export function rewriteSitePrefix(raw: IncomingMessage): string {
  const url = raw.url ?? '/';
  if (!url.startsWith(SITES_ROOT)) return url;
  const match = SITE_PREFIX.exec(url)!;
  (raw as TaggedRequest)[PREFIX] = { prefix: match[0], name: decoded(match[1]!) };
  const rest = url.slice(match[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** The `/sites/{name}` the request came with, as sent; undefined when none. */
export function sitePrefixOf(request: FastifyRequest): string | undefined {
  return (request.raw as TaggedRequest)[PREFIX]?.prefix;
}

export interface SiteSelectionOptions {
  sites: SiteService;
  /** The site id a bearer token belongs to, for the accessible-resources route (docs/behaviour.md §10). */
  siteOfBearerToken: (token: string) => Promise<number | undefined>;
}

export function registerSiteSelection(app: FastifyInstance, { sites, siteOfBearerToken }: SiteSelectionOptions): void {
  app.decorateRequest('site', null as never);
  app.decorateRequest('siteSelector', 'default');
  // Callback style, and synchronous while the site is cached: this runs on every request.
  app.addHook('onRequest', (request, _reply, done) => {
    // An unknown path is a 404 (or 405) of the path alone: it needs no site and no database,
    // except a gateway path, whose cloudId is checked first (docs/behaviour.md §3 step 1).
    if (request.is404 && !isGatewayPath(request.url)) return done();
    let selected: MaybePromise<void>;
    try {
      const bearer = request.url.startsWith(ACCESSIBLE_RESOURCES_PATH) ? bearerOf(request) : undefined;
      selected = andThen(
        bearer === undefined ? selectSite(request, sites) : tokenSite(request, sites, siteOfBearerToken(bearer)),
        setSite,
        request,
      );
    } catch (error) {
      done(error as Error);
      return;
    }
    settle(selected, done);
  });
}

/**
 * Accessible resources answer for the token's own site wherever they are
 * asked, as Atlassian's `api.atlassian.com` does; a token no site knows
 * falls back to the usual selection, and its 401.
 */
async function tokenSite(
  request: FastifyRequest,
  sites: SiteService,
  siteId: Promise<number | undefined>,
): Promise<Site> {
  const id = await siteId;
  const site = id === undefined ? undefined : await sites.byId(id);
  return site ?? selectSite(request, sites);
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined || !/^bearer /i.test(header)) return undefined;
  return header.slice('bearer '.length).trim();
}

/** Sites that cannot be read now leave an unrouted request without one. */
const unknownSite = (): undefined => undefined;

/**
 * The site an unknown path or method (404, 405) is for, by the same rules,
 * though the answer needs none (the request journal's, http/journal.ts);
 * undefined when the request names no site, or sites cannot be read now.
 */
export function siteOfUnroutedRequest(request: FastifyRequest, sites: SiteService): MaybePromise<Site | undefined> {
  try {
    return recover(selectSite(request, sites), unknownSite, undefined);
  } catch {
    return undefined;
  }
}

function setSite(site: Site, request: FastifyRequest): void {
  request.site = site;
}

function selectSite(request: FastifyRequest, sites: SiteService): MaybePromise<Site> {
  const tagged = (request.raw as TaggedRequest)[PREFIX];
  if (isGatewayPath(request.url)) {
    const match = GATEWAY_PREFIX.exec(request.url);
    if (match) {
      request.siteSelector = 'gateway';
      const cloudId = decoded(match[2]!);
      // Only a uuid can be a cloudId: nothing else is looked up.
      const found = cloudId !== undefined && UUID.test(cloudId) ? sites.byCloudId(cloudId) : undefined;
      return andThen(found, (site) => {
        if (site && (tagged === undefined || tagged.name === site.name)) return site;
        throw atStep(
          'route',
          notFound(
            `No resource at ${request.method} ${pathOf(request)}: "${match[2]}" is not this site's cloudId (see ${TENANT_INFO_PATH})`,
          ),
        );
      });
    }
  }
  if (tagged !== undefined) {
    request.siteSelector = 'prefix';
    const { name } = tagged;
    const found = name !== undefined && SITE_NAME_PATTERN.test(name) ? sites.byName(name) : undefined;
    return andThen(found, (site) => {
      if (site) return site;
      throw atStep(
        'route',
        notFound(`No site named "${tagged.name ?? tagged.prefix.slice(SITES_ROOT.length)}" on this server`),
      );
    });
  }
  const host = request.headers.host;
  if (host === undefined || !HOST.test(host)) return sites.defaultSite();
  return andThen(sites.byHost(host), (site) => {
    if (!site) return sites.defaultSite();
    request.siteSelector = 'host';
    return site;
  });
}

/** The path as the client sent it, prefix included: the query may hold a jwt, which no answer repeats. */
function pathOf(request: FastifyRequest): string {
  return request.originalUrl.split('?')[0]!;
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export const tenantInfoRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    TENANT_INFO_PATH,
    {
      schema: { tags: ['Site'], summary: "This site's cloudId", response: { 200: TenantInfoSchema } },
      config: { access: { kind: 'public' } },
    },
    async (request) => ({ cloudId: request.site.cloudId }),
  );
};

/**
 * `GET /oauth/token/accessible-resources` (docs/behaviour.md §10), as
 * Atlassian answers 3LO apps: the one site the bearer token belongs to, with
 * the scopes it carries.
 */
export const accessibleResourcesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    ACCESSIBLE_RESOURCES_PATH,
    {
      schema: {
        tags: ['Site'],
        summary: "The site a bearer token reaches, and the token's scopes",
        response: { 200: Type.Array(AccessibleResourceSchema) },
      },
      config: { access: { kind: 'token' } },
    },
    async (request) => {
      const { site, principal } = request;
      const scopes = principal.kind === 'app' || principal.kind === 'asUser' ? [...principal.scopes] : [];
      return [
        {
          id: site.cloudId,
          name: site.name,
          url: site.baseUrl,
          scopes,
          avatarUrl: `${site.baseUrl}${ANONYMOUS_AVATAR_PATH}`,
        },
      ];
    },
  );
};
