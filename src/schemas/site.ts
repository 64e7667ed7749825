/** Site settings (docs/behaviour.md §2): one schema for the seed, the store and the admin API. */
import Type, { type Static } from 'typebox';

/** Bounds of `oauthTokenLifetimeSeconds`: a minute to a day. */
export const MIN_OAUTH_TOKEN_LIFETIME_S = 60;
export const MAX_OAUTH_TOKEN_LIFETIME_S = 86_400;

/** The most failed credentials a minute either guessing limit may allow. */
export const MAX_FAILED_CREDENTIALS = 1_000_000;

/** The most requests a site's journal may keep on each instance (docs/behaviour.md §11). */
export const MAX_JOURNAL_SIZE = 100_000;

export const SiteSettingsSchema = Type.Object({
  anonymousAccess: Type.Boolean(),
  emailApi: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  xsrfCheck: Type.Boolean(),
  canUseGroups: Type.Array(Type.String({ minLength: 1 })),
  adminGroups: Type.Array(Type.String({ minLength: 1 })),
  maxPropertyKeyLength: Type.Integer({ minimum: 1, maximum: 255 }),
  maxPropertyValueBytes: Type.Integer({ minimum: 2, maximum: 1024 * 1024 }),
  maxPropertiesPerUser: Type.Integer({ minimum: 1 }),
  /** How long a bearer token from `POST /oauth2/token` lives (docs/behaviour.md §3: one hour by default). */
  oauthTokenLifetimeSeconds: Type.Integer({ minimum: MIN_OAUTH_TOKEN_LIFETIME_S, maximum: MAX_OAUTH_TOKEN_LIFETIME_S }),
  /** docs/behaviour.md §3: failed credentials a minute naming one identity (email, app key, client_id) before 429s. */
  failedCredentialsPerIdentity: Type.Integer({ minimum: 1, maximum: MAX_FAILED_CREDENTIALS }),
  /** docs/behaviour.md §3: failed credentials a minute from one client address before 429s. */
  failedCredentialsPerAddress: Type.Integer({ minimum: 1, maximum: MAX_FAILED_CREDENTIALS }),
  /** docs/behaviour.md §11: the latest requests each instance keeps in the site's journal; 0 keeps none. */
  journalSize: Type.Integer({ minimum: 0, maximum: MAX_JOURNAL_SIZE }),
});
export type SiteSettings = Static<typeof SiteSettingsSchema>;

export const DEFAULT_SITE_SETTINGS: SiteSettings = {
  anonymousAccess: false,
  emailApi: 'enabled',
  xsrfCheck: true,
  canUseGroups: ['confluence-users', 'confluence-admins'],
  adminGroups: ['confluence-admins'],
  // Atlassian publishes no Confluence numbers; these follow Jira's documented
  // limits and Connect app properties' (docs/behaviour.md §5).
  maxPropertyKeyLength: 255,
  maxPropertyValueBytes: 32768,
  maxPropertiesPerUser: 100,
  oauthTokenLifetimeSeconds: 3600,
  failedCredentialsPerIdentity: 10,
  failedCredentialsPerAddress: 100,
  journalSize: 1000,
};
