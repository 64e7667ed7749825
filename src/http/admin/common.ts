/** What every administration route shares. */
import type { Kysely } from 'kysely';
import type { Secrets } from '../../domain/secrets.ts';
import type { SiteService } from '../../domain/site.ts';
import type { Database } from '../../store/schema.ts';

export { ADMIN_API_PREFIX } from '../paths.ts';

export interface AdminRouteOptions {
  db: Kysely<Database>;
  secrets: Secrets;
  sites: SiteService;
}

/** Site admins only: anonymous → 401, everyone else, apps included → 403 (docs/behaviour.md §3; http/auth.ts). */
export const ADMIN_ACCESS = { access: { kind: 'admin' as const } };
