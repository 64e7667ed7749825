/** Confluence user properties (docs/behaviour.md §5; UserProperty and UserPropertyKeyArray in reference/). */
import Type, { type Static } from 'typebox';
import { component, LinksSchema, PageQuerySchema } from './common.ts';

export const UserIdParamsSchema = Type.Object({
  userId: Type.String({ description: 'The accountId of the user.' }),
});

export const PropertyParamsSchema = Type.Object({
  userId: Type.String({ description: 'The accountId of the user.' }),
  key: Type.String({ description: 'The property key: letters, digits, "-" and "_".' }),
});

export const PropertyListQuerySchema = PageQuerySchema;

/**
 * The body's own rules ("value is empty", "value must be a JSON object", size
 * and depth) are checked in domain/user-properties.ts, so the messages are
 * the documented ones; the schema only requires a JSON object.
 */
export const UserPropertyBodySchema = Type.Object(
  { value: Type.Optional(Type.Unknown({ description: 'The value: a JSON object.' })) },
  { additionalProperties: true },
);

const ValueSchema = Type.Object({}, { additionalProperties: true, description: 'The value of the user property.' });

export const UserPropertySchema = Type.Object(
  {
    key: Type.String(),
    value: ValueSchema,
    id: Type.String(),
    createdDate: Type.String({ format: 'date-time' }),
    lastModifiedDate: Type.String({ format: 'date-time' }),
    _links: LinksSchema,
  },
  component('UserProperty'),
);
export type UserPropertyBody = Static<typeof UserPropertySchema>;

export const UserPropertyKeyArraySchema = Type.Object(
  {
    results: Type.Array(Type.Object({ key: Type.String() })),
    start: Type.Integer(),
    limit: Type.Integer(),
    size: Type.Integer(),
    _links: LinksSchema,
  },
  component('UserPropertyKeyArray'),
);
