/**
 * Bearer tokens of `POST /oauth2/token` in the administration API (docs/behaviour.md §9):
 * listed by app without the token or its digest, and revoked by id or all
 * of an app's at once.
 */
import Type, { type Static } from 'typebox';
import { ListOf, Nullable } from './admin.ts';
import { component } from './common.ts';

export const AdminOAuthTokenSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    appKey: Type.String({ description: 'The app the token was issued to.' }),
    accountId: Nullable(
      Type.String({
        description: 'The impersonated user (asUser, the JWT-bearer grant); null when the app acts as itself (asApp).',
      }),
    ),
    scopes: Type.Array(Type.String(), { description: 'The scopes granted at issue.' }),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  component('AdminOAuthToken'),
);
export type AdminOAuthToken = Static<typeof AdminOAuthTokenSchema>;

export const AdminOAuthTokenListSchema = ListOf(AdminOAuthTokenSchema, 'AdminOAuthTokenList');

export const OAuthTokenIdParamsSchema = Type.Object({ id: Type.String({ description: 'The bearer token id.' }) });
