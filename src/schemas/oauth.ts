/** `POST /oauth2/token` (docs/behaviour.md §3; RFC 6749 §5.1). */
import Type, { type Static } from 'typebox';
import { component } from './common.ts';

/**
 * The token request, for the document: the handler reads the form or JSON
 * body itself (http/oauth.ts), so RFC 6749's errors name what is wrong.
 */
export const TokenRequestSchema = Type.Object({
  grant_type: Type.Union([
    Type.Literal('client_credentials'),
    Type.Literal('urn:ietf:params:oauth:grant-type:jwt-bearer'),
  ]),
  client_id: Type.Optional(
    Type.String({ description: "client_credentials: the app's OAuth client id (or use HTTP Basic)." }),
  ),
  client_secret: Type.Optional(
    Type.String({ description: "client_credentials: the app's OAuth client secret (or use HTTP Basic)." }),
  ),
  assertion: Type.Optional(
    Type.String({
      description: "jwt-bearer: the Connect user-impersonation JWT, signed with the app's shared secret.",
    }),
  ),
  scope: Type.Optional(Type.String({ description: "Space-separated scopes; the app's own when absent." })),
});

export const TokenResponseSchema = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    /** Seconds. */
    expires_in: Type.Integer(),
    /** The granted scopes, space-separated. */
    scope: Type.String(),
  },
  component('TokenResponse'),
);
export type TokenResponse = Static<typeof TokenResponseSchema>;
