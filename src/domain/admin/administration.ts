/**
 * The administration services (docs/behaviour.md §9) of one site, one per
 * area: `/admin/api` (http/admin/) and the CLI's administration commands
 * (cli/) both call these, so a change obeys the same rules whichever way it
 * is made. They are cheap to make: one set per request's site.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import { SiteTransfer } from '../export.ts';
import type { Secrets } from '../secrets.ts';
import { AppAdmin } from './apps.ts';
import { ContentAdmin } from './content.ts';
import { GroupAdmin } from './groups.ts';
import { OAuthTokenAdmin } from './oauth-tokens.ts';
import { SiteAdmin } from './site.ts';
import { SpaceAdmin } from './spaces.ts';
import { TokenAdmin } from './tokens.ts';
import { UserAdmin } from './users.ts';

export class Administration {
  readonly site: SiteAdmin;
  readonly users: UserAdmin;
  readonly tokens: TokenAdmin;
  readonly oauthTokens: OAuthTokenAdmin;
  readonly groups: GroupAdmin;
  readonly apps: AppAdmin;
  readonly spaces: SpaceAdmin;
  readonly content: ContentAdmin;
  /** Export and import (docs/behaviour.md §11). */
  readonly transfer: SiteTransfer;

  /** `serverBaseUrl`: the server base URL, where it is known (not in the CLI). */
  constructor(db: Kysely<Database>, secrets: Secrets, siteId: number, serverBaseUrl?: string) {
    this.site = new SiteAdmin(db, siteId, serverBaseUrl);
    this.users = new UserAdmin(db, siteId);
    this.tokens = new TokenAdmin(db, siteId, secrets);
    this.oauthTokens = new OAuthTokenAdmin(db, siteId);
    this.groups = new GroupAdmin(db, siteId);
    this.apps = new AppAdmin(db, siteId, secrets);
    this.spaces = new SpaceAdmin(db, siteId);
    this.content = new ContentAdmin(db, siteId);
    this.transfer = new SiteTransfer(db, secrets, siteId);
  }
}
