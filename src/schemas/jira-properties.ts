/** Jira user properties (docs/behaviour.md §6; PropertyKeys and EntityProperty in reference/jira-user-properties.openapi.json). */
import Type, { type Static } from 'typebox';
import { component } from './common.ts';

/**
 * Which user: `accountId`, else the legacy `userKey`, else `username`. Their
 * rules ("accountId is missing", at most 128 characters) are checked in
 * domain/jira-properties.ts, so the messages are the documented ones.
 */
export const JiraUserQuerySchema = Type.Object({
  accountId: Type.Optional(Type.String({ description: 'The accountId of the user; at most 128 characters.' })),
  userKey: Type.Optional(
    Type.String({ description: 'Deprecated: the legacy user key, used when accountId is absent.' }),
  ),
  username: Type.Optional(
    Type.String({ description: 'Deprecated: the legacy username, used when accountId and userKey are absent.' }),
  ),
});
export type JiraUserQuery = Static<typeof JiraUserQuerySchema>;

export const JiraPropertyParamsSchema = Type.Object({
  propertyKey: Type.String({ description: 'The key of the property: 1 to 255 characters, no control characters.' }),
});

/** Any JSON value but null; validated in domain/jira-properties.ts so the messages say which rule failed. */
export const JiraPropertyValueSchema = Type.Unknown({
  description: 'The value of the property: any non-empty JSON value of at most 32768 bytes, sent as application/json.',
});

export const EntityPropertySchema = Type.Object(
  {
    key: Type.String({ description: 'The key of the property.' }),
    value: Type.Unknown({ description: 'The value of the property.' }),
  },
  component('EntityProperty'),
);

export const PropertyKeysSchema = Type.Object(
  {
    keys: Type.Array(
      Type.Object({
        key: Type.String({ description: 'The key of the property.' }),
        self: Type.String({ description: 'The absolute URL of the property.' }),
      }),
    ),
  },
  component('PropertyKeys'),
);
export type PropertyKeys = Static<typeof PropertyKeysSchema>;

/** `GET …/user/properties/{propertyKey}`: the property, or the keys when the key is empty (Jira lists them then). */
export const EntityPropertyOrKeysSchema = Type.Union([EntityPropertySchema, PropertyKeysSchema]);
