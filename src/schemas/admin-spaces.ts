/**
 * The administration API's spaces and content (docs/behaviour.md §9). Field names follow
 * the seed file (docs/behaviour.md §8: `view`, `owner`, `labels`, `restrictions`), so a
 * space or a page reads the same in both. Request bodies reject unknown
 * fields; a space's `key` and `type` and a content item's `id` are its
 * identity and cannot be changed.
 */
import Type, { type Static } from 'typebox';
import { ListOf, Nullable, Strict } from './admin.ts';
import { component, PageQuerySchema } from './common.ts';

const Names = (description: string) => Type.Array(Type.String(), { description });

// ---------------------------------------------------------------- spaces

const SpaceType = Type.Union([Type.Literal('global'), Type.Literal('personal')]);

export const AdminViewSchema = Type.Object(
  {
    groups: Names('Groups whose members may view the space, in code-point order.'),
    users: Names('accountIds of users who may view the space, in code-point order.'),
    anonymous: Type.Boolean({ description: 'Whether anyone may view it, anonymous callers included.' }),
  },
  component('AdminView'),
);

const ViewChange = Type.Object(
  {
    groups: Type.Optional(Names('Replaces the groups; each must exist.')),
    users: Type.Optional(Names('Replaces the users; each must exist.')),
    anonymous: Type.Optional(Type.Boolean()),
  },
  {
    ...Strict,
    description: 'The parts given replace the stored ones; the others are kept (a new space: nobody but its owner).',
  },
);

export const AdminSpaceSchema = Type.Object(
  {
    id: Type.Integer(),
    key: Type.String(),
    name: Type.String(),
    type: SpaceType,
    owner: Nullable(
      Type.String({ description: "A personal space's owner; null for a global space, or once the owner was deleted." }),
    ),
    view: AdminViewSchema,
  },
  component('AdminSpace'),
);
export type AdminSpace = Static<typeof AdminSpaceSchema>;
export const AdminSpaceListSchema = ListOf(AdminSpaceSchema, 'AdminSpaceList');

export const AdminSpaceCreateSchema = Type.Object(
  {
    key: Type.String({ description: 'Letters and digits, optionally after a leading ~; 1 to 255 characters.' }),
    name: Type.String({ description: '1 to 255 characters.' }),
    type: Type.Optional(SpaceType),
    owner: Type.Optional(
      Type.String({ description: 'Required for a personal space: the accountId of its owner, who has no other.' }),
    ),
    view: Type.Optional(ViewChange),
  },
  Strict,
);
export type AdminSpaceCreate = Static<typeof AdminSpaceCreateSchema>;

export const AdminSpacePatchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ description: '1 to 255 characters.' })),
    owner: Type.Optional(
      Nullable(Type.String({ description: "A personal space's new owner; null leaves it without one." })),
    ),
    view: Type.Optional(ViewChange),
  },
  Strict,
);
export type AdminSpacePatch = Static<typeof AdminSpacePatchSchema>;

export const SpaceKeyParamsSchema = Type.Object({ key: Type.String({ description: 'The space key.' }) });

// ---------------------------------------------------------------- content

const ContentType = Type.Union([Type.Literal('page'), Type.Literal('blogpost')]);

export const AdminRestrictionsSchema = Type.Object(
  {
    users: Names('accountIds of users who may view, in code-point order.'),
    groups: Names('Groups whose members may view, in code-point order.'),
  },
  component('AdminRestrictions'),
);

const RestrictionsChange = Type.Object(
  {
    users: Type.Optional(Names('Replaces the users; each must exist.')),
    groups: Type.Optional(Names('Replaces the groups; each must exist.')),
  },
  {
    ...Strict,
    description:
      'The parts given replace the stored ones. Content is restricted while they name anyone; empty lists lift the restriction.',
  },
);

export const AdminContentSchema = Type.Object(
  {
    id: Type.String({ description: 'A numeric string.' }),
    type: ContentType,
    title: Type.String(),
    space: Type.String({ description: 'The space key.' }),
    labels: Names('Lower-cased label names, in code-point order.'),
    restricted: Type.Boolean({
      description:
        'Whether a view restriction applies. It stays on when its users and groups are deleted, so content never opens up by itself.',
    }),
    restrictions: AdminRestrictionsSchema,
  },
  component('AdminContent'),
);
export type AdminContent = Static<typeof AdminContentSchema>;
export const AdminContentListSchema = ListOf(AdminContentSchema, 'AdminContentList');

export const AdminContentCreateSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ description: '1 to 18 digits; one past the largest id when absent.' })),
    type: Type.Optional(ContentType),
    space: Type.String({ description: 'The key of an existing space.' }),
    title: Type.String({ description: '1 to 255 characters.' }),
    labels: Type.Optional(Names('Label names; stored lower-cased, created when new.')),
    restrictions: Type.Optional(RestrictionsChange),
  },
  Strict,
);
export type AdminContentCreate = Static<typeof AdminContentCreateSchema>;

export const AdminContentPatchSchema = Type.Object(
  {
    type: Type.Optional(ContentType),
    title: Type.Optional(Type.String({ description: '1 to 255 characters.' })),
    space: Type.Optional(Type.String({ description: 'Moves the content to this existing space; its watches stay.' })),
    labels: Type.Optional(Names('Replaces the labels; labels no longer carried stay, with their watches.')),
    restrictions: Type.Optional(RestrictionsChange),
  },
  Strict,
);
export type AdminContentPatch = Static<typeof AdminContentPatchSchema>;

export const AdminContentListQuerySchema = Type.Object({
  ...PageQuerySchema.properties,
  space: Type.Optional(Type.String({ description: 'Only the content of this space.' })),
});

export const ContentIdParamsSchema = Type.Object({ id: Type.String({ description: 'The content id.' }) });
