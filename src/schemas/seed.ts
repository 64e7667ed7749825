/** The seed file (docs/behaviour.md §8, normative). Every section is optional; unknown fields are errors. */
import Type, { type Static } from 'typebox';
import { SiteSettingsSchema } from './site.ts';

const Strict = { additionalProperties: false } as const;
const Name = Type.String({ minLength: 1 });
const AccountId = Type.String({ pattern: '^[A-Za-z0-9:_-]{1,128}$' });

/** A site's name (docs/behaviour.md §10); the same pattern as `SITE_NAME_PATTERN` in domain/site.ts. */
export const SiteNameSchema = Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$' });

const SeedSiteSchema = Type.Object(
  {
    name: Type.Optional(SiteNameSchema),
    cloudId: Type.Optional(Type.String({ format: 'uuid' })),
    baseUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://' })),
    anonymousAccess: Type.Optional(Type.Boolean()),
    emailApi: Type.Optional(Type.Enum(['enabled', 'disabled'])),
    xsrfCheck: Type.Optional(Type.Boolean()),
    canUseGroups: Type.Optional(Type.Array(Name)),
    adminGroups: Type.Optional(Type.Array(Name)),
    maxPropertyKeyLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
    maxPropertyValueBytes: Type.Optional(Type.Integer({ minimum: 2, maximum: 1024 * 1024 })),
    maxPropertiesPerUser: Type.Optional(Type.Integer({ minimum: 1 })),
    oauthTokenLifetimeSeconds: Type.Optional(SiteSettingsSchema.properties.oauthTokenLifetimeSeconds),
    failedCredentialsPerIdentity: Type.Optional(SiteSettingsSchema.properties.failedCredentialsPerIdentity),
    failedCredentialsPerAddress: Type.Optional(SiteSettingsSchema.properties.failedCredentialsPerAddress),
    journalSize: Type.Optional(SiteSettingsSchema.properties.journalSize),
    rateLimits: Type.Optional(SiteSettingsSchema.properties.rateLimits),
  },
  Strict,
);

const SeedUserSchema = Type.Object(
  {
    accountId: Type.Optional(AccountId),
    email: Type.String({ format: 'email' }),
    displayName: Name,
    publicName: Type.Optional(Name),
    timeZone: Type.Optional(Name),
    emailVisibility: Type.Optional(Type.Enum(['anyone', 'admins', 'private'])),
    username: Type.Optional(Name),
    userKey: Type.Optional(Name),
    externalCollaborator: Type.Optional(Type.Boolean()),
    active: Type.Optional(Type.Boolean()),
    groups: Type.Optional(Type.Array(Name)),
    apiTokens: Type.Optional(Type.Array(Type.String({ minLength: 8 }))),
  },
  Strict,
);

const ViewSchema = Type.Object(
  {
    groups: Type.Optional(Type.Array(Name)),
    users: Type.Optional(Type.Array(AccountId)),
    anonymous: Type.Optional(Type.Boolean()),
  },
  Strict,
);

const SeedSpaceSchema = Type.Object(
  {
    key: Type.String({ pattern: '^~?[A-Za-z0-9]{1,255}$' }),
    name: Name,
    type: Type.Optional(Type.Enum(['global', 'personal'])),
    /** null: a personal space whose owner was deleted (docs/behaviour.md §2), as an export writes it. */
    owner: Type.Optional(Type.Union([AccountId, Type.Null()])),
    view: Type.Optional(ViewSchema),
  },
  Strict,
);

const SeedContentSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[0-9]{1,18}$' }),
    type: Type.Optional(Type.Enum(['page', 'blogpost'])),
    space: Name,
    title: Name,
    labels: Type.Optional(Type.Array(Name)),
    restrictions: Type.Optional(
      Type.Object({ users: Type.Optional(Type.Array(AccountId)), groups: Type.Optional(Type.Array(Name)) }, Strict),
    ),
  },
  Strict,
);

const SeedAppSchema = Type.Object(
  {
    key: Name,
    /** docs/behaviour.md §13: default connect; a forge app's key is its app id, ari:cloud:ecosystem::app/<uuid>. */
    kind: Type.Optional(Type.Union([Type.Literal('connect'), Type.Literal('forge')])),
    name: Name,
    accountId: Type.Optional(AccountId),
    /** Required for a Connect app; a Forge app's defaults to its key. */
    clientKey: Type.Optional(Name),
    /** Absent: the app keeps its stored secrets, a new one gets a generated shared secret (docs/behaviour.md §11). */
    sharedSecret: Type.Optional(Type.String({ minLength: 32 })),
    oauthClientId: Type.Optional(Name),
    clientSecret: Type.Optional(Name),
    scopes: Type.Optional(Type.Array(Name)),
    emailAccess: Type.Optional(Type.Boolean()),
  },
  Strict,
);

const SeedWatchSchema = Type.Object(
  {
    user: AccountId,
    content: Type.Optional(Name),
    space: Type.Optional(Name),
    label: Type.Optional(Name),
  },
  Strict,
);

const SeedPropertySchema = Type.Object(
  {
    product: Type.Enum(['confluence', 'jira']),
    app: Type.Optional(Name),
    user: AccountId,
    key: Name,
    value: Type.Unknown(),
  },
  Strict,
);

export const SeedFileSchema = Type.Object(
  {
    site: Type.Optional(SeedSiteSchema),
    groups: Type.Optional(Type.Array(Name)),
    users: Type.Optional(Type.Array(SeedUserSchema)),
    labels: Type.Optional(Type.Array(Name)),
    spaces: Type.Optional(Type.Array(SeedSpaceSchema)),
    content: Type.Optional(Type.Array(SeedContentSchema)),
    apps: Type.Optional(Type.Array(SeedAppSchema)),
    watches: Type.Optional(Type.Array(SeedWatchSchema)),
    properties: Type.Optional(Type.Array(SeedPropertySchema)),
    /** What an export left out (docs/behaviour.md §11), e.g. `users[].apiTokens`; the loader ignores it. */
    omitted: Type.Optional(Type.Array(Type.String())),
  },
  Strict,
);
export type SeedFile = Static<typeof SeedFileSchema>;
export type SeedUser = Static<typeof SeedUserSchema>;
export type SeedApp = Static<typeof SeedAppSchema>;
