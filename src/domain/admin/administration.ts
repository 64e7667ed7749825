/**
 * The administration services (docs/behaviour.md §9), one per area, built once
 * over the store: `/admin/api` (http/admin/) and the CLI's administration
 * commands (cli/) both call these, so a change obeys the same rules whichever
 * way it is made.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
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

  constructor(db: Kysely<Database>, secrets: Secrets) {
    this.site = new SiteAdmin(db);
    this.users = new UserAdmin(db);
    this.tokens = new TokenAdmin(db, secrets);
    this.oauthTokens = new OAuthTokenAdmin(db);
    this.groups = new GroupAdmin(db);
    this.apps = new AppAdmin(db, secrets);
    this.spaces = new SpaceAdmin(db);
    this.content = new ContentAdmin(db);
  }
}
