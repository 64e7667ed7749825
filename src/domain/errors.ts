import type { CHECK_STEPS } from '../schemas/journal.ts';

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

/**
 * The step of docs/behaviour.md §3's order of checks that refused a request, as the
 * request journal names it (docs/behaviour.md §11): `route` (404, 405),
 * `credentials` (401), `can-use`, `scope`, `xsrf`, `rate-limit`, `fault`,
 * `syntax` (400, 413), `gate`, `access`, `existence`, `state` (409, 412, the
 * property limit), `internal` (5xx).
 */
export type CheckStep = (typeof CHECK_STEPS)[number];

/** The step a code stands for when the thrower named none (`ApiError.step`). */
const STEP_OF_CODE: Record<ErrorCode, CheckStep> = {
  bad_request: 'syntax',
  unauthenticated: 'credentials',
  forbidden: 'access',
  not_found: 'existence',
  method_not_allowed: 'route',
  conflict: 'state',
  precondition_failed: 'state',
  payload_too_large: 'syntax',
  too_many_requests: 'rate-limit',
  not_implemented_by_site: 'gate',
  unavailable: 'internal',
  internal: 'internal',
};

/** RFC 6749's codes: a client or a grant that does not verify is a credential; a scope is a scope. */
const STEP_OF_OAUTH_ERROR: Record<OAuthErrorCode, CheckStep> = {
  invalid_request: 'syntax',
  invalid_client: 'credentials',
  invalid_grant: 'credentials',
  unsupported_grant_type: 'syntax',
  invalid_scope: 'scope',
};

export class ApiError extends Error {
  readonly code: ErrorCode;
  /**
   * Which check refused the request, where the code alone does not say
   * (a 403 for scopes, a 400 of the property limit); read by the request
   * journal through `checkStep`. Set with `atStep`.
   */
  step: CheckStep | undefined = undefined;
  /** The journal's short reason, where it differs from the message (`needs WRITE or …`). */
  reason: string | undefined = undefined;
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

/** The step that refused the request: as the thrower named it, else as the code implies. */
export function checkStep(error: ApiError): CheckStep {
  return error.step ?? (error.oauthError ? STEP_OF_OAUTH_ERROR[error.oauthError] : STEP_OF_CODE[error.code]);
}

/** Names the check that throws `error` (docs/behaviour.md §11's steps); `reason` is the journal's wording, when shorter. */
export function atStep<E extends ApiError>(step: CheckStep, error: E, reason?: string): E {
  error.step = step;
  if (reason !== undefined) error.reason = reason;
  return error;
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
