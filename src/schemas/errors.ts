/**
 * The three error envelopes (docs/behaviour.md §4), as schemas: http/errors.ts renders
 * them, routes declare the statuses they answer with `errorResponses`, and
 * http/openapi.ts adds the ones every route of a kind shares.
 */
import Type, { type TSchema } from 'typebox';

export const ConfluenceErrorSchema = Type.Object(
  {
    statusCode: Type.Integer({ description: 'The HTTP status, repeated.' }),
    data: Type.Object({
      authorized: Type.Boolean({ description: 'False on 401 and 403.' }),
      valid: Type.Boolean({ description: 'False on 400.' }),
      errors: Type.Array(
        Type.Object({ message: Type.Object({ translation: Type.String(), args: Type.Array(Type.Unknown()) }) }),
      ),
      successful: Type.Literal(false),
    }),
    message: Type.String({ description: 'What went wrong, naming the parameter, field or rule.' }),
  },
  { $id: 'ConfluenceError', title: 'Confluence error' },
);

export const JiraErrorSchema = Type.Object(
  {
    errorMessages: Type.Array(Type.String(), { description: 'What went wrong, naming the parameter or rule.' }),
    errors: Type.Record(Type.String(), Type.String(), { description: 'Errors by field; empty in userplane.' }),
  },
  { $id: 'JiraError', title: 'Jira error' },
);

/** RFC 6749 §5.2, everything under `/oauth2/`. */
export const OAuthErrorSchema = Type.Object(
  {
    error: Type.Union(
      [
        'invalid_request',
        'invalid_client',
        'invalid_grant',
        'unsupported_grant_type',
        'invalid_scope',
        'server_error',
        'temporarily_unavailable',
      ].map((code) => Type.Literal(code)),
    ),
    error_description: Type.String(),
  },
  { $id: 'OAuthError', title: 'OAuth 2.0 error' },
);

/** Added to the app once (http/openapi.ts), so routes and the document refer to them by `$id`. */
export const ERROR_SCHEMAS = [ConfluenceErrorSchema, JiraErrorSchema, OAuthErrorSchema];

/** The three error bodies; which one a path gets is decided in http/errors.ts. */
export type Envelope = 'confluence' | 'jira' | 'oauth';

const ENVELOPE_IDS: Record<Envelope, string> = {
  confluence: 'ConfluenceError',
  jira: 'JiraError',
  oauth: 'OAuthError',
};

/** Status → why, e.g. `{ 404: 'The user does not exist' }`. */
export type ErrorStatuses = Partial<Record<400 | 401 | 403 | 404 | 405 | 409 | 412 | 413 | 429 | 501 | 503, string>>;

/** Response schemas for a route's own error statuses, each with its reason as the description. */
export function errorResponses(envelope: Envelope, statuses: ErrorStatuses): Record<number, TSchema> {
  const $ref = `${ENVELOPE_IDS[envelope]}#`;
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [status, Type.Unsafe({ $ref, description })]),
  );
}

/** An answer without a body (204, and Jira's 200/201 on PUT): `type: 'null'` is how the document says "no content". */
export const NoContent = (description: string) => Type.Unsafe<undefined>({ type: 'null', description });
