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

export interface Database {
  site: SiteTable;
  users: UserTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  api_tokens: ApiTokenTable;
  apps: AppTable;
  properties: PropertyTable;
}

export type UserRow = Selectable<UserTable>;
export type AppRow = Selectable<AppTable>;
export type PropertyRow = Selectable<PropertyTable>;
export type NewUserRow = Insertable<UserTable>;
