/**
 * Kysely table types: the storage shape, snake_case, kept apart from the API
 * shapes in `schemas/`. Flags are integers (0/1) and timestamps ISO-8601 text
 * on both stores, so every query outside `sqlite.ts`/`postgres.ts` is
 * dialect-agnostic.
 */
import type { Generated, Insertable, Selectable } from 'kysely';

/** One row per site (docs/behaviour.md §10); every other table's `site_id` points here. */
export interface SiteTable {
  id: Generated<number>;
  /** `^[a-z][a-z0-9-]{0,62}$`, unique. */
  name: string;
  cloud_id: string;
  base_url: string | null;
  /** The base URL's host:port, lower-cased, when the base URL has no path: rule 3 of §10 finds a site by it. */
  host: string | null;
  /** JSON text of the `SiteSettings` minus baseUrl (domain/site.ts). */
  settings: string;
  created_at: string;
  /** When first start ran; null until then (docs/behaviour.md §7). */
  first_started_at: string | null;
  /** JSON text of the §8 document the site was made from (the default site: the last start's `--seed`); null: none. */
  seed: Generated<string | null>;
  /** JSON text of the admin first start made (store/snapshots.ts `FirstAdmin`); null: none. */
  first_admin: Generated<string | null>;
}

/** The one row of what belongs to the server, not a site. */
export interface ServerTable {
  id: number;
  default_site_id: number | null;
  /** HMAC digest of the operator token; null while it is given as an option (docs/behaviour.md §10). */
  operator_token_digest: string | null;
  created_at: string;
}

export interface UserTable {
  site_id: number;
  account_id: string;
  account_type: 'atlassian' | 'app';
  email: string;
  /** Lower-cased email for the case-insensitive unique index; null for app bots. */
  email_lower: string | null;
  display_name: string;
  public_name: string;
  time_zone: string;
  email_visibility: 'anyone' | 'admins' | 'private';
  username: string | null;
  user_key: string | null;
  external_collaborator: number;
  active: number;
  created_at: string;
}

export interface GroupTable {
  site_id: number;
  id: string;
  name: string;
}

export interface GroupMemberTable {
  site_id: number;
  group_id: string;
  account_id: string;
}

export interface ApiTokenTable {
  site_id: number;
  id: string;
  account_id: string;
  name: string;
  /** HMAC-SHA256(secret key, token), hex. The token itself is never stored. */
  digest: string;
  created_at: string;
  expires_at: string | null;
}

export interface AppTable {
  site_id: number;
  key: string;
  name: string;
  client_key: string;
  /** AES-256-GCM ciphertext of the shared secret (domain/secrets.ts). */
  shared_secret: string;
  oauth_client_id: string | null;
  /** HMAC digest of the OAuth client secret: it is only ever compared. */
  client_secret_digest: string | null;
  /** JSON array of scope strings. */
  scopes: string;
  email_access: number;
  account_id: string;
  created_at: string;
  /** docs/behaviour.md §13: `connect` or `forge`; `connect` for apps from before Forge. */
  kind: Generated<'connect' | 'forge'>;
}

export interface PropertyTable {
  site_id: number;
  /** An integer; PostgreSQL's bigserial arrives as a string. */
  id: Generated<number | string>;
  product: 'confluence' | 'jira';
  namespace: string;
  account_id: string;
  key: string;
  /** Compact JSON.stringify text, so no store re-orders it. */
  value: string;
  version: number;
  created_at: string;
  updated_at: string;
}

/** Bearer tokens of `POST /oauth2/token` (store/oauth-tokens.ts). */
export interface OAuthTokenTable {
  site_id: number;
  id: string;
  /** HMAC-SHA256(secret key, token), hex. The token itself is never stored. */
  digest: string;
  app_key: string;
  /** The impersonated user (JWT-bearer grant, asUser); null for client_credentials (asApp). */
  account_id: string | null;
  /** JSON array of the scopes granted at issue. */
  scopes: string;
  created_at: string;
  expires_at: string;
}

// Spaces, content, labels and watches (docs/behaviour.md §2; store/spaces.ts, content.ts, watches.ts).

export interface SpaceTable {
  site_id: number;
  id: Generated<number>;
  key: string;
  name: string;
  type: 'global' | 'personal';
  /** A personal space's owner; null for global spaces and for a personal space whose owner was deleted. */
  owner_account_id: string | null;
  /** 1 when anyone may view, anonymous callers included. */
  view_anonymous: number;
  created_at: string;
}

export interface SpaceViewGroupTable {
  site_id: number;
  space_id: number;
  group_id: string;
}

export interface SpaceViewUserTable {
  site_id: number;
  space_id: number;
  account_id: string;
}

export interface ContentTable {
  site_id: number;
  /** A numeric string. */
  id: string;
  space_id: number;
  type: 'page' | 'blogpost';
  title: string;
  /** 1 when a view restriction was set: only its users and groups may view. */
  restricted: number;
  created_at: string;
}

export interface ContentViewUserTable {
  site_id: number;
  content_id: string;
  account_id: string;
}

export interface ContentViewGroupTable {
  site_id: number;
  content_id: string;
  group_id: string;
}

export interface LabelTable {
  site_id: number;
  /** Lower-cased. */
  name: string;
  created_at: string;
}

export interface ContentLabelTable {
  site_id: number;
  content_id: string;
  label: string;
}

export interface ContentWatchTable {
  site_id: number;
  account_id: string;
  content_id: string;
  created_at: string;
}

export interface SpaceWatchTable {
  site_id: number;
  account_id: string;
  space_id: number;
  created_at: string;
}

export interface LabelWatchTable {
  site_id: number;
  account_id: string;
  label: string;
  created_at: string;
}

/**
 * A snapshot of one site (docs/behaviour.md §11); its rows are in
 * `snapshot_<table>`, one per table of `SNAPSHOT_TABLES` (store/snapshots.ts).
 */
export interface SnapshotTable {
  id: Generated<number>;
  site_id: number;
  /** Null: the site's seed state, which reset restores. */
  name: string | null;
  /** The site's settings column then. */
  settings: string;
  created_at: string;
}

export interface Database {
  sites: SiteTable;
  server: ServerTable;
  users: UserTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  api_tokens: ApiTokenTable;
  apps: AppTable;
  properties: PropertyTable;
  oauth_tokens: OAuthTokenTable;
  spaces: SpaceTable;
  space_view_groups: SpaceViewGroupTable;
  space_view_users: SpaceViewUserTable;
  content: ContentTable;
  content_view_users: ContentViewUserTable;
  content_view_groups: ContentViewGroupTable;
  labels: LabelTable;
  content_labels: ContentLabelTable;
  content_watches: ContentWatchTable;
  space_watches: SpaceWatchTable;
  label_watches: LabelWatchTable;
  snapshots: SnapshotTable;
}

export type UserRow = Selectable<UserTable>;
export type AppRow = Selectable<AppTable>;
export type PropertyRow = Selectable<PropertyTable>;
export type NewUserRow = Insertable<UserTable>;
