/** Site settings (docs/behaviour.md §2): one schema for the seed, the store and the admin API. */
import Type, { type Static } from 'typebox';

/** Bounds of `oauthTokenLifetimeSeconds`: a minute to a day. */
export const MIN_OAUTH_TOKEN_LIFETIME_S = 60;
export const MAX_OAUTH_TOKEN_LIFETIME_S = 86_400;

/** The most failed credentials a minute either guessing limit may allow. */
export const MAX_FAILED_CREDENTIALS = 1_000_000;

/** The most requests a site's journal may keep on each instance (docs/behaviour.md §11). */
export const MAX_JOURNAL_SIZE = 100_000;

/** The most tokens a second, or points an hour, a rate-limit override may name. */
export const MAX_RATE_LIMIT = 100_000_000;

const Strict = { additionalProperties: false } as const;
const RateSchema = Type.Integer({ minimum: 1, maximum: MAX_RATE_LIMIT });

/**
 * docs/behaviour.md §12: `atlassian`'s numbers, overridden; what is not named is inherited.
 * `false` switches the burst limit or the quota off.
 */
export const RateLimitOverridesSchema = Type.Object(
  {
    burst: Type.Optional(
      Type.Union([
        Type.Object(
          {
            GET: Type.Optional(RateSchema),
            POST: Type.Optional(RateSchema),
            PUT: Type.Optional(RateSchema),
            DELETE: Type.Optional(RateSchema),
          },
          Strict,
        ),
        Type.Literal(false),
      ]),
    ),
    quota: Type.Optional(
      Type.Union([
        Type.Object({ globalPerHour: Type.Optional(RateSchema), sitePerHour: Type.Optional(RateSchema) }, Strict),
        Type.Literal(false),
      ]),
    ),
    betaHeaders: Type.Optional(Type.Boolean()),
  },
  Strict,
);
export type RateLimitOverrides = Static<typeof RateLimitOverridesSchema>;

/** docs/behaviour.md §12: `off`, Atlassian's limits, or Atlassian's with some numbers overridden. */
export const RateLimitsSettingSchema = Type.Union([
  Type.Literal('off'),
  Type.Literal('atlassian'),
  RateLimitOverridesSchema,
]);
export type RateLimitsSetting = Static<typeof RateLimitsSettingSchema>;

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
  /** docs/behaviour.md §12: burst limits and hourly quotas, `off` by default. */
  rateLimits: RateLimitsSettingSchema,
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
  rateLimits: 'off',
};
