/**
 * The Confluence user directory's API shapes (docs/behaviour.md §4; User, UserAnonymous,
 * BulkUserLookupArray, GroupArrayWithLinks, MigratedUserArray and
 * AccountIdEmailRecord in reference/confluence-user-api.openapi.json).
 * One schema per shape: it validates the query, serialises the answer and
 * types the route.
 */
import Type, { type Static } from 'typebox';
import { component, LinksSchema } from './common.ts';

// ── Requests ───────────────────────────────────────────────────────────────

/**
 * A list parameter: comma-joined (`accountId=a,b`, as confluence.js sends
 * it) and/or repeated (`key=a&key=b`). Splitting happens in the domain.
 */
const ListParam = (description: string) => Type.Optional(Type.Array(Type.String(), { description }));

const ExpandParam = ListParam(
  'Comma list of properties to expand: operations, personalSpace, isExternalCollaborator, details.personal, details.business. Unknown values are ignored.',
);

const AccountIdParam = Type.Optional(Type.String({ description: 'The accountId of the user. Required.' }));

/** Legacy identifiers: refused on /user and /user/memberof with a message naming accountId (docs/behaviour.md §4). */
const LegacyParams = {
  key: Type.Optional(Type.String({ description: 'No longer supported: use accountId.', deprecated: true })),
  userKey: Type.Optional(Type.String({ description: 'No longer supported: use accountId.', deprecated: true })),
  username: Type.Optional(Type.String({ description: 'No longer supported: use accountId.', deprecated: true })),
};

const Start = Type.Optional(Type.Integer({ minimum: 0, description: 'Index of the first item to return.' }));
const Limit = (max: number) =>
  Type.Optional(
    Type.Integer({
      minimum: 0,
      description: `Maximum number of items to return (default and maximum ${max}; larger values are clamped).`,
    }),
  );

export const GetUserQuerySchema = Type.Object({ accountId: AccountIdParam, ...LegacyParams, expand: ExpandParam });
export type GetUserQuery = Static<typeof GetUserQuerySchema>;

export const ExpandQuerySchema = Type.Object({ expand: ExpandParam });

export const MemberOfQuerySchema = Type.Object({
  accountId: AccountIdParam,
  ...LegacyParams,
  start: Start,
  limit: Limit(200),
});
export type MemberOfQuery = Static<typeof MemberOfQuerySchema>;

export const BulkQuerySchema = Type.Object({
  accountId: ListParam(
    'The accountIds of the users, comma-joined or repeated. Required; the first `limit` distinct ids are looked up.',
  ),
  expand: ExpandParam,
  limit: Limit(200),
});

export const MigrationQuerySchema = Type.Object({
  key: ListParam('Legacy user keys, comma-joined or repeated. Give key or username, not both.'),
  username: ListParam('Legacy usernames, comma-joined or repeated. Give key or username, not both.'),
  start: Start,
  limit: Limit(200),
});

export const EmailQuerySchema = Type.Object({ accountId: AccountIdParam });
export const EmailBulkQuerySchema = Type.Object({
  accountId: ListParam('The accountIds of the users, comma-joined or repeated. Required.'),
});

// ── Responses ──────────────────────────────────────────────────────────────

export const IconSchema = Type.Object(
  {
    path: Type.String({ description: 'Relative to the site: `/wiki/aa-avatar/<accountId>` serves the image.' }),
    width: Type.Integer(),
    height: Type.Integer(),
    isDefault: Type.Boolean(),
  },
  component('Icon'),
);
export type Icon = Static<typeof IconSchema>;

export const OperationCheckResultSchema = Type.Object(
  {
    operation: Type.String({ description: '`use` or `administer`.' }),
    targetType: Type.String({ description: 'Always `application` for users.' }),
  },
  component('OperationCheckResult'),
);
export type OperationCheckResult = Static<typeof OperationCheckResultSchema>;

/** docs/behaviour.md §4: a personal space, when the user owns one. */
export const PersonalSpaceSchema = Type.Object(
  {
    id: Type.Integer(),
    key: Type.String(),
    name: Type.String(),
    type: Type.String(),
    status: Type.String(),
    _expandable: Type.Object({}, { additionalProperties: true }),
    _links: LinksSchema,
  },
  component('PersonalSpace'),
);

/** Deprecated in Atlassian's Users reference: `personal` holds only `email`, for the user themselves or an admin. */
const UserDetailsSchema = Type.Object({
  personal: Type.Optional(Type.Object({ email: Type.Optional(Type.String()) })),
  business: Type.Optional(Type.Object({})),
});

export const UserSchema = Type.Object(
  {
    type: Type.String({ description: 'Always `known` for a user.' }),
    accountId: Type.String(),
    accountType: Type.String({ description: "`atlassian`, or `app` for an app's bot user." }),
    email: Type.String({ description: "Empty unless the caller may see it (the user's email visibility)." }),
    publicName: Type.String(),
    profilePicture: IconSchema,
    displayName: Type.String(),
    timeZone: Type.String(),
    isExternalCollaborator: Type.Boolean(),
    externalCollaborator: Type.Boolean(),
    operations: Type.Optional(Type.Array(OperationCheckResultSchema)),
    details: Type.Optional(UserDetailsSchema),
    personalSpace: Type.Optional(PersonalSpaceSchema),
    _expandable: Type.Object({
      operations: Type.Optional(Type.String()),
      details: Type.Optional(Type.String()),
      personalSpace: Type.Optional(Type.String()),
    }),
    _links: LinksSchema,
  },
  component('User'),
);
export type UserBody = Static<typeof UserSchema>;

export const AnonymousUserSchema = Type.Object(
  {
    type: Type.String({ description: 'Always `anonymous`.' }),
    displayName: Type.String(),
    profilePicture: IconSchema,
    operations: Type.Optional(Type.Array(OperationCheckResultSchema)),
    _links: LinksSchema,
  },
  component('UserAnonymous'),
);
export type AnonymousUserBody = Static<typeof AnonymousUserSchema>;

/** `/user/current` answers a user, or the anonymous shape to an anonymous caller. */
export const CurrentUserSchema = Type.Union([UserSchema, AnonymousUserSchema]);

const ListFields = {
  start: Type.Integer(),
  limit: Type.Integer(),
  size: Type.Integer({ description: 'The number of results in this page.' }),
  _links: LinksSchema,
};

export const BulkUserLookupArraySchema = Type.Object(
  { results: Type.Array(UserSchema), ...ListFields },
  component('BulkUserLookupArray'),
);

export const GroupSchema = Type.Object(
  {
    type: Type.String({ description: 'Always `group`.' }),
    name: Type.String(),
    id: Type.String(),
    _links: Type.Object({ self: Type.String() }, { additionalProperties: true }),
  },
  component('Group'),
);

export const GroupArrayWithLinksSchema = Type.Object(
  { results: Type.Array(GroupSchema), ...ListFields },
  component('GroupArrayWithLinks'),
);

export const MigratedUserSchema = Type.Object(
  {
    username: Type.Optional(Type.String()),
    key: Type.Optional(Type.String()),
    accountId: Type.String(),
  },
  component('MigratedUser'),
);

export const MigratedUserArraySchema = Type.Object(
  { results: Type.Array(MigratedUserSchema), ...ListFields },
  component('MigratedUserArray'),
);

export const AccountIdEmailRecordSchema = Type.Object(
  { accountId: Type.String(), email: Type.String() },
  component('AccountIdEmailRecord'),
);
export const AccountIdEmailRecordArraySchema = Type.Array(
  AccountIdEmailRecordSchema,
  component('AccountIdEmailRecordArray'),
);
