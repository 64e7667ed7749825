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
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../domain/errors.ts';
import type { Site, SiteService } from '../domain/site.ts';
import { andThen, type MaybePromise, settle } from '../lib/maybe-promise.ts';
import { TenantInfoSchema } from '../schemas/gateway.ts';
import { GATEWAY_PREFIX, isGatewayPath } from './paths.ts';

const TENANT_INFO_PATH = '/_edge/tenant_info';

export function registerGateway(app: FastifyInstance, { sites }: { sites: SiteService }): void {
  // Callback style: this hook runs on every request, and most are not gateway requests.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!isGatewayPath(request.url) || !GATEWAY_PREFIX.test(request.url)) return done();
    let checked: MaybePromise<void>;
    try {
      checked = andThen(sites.current(), checkCloudId, request);
    } catch (error) {
      done(error as Error);
      return;
    }
    settle(checked, done);
  });
}

/** A gateway path's cloudId must be the site's: any other is an unknown path. */
function checkCloudId(site: Site, request: FastifyRequest): void {
  const match = GATEWAY_PREFIX.exec(request.url)!;
  const cloudId = decoded(match[2]!);
  if (cloudId === site.cloudId) return;
  const path = request.url.split('?')[0];
  throw notFound(
    `No resource at ${request.method} ${path}: "${cloudId ?? match[2]}" is not this site's cloudId (see ${TENANT_INFO_PATH})`,
  );
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
