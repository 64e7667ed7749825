/** What every administration route shares. */
import type { Administration } from '../../domain/admin/administration.ts';
import type { Site, SiteService } from '../../domain/site.ts';

export { ADMIN_API_PREFIX } from '../paths.ts';

export interface AdminRouteOptions {
  /** The administration services of the request's site. */
  administration: (site: Site) => Administration;
  sites: SiteService;
}

/** Site admins only: anonymous → 401, everyone else, apps included → 403 (docs/behaviour.md §3; http/auth.ts). */
export const ADMIN_ACCESS = { access: { kind: 'admin' as const } };
