/** `POST /oauth2/token` (SPEC §3; RFC 6749 §5.1). */
import Type, { type Static } from 'typebox';

export const TokenResponseSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  /** Seconds. */
  expires_in: Type.Integer(),
  /** The granted scopes, space-separated. */
  scope: Type.String(),
});
export type TokenResponse = Static<typeof TokenResponseSchema>;
