/**
 * The administration API (docs/behaviour.md §9), served under `/admin/api`: site admins
 * only (every route declares `{kind: 'admin'}`; http/auth.ts answers 401 to
 * anonymous callers and 403 to everyone else, apps included), the
 * Confluence error envelope, JSON bodies with unknown fields refused.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminAppRoutes } from './apps.ts';
import type { AdminRouteOptions } from './common.ts';
import { adminContentRoutes } from './content.ts';
import { adminFaultRoutes } from './faults.ts';
import { adminGroupRoutes } from './groups.ts';
import { adminJournalRoutes } from './journal.ts';
import { adminOAuthTokenRoutes } from './oauth-tokens.ts';
import { adminRateLimitRoutes } from './rate-limits.ts';
import { adminSiteRoutes } from './site.ts';
import { adminSitesRoutes } from './sites.ts';
import { adminSnapshotRoutes } from './snapshots.ts';
import { adminSpaceRoutes } from './spaces.ts';
import { adminTokenRoutes } from './tokens.ts';
import { adminTransferRoutes } from './transfer.ts';
import { adminUserRoutes } from './users.ts';

export { ADMIN_API_PREFIX } from './common.ts';

export const adminRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, options) => {
  const { administration, sites, sitesAdmin, forgetCredentials, control, journal, faults, limiter } = options;
  // A change may revoke, replace or remove credentials: they end on this instance at once.
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') forgetCredentials();
    done();
  });
  // Not the options object itself: its `prefix` would apply a second time.
  for (const routes of [
    adminSitesRoutes,
    adminSiteRoutes,
    adminUserRoutes,
    adminTokenRoutes,
    adminGroupRoutes,
    adminAppRoutes,
    adminOAuthTokenRoutes,
    adminSpaceRoutes,
    adminContentRoutes,
    adminTransferRoutes,
    adminSnapshotRoutes,
    adminJournalRoutes,
    adminFaultRoutes,
    adminRateLimitRoutes,
  ]) {
    await app.register(routes, {
      administration,
      sites,
      sitesAdmin,
      forgetCredentials,
      control,
      journal,
      faults,
      limiter,
    });
  }
};
