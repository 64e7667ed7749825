/** Content, label and space watches (docs/behaviour.md §1, §3; UserWatch in reference/confluence-user-api.openapi.json). */
import Type, { type Static } from 'typebox';
import { component } from './common.ts';

/** The user whose watch it is: `accountId`, else the legacy `key`, else `username`, else the caller. */
export const WatchUserQuerySchema = Type.Object({
  accountId: Type.Optional(
    Type.String({ description: 'The accountId of the user. Naming anyone but yourself needs admin.' }),
  ),
  key: Type.Optional(Type.String({ description: 'Legacy user key; use accountId.', deprecated: true })),
  username: Type.Optional(Type.String({ description: 'Legacy username; use accountId.', deprecated: true })),
});
export type WatchUserQuery = Static<typeof WatchUserQuerySchema>;

export const ContentWatchParamsSchema = Type.Object({
  contentId: Type.String({ description: 'The id of the page or blog post.' }),
});
export const LabelWatchParamsSchema = Type.Object({
  labelName: Type.String({ description: 'The label name, in any case.' }),
});
export const SpaceWatchParamsSchema = Type.Object({ spaceKey: Type.String({ description: 'The key of the space.' }) });

export const UserWatchSchema = Type.Object({ watching: Type.Boolean() }, component('UserWatch'));
export type UserWatch = Static<typeof UserWatchSchema>;
