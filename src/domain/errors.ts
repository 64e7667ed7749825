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
  | 'not_implemented_by_site' // 501: a feature the site's settings switch off (SPEC §3, emailApi)
  | 'unavailable' // 503
  | 'internal'; // 500

export class ApiError extends Error {
  readonly code: ErrorCode;
  /** Extra response headers, such as `Allow` on a 405 or `WWW-Authenticate` on a 401. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.headers = headers;
  }
}

export const badRequest = (message: string) => new ApiError('bad_request', message);
export const unauthenticated = (message: string) => new ApiError('unauthenticated', message);
export const forbidden = (message: string) => new ApiError('forbidden', message);
export const notFound = (message: string) => new ApiError('not_found', message);
export const conflict = (message: string) => new ApiError('conflict', message);
