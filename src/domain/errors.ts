/**
 * The one error type domain and HTTP code throw. The code set is closed; the
 * status each code maps to lives in `http/errors.ts` and nowhere else.
 */
export type ErrorCode =
  | 'bad_request' // 400
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'method_not_allowed' // 405
  | 'conflict' // 409
  | 'precondition_failed' // 412
  | 'payload_too_large' // 413
  | 'too_many_requests' // 429: too many failed credentials (domain/guessing.ts)
  | 'not_implemented_by_site' // 501: a feature the site's settings switch off (docs/behaviour.md §3, emailApi)
  | 'unavailable' // 503
  | 'internal'; // 500

/**
 * RFC 6749 §5.2's error codes, for answers under `/oauth2/` (docs/behaviour.md §1). Only
 * the token endpoint sets one; the other envelopes never read it.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_scope';

export class ApiError extends Error {
  readonly code: ErrorCode;
  /** Extra response headers, such as `Allow` on a 405 or `WWW-Authenticate` on a 401. */
  readonly headers: Record<string, string>;
  /** The RFC 6749 `error` under `/oauth2/`; when absent, derived from the status (http/errors.ts). */
  readonly oauthError: OAuthErrorCode | undefined;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}, oauthError?: OAuthErrorCode) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.headers = headers;
    this.oauthError = oauthError;
  }
}

export const badRequest = (message: string) => new ApiError('bad_request', message);
export const unauthenticated = (message: string) => new ApiError('unauthenticated', message);
export const forbidden = (message: string) => new ApiError('forbidden', message);
export const notFound = (message: string) => new ApiError('not_found', message);
export const conflict = (message: string) => new ApiError('conflict', message);

/**
 * An error of the token endpoint (RFC 6749 §5.2): `invalid_client` is a 401,
 * every other code a 400. `headers` is for http/oauth.ts, which adds
 * `WWW-Authenticate` when the client authenticated with HTTP Basic.
 */
export function oauthError(error: OAuthErrorCode, message: string, headers: Record<string, string> = {}): ApiError {
  return new ApiError(error === 'invalid_client' ? 'unauthenticated' : 'bad_request', message, headers, error);
}
