/**
 * The OAuth gateway forms (docs/behaviour.md §1). app.ts registers Confluence's routes
 * under `/ex/confluence/:cloudId` and Jira's under `/ex/jira/:cloudId`, so a
 * product answers only under its own name; this hook makes a cloudId other
 * than the site's an unknown path. It runs before routing's 404/405 and
 * before credentials (docs/behaviour.md §3 step 1), in the envelope of the path.
 *
 * Also `/_edge/tenant_info`, where Atlassian tells clients a site's cloudId.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../domain/errors.ts';
import type { Site, SiteService } from '../domain/site.ts';
import { TenantInfoSchema } from '../schemas/gateway.ts';
import { GATEWAY_PREFIX, isGatewayPath } from './paths.ts';

const TENANT_INFO_PATH = '/_edge/tenant_info';

export function registerGateway(app: FastifyInstance, deps: { sites: SiteService }): void {
  // Callback style: this hook runs on every request, and most are not gateway requests.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!isGatewayPath(request.url)) return done();
    const match = GATEWAY_PREFIX.exec(request.url);
    if (!match) return done();
    const cloudId = decoded(match[2]!);
    const check = (site: Site) => {
      if (cloudId === site.cloudId) return done();
      const path = request.url.split('?')[0];
      done(
        notFound(
          `No resource at ${request.method} ${path}: "${cloudId ?? match[2]}" is not this site's cloudId (see ${TENANT_INFO_PATH})`,
        ),
      );
    };
    const site = deps.sites.current();
    if (site instanceof Promise) site.then(check, done);
    else check(site);
  });
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export const tenantInfoRoutes: FastifyPluginAsyncTypebox<{ sites: SiteService }> = async (app, { sites }) => {
  app.get(
    TENANT_INFO_PATH,
    {
      schema: { tags: ['Site'], summary: "This site's cloudId", response: { 200: TenantInfoSchema } },
      config: { access: { kind: 'public' } },
    },
    async () => ({ cloudId: (await sites.current()).cloudId }),
  );
};
