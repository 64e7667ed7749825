/** What every administration route shares. */
import type { Administration } from '../../domain/admin/administration.ts';
import type { SitesAdmin } from '../../domain/admin/sites.ts';
import type { SiteControl } from '../../domain/admin/snapshots.ts';
import type { FaultInjector } from '../../domain/faults.ts';
import type { Journal } from '../../domain/journal.ts';
import type { RateLimiter } from '../../domain/rate-limits.ts';
import type { Site, SiteService } from '../../domain/site.ts';

export { ADMIN_API_PREFIX } from '../paths.ts';

export interface AdminRouteOptions {
  /** The administration services of the request's site. */
  administration: (site: Site) => Administration;
  /** The operator's sites (docs/behaviour.md §10). */
  sitesAdmin: SitesAdmin;
  /**
   * Forgets what this process caches of credentials and sites: called after
   * every administration change, so a revoked or replaced credential ends
   * here at once (other instances within a second, docs/behaviour.md §7).
   */
  forgetCredentials: () => void;
  sites: SiteService;
  /** Reset and snapshots of a site (docs/behaviour.md §11). */
  control: SiteControl;
  /** This instance's request journal (docs/behaviour.md §11). */
  journal: Journal;
  /** This instance's injected faults (docs/behaviour.md §12). */
  faults: FaultInjector;
  /** This instance's burst buckets and quota ledgers (docs/behaviour.md §12). */
  limiter: RateLimiter;
}

/** Site admins only: anonymous → 401, everyone else, apps included → 403 (docs/behaviour.md §3; http/auth.ts). */
export const ADMIN_ACCESS = { access: { kind: 'admin' as const } };
