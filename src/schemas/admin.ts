/**
 * The administration API's shapes (docs/behaviour.md §9). Field names follow the seed
 * file (docs/behaviour.md §8), so a site, user or app reads the same in both. Request
 * bodies reject unknown fields, so a typo is a 400 that names it instead of
 * a silently ignored change. Secrets appear only in request bodies.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { component, PageQuerySchema } from './common.ts';
import { SiteNameSchema } from './seed.ts';
import { SiteSettingsSchema } from './site.ts';

export const Strict = { additionalProperties: false } as const;
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Lists: `{results, start, limit, size}` (docs/behaviour.md §9), named for the OpenAPI document. */
export function ListOf<T extends TSchema>(item: T, name: string) {
  return Type.Object(
    {
      results: Type.Array(item),
      start: Type.Integer(),
      limit: Type.Integer(),
      size: Type.Integer({ description: 'The number of results in this page.' }),
    },
    component(name),
  );
}

/** Paging for every admin list; limits above the maximum are clamped (docs/behaviour.md §4). */
export const ADMIN_PAGE = { defaultLimit: 100, maxLimit: 1000 } as const;
export const AdminPageQuerySchema = PageQuerySchema;

// ---------------------------------------------------------------- site

export const AdminSiteSchema = Type.Object(
  {
    cloudId: Type.String({ format: 'uuid' }),
    baseUrl: Nullable(Type.String({ description: 'The stored base URL; null when none is stored.' })),
    effectiveBaseUrl: Type.Optional(
      Type.String({
        description: 'The base URL links use: --base-url, else the stored one, else the listening address.',
      }),
    ),
    ...SiteSettingsSchema.properties,
  },
  component('AdminSite'),
);
export type AdminSite = Static<typeof AdminSiteSchema>;

const SettingsPatch = Type.Partial(SiteSettingsSchema);
export const AdminSitePatchSchema = Type.Object(
  {
    baseUrl: Type.Optional(Type.String({ description: 'http:// or https://, no query or fragment.' })),
    ...SettingsPatch.properties,
  },
  Strict,
);
export type AdminSitePatch = Static<typeof AdminSitePatchSchema>;

// ---------------------------------------------------------------- users

const EmailVisibility = Type.Union([Type.Literal('anyone'), Type.Literal('admins'), Type.Literal('private')]);
const Text = (description: string) => Type.String({ minLength: 1, maxLength: 255, description });

export const AdminUserSchema = Type.Object(
  {
    accountId: Type.String(),
    accountType: Type.Union([Type.Literal('atlassian'), Type.Literal('app')]),
    email: Type.String(),
    displayName: Type.String(),
    publicName: Type.String(),
    timeZone: Type.String(),
    emailVisibility: EmailVisibility,
    username: Nullable(Type.String()),
    userKey: Nullable(Type.String()),
    externalCollaborator: Type.Boolean(),
    active: Type.Boolean(),
    groups: Type.Array(Type.String(), { description: 'Group names, in code-point order.' }),
  },
  component('AdminUser'),
);
export type AdminUser = Static<typeof AdminUserSchema>;

export const AdminUserListSchema = ListOf(AdminUserSchema, 'AdminUserList');

export const AdminUserListQuerySchema = Type.Object({
  ...AdminPageQuerySchema.properties,
  query: Type.Optional(
    Type.String({ description: 'Case-insensitive substring of the display name, public name or email.' }),
  ),
});

const UserFields = {
  email: Type.String({ format: 'email', maxLength: 254 }),
  displayName: Text('The full name.'),
  publicName: Text('Defaults to displayName.'),
  timeZone: Text('An IANA time zone, e.g. Europe/Berlin; default UTC.'),
  emailVisibility: EmailVisibility,
  username: Nullable(Text('Legacy username; unique.')),
  userKey: Nullable(Text('Legacy user key; unique.')),
  externalCollaborator: Type.Boolean(),
  active: Type.Boolean({ description: 'false deactivates: the user keeps their data and can no longer authenticate.' }),
};

export const AdminUserCreateSchema = Type.Object(
  {
    accountId: Type.Optional(Type.String({ description: 'Generated as 712020:<uuid> when absent.' })),
    email: UserFields.email,
    displayName: UserFields.displayName,
    publicName: Type.Optional(UserFields.publicName),
    timeZone: Type.Optional(UserFields.timeZone),
    emailVisibility: Type.Optional(UserFields.emailVisibility),
    username: Type.Optional(UserFields.username),
    userKey: Type.Optional(UserFields.userKey),
    externalCollaborator: Type.Optional(UserFields.externalCollaborator),
    active: Type.Optional(UserFields.active),
    groups: Type.Optional(Type.Array(Type.String(), { description: 'Existing groups to add the user to.' })),
  },
  Strict,
);
export type AdminUserCreate = Static<typeof AdminUserCreateSchema>;

export const AdminUserPatchSchema = Type.Object(
  {
    email: Type.Optional(UserFields.email),
    displayName: Type.Optional(UserFields.displayName),
    publicName: Type.Optional(UserFields.publicName),
    timeZone: Type.Optional(UserFields.timeZone),
    emailVisibility: Type.Optional(UserFields.emailVisibility),
    username: Type.Optional(UserFields.username),
    userKey: Type.Optional(UserFields.userKey),
    externalCollaborator: Type.Optional(UserFields.externalCollaborator),
    active: Type.Optional(UserFields.active),
  },
  Strict,
);
export type AdminUserPatch = Static<typeof AdminUserPatchSchema>;

export const AccountIdParamsSchema = Type.Object({
  accountId: Type.String({ description: 'The accountId of the user.' }),
});

// ---------------------------------------------------------------- API tokens

export const AdminTokenSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    accountId: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Nullable(Type.String({ format: 'date-time' })),
  },
  component('AdminToken'),
);
export type AdminToken = Static<typeof AdminTokenSchema>;

/** The answer to a create: the only time the token itself is shown. */
export const AdminNewTokenSchema = Type.Object(
  {
    ...AdminTokenSchema.properties,
    token: Type.String({ description: 'The API token. Shown only this once; only its digest is stored.' }),
  },
  component('AdminNewToken'),
);
export type AdminNewToken = Static<typeof AdminNewTokenSchema>;

export const AdminTokenListSchema = ListOf(AdminTokenSchema, 'AdminTokenList');

export const AdminTokenCreateSchema = Type.Object(
  {
    name: Type.Optional(Text('A label for the token; default "API token".')),
    expiresAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the token stops working; never when absent.' }),
    ),
  },
  Strict,
);
export type AdminTokenCreate = Static<typeof AdminTokenCreateSchema>;

export const TokenIdParamsSchema = Type.Object({ id: Type.String({ description: 'The token id.' }) });

// ---------------------------------------------------------------- groups

export const AdminGroupSchema = Type.Object(
  { id: Type.String({ format: 'uuid' }), name: Type.String() },
  component('AdminGroup'),
);
export type AdminGroup = Static<typeof AdminGroupSchema>;
export const AdminGroupListSchema = ListOf(AdminGroupSchema, 'AdminGroupList');
export const AdminGroupCreateSchema = Type.Object(
  { name: Type.String({ description: 'Unique; 1 to 255 characters.' }) },
  Strict,
);
export const GroupParamsSchema = Type.Object({ name: Type.String({ description: 'The group name.' }) });
export const MemberParamsSchema = Type.Object({ name: Type.String(), accountId: Type.String() });

// ---------------------------------------------------------------- apps

const ScopeList = Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
  description:
    "Connect scopes (READ, WRITE, DELETE, ADMIN, ACT_AS_USER, …) and/or OAuth scope strings; a Forge app's: OAuth scope strings only.",
});

const AppKind = (description: string) => Type.Union([Type.Literal('connect'), Type.Literal('forge')], { description });

/** Secrets (sharedSecret, clientSecret) are write-only: never in a response. */
export const AdminAppSchema = Type.Object(
  {
    key: Type.String(),
    name: Type.String(),
    clientKey: Type.String(),
    oauthClientId: Nullable(Type.String()),
    hasClientSecret: Type.Boolean({
      description: 'Whether an OAuth client secret is set; the secret itself is never shown.',
    }),
    scopes: Type.Array(Type.String()),
    emailAccess: Type.Boolean(),
    accountId: Type.String({ description: "The app's bot user." }),
    kind: AppKind('docs/behaviour.md §13: a Connect app, or a Forge app keyed by its app id.'),
  },
  component('AdminApp'),
);
export type AdminApp = Static<typeof AdminAppSchema>;
export const AdminAppListSchema = ListOf(AdminAppSchema, 'AdminAppList');

export const AdminAppCreateSchema = Type.Object(
  {
    key: Type.String({
      description:
        'A Connect app: letters, digits, ".", "_" and "-"; 1 to 64 characters. A Forge app: its app id, ari:cloud:ecosystem::app/<uuid>.',
    }),
    kind: Type.Optional(AppKind('connect (the default) or forge (docs/behaviour.md §13).')),
    name: Text("Also the bot user's display name."),
    clientKey: Type.Optional(
      Text('The Connect clientKey; unique. Required for a Connect app; a Forge app: default its key.'),
    ),
    sharedSecret: Type.String({ description: 'At least 32 characters; stored encrypted.' }),
    oauthClientId: Type.Optional(Text('The OAuth client_id; unique.')),
    clientSecret: Type.Optional(Text('The OAuth client secret; stored as a digest.')),
    scopes: Type.Optional(ScopeList),
    emailAccess: Type.Optional(Type.Boolean()),
    accountId: Type.Optional(Type.String({ description: 'The bot user; default 557058:<uuidv5 of the key>.' })),
  },
  Strict,
);
export type AdminAppCreate = Static<typeof AdminAppCreateSchema>;

export const AdminAppPatchSchema = Type.Object(
  {
    name: Type.Optional(Text('Also renames the bot user.')),
    clientKey: Type.Optional(Text('The Connect clientKey; unique.')),
    sharedSecret: Type.Optional(Type.String({ description: 'At least 32 characters; stored encrypted.' })),
    oauthClientId: Type.Optional(Nullable(Text('The OAuth client_id; null removes it.'))),
    clientSecret: Type.Optional(Nullable(Text('The OAuth client secret; null removes it.'))),
    scopes: Type.Optional(ScopeList),
    emailAccess: Type.Optional(Type.Boolean()),
  },
  Strict,
);
export type AdminAppPatch = Static<typeof AdminAppPatchSchema>;

export const AppKeyParamsSchema = Type.Object({ key: Type.String({ description: 'The app key.' }) });

// ---------------------------------------------------------------- sites (the operator's, docs/behaviour.md §10)

export const AdminSiteSummarySchema = Type.Object(
  {
    name: SiteNameSchema,
    cloudId: Type.String({ format: 'uuid' }),
    baseUrl: Type.String({ description: "The base URL the site's links use." }),
    createdDate: Type.String({ format: 'date-time' }),
  },
  component('AdminSiteSummary'),
);
export type AdminSiteSummary = Static<typeof AdminSiteSummarySchema>;
export const AdminSiteSummaryListSchema = ListOf(AdminSiteSummarySchema, 'AdminSiteSummaryList');

export const AdminSiteCreateSchema = Type.Object(
  {
    name: Type.Optional(SiteNameSchema),
    baseUrl: Type.Optional(Type.String({ description: 'http:// or https://, no query or fragment.' })),
    seed: Type.Optional(
      Type.Unknown({ description: 'A seed document (docs/behaviour.md §8), as JSON: what the new site starts with.' }),
    ),
  },
  Strict,
);
export type AdminSiteCreate = Static<typeof AdminSiteCreateSchema>;

export const AdminCreatedSiteSchema = Type.Object(
  {
    name: SiteNameSchema,
    cloudId: Type.String({ format: 'uuid' }),
    baseUrl: Type.String(),
    admin: Nullable(
      Type.Object({
        email: Type.String(),
        accountId: Type.String(),
        apiToken: Type.String({ description: 'Shown only in this answer.' }),
      }),
    ),
  },
  component('AdminCreatedSite'),
);
export type AdminCreatedSite = Static<typeof AdminCreatedSiteSchema>;

export const SiteNameParamsSchema = Type.Object({ name: Type.String({ description: 'The site name.' }) });

// ---------------------------------------------------------------- snapshots (docs/behaviour.md §11)

export const AdminSnapshotSchema = Type.Object(
  {
    name: Type.String(),
    createdDate: Type.String({ format: 'date-time' }),
  },
  component('AdminSnapshot'),
);
export type AdminSnapshot = Static<typeof AdminSnapshotSchema>;
export const AdminSnapshotListSchema = ListOf(AdminSnapshotSchema, 'AdminSnapshotList');

export const AdminSnapshotCreateSchema = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z0-9._-]{1,64}$',
      description: '1 to 64 letters, digits, dots, underscores or hyphens; unique in the site.',
    }),
  },
  Strict,
);

export const SnapshotNameParamsSchema = Type.Object({ name: Type.String({ description: 'The snapshot name.' }) });
