/**
 * Kysely table types: the storage shape, snake_case, kept apart from the API
 * shapes in `schemas/`. Flags are integers (0/1) and timestamps ISO-8601 text
 * on both stores, so every query outside `sqlite.ts`/`postgres.ts` is
 * dialect-agnostic.
 */
import type { Generated, Insertable, Selectable } from 'kysely';

export interface SiteTable {
  id: number;
  cloud_id: string;
  base_url: string | null;
  /** JSON text of the `SiteSettings` minus baseUrl (domain/site.ts). */
  settings: string;
  created_at: string;
  /** When first start ran; null until then (docs/behaviour.md §7). */
  first_started_at: string | null;
}

export interface UserTable {
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
  id: string;
  name: string;
}

export interface GroupMemberTable {
  group_id: string;
  account_id: string;
}

export interface ApiTokenTable {
  id: string;
  account_id: string;
  name: string;
  /** HMAC-SHA256(secret key, token), hex. The token itself is never stored. */
  digest: string;
  created_at: string;
  expires_at: string | null;
}

export interface AppTable {
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
}

export interface PropertyTable {
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
  space_id: number;
  group_id: string;
}

export interface SpaceViewUserTable {
  space_id: number;
  account_id: string;
}

export interface ContentTable {
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
  content_id: string;
  account_id: string;
}

export interface ContentViewGroupTable {
  content_id: string;
  group_id: string;
}

export interface LabelTable {
  /** Lower-cased. */
  name: string;
  created_at: string;
}

export interface ContentLabelTable {
  content_id: string;
  label: string;
}

export interface ContentWatchTable {
  account_id: string;
  content_id: string;
  created_at: string;
}

export interface SpaceWatchTable {
  account_id: string;
  space_id: number;
  created_at: string;
}

export interface LabelWatchTable {
  account_id: string;
  label: string;
  created_at: string;
}

export interface Database {
  site: SiteTable;
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
}

export type UserRow = Selectable<UserTable>;
export type AppRow = Selectable<AppTable>;
export type PropertyRow = Selectable<PropertyTable>;
export type NewUserRow = Insertable<UserTable>;
