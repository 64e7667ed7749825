/**
 * Every credential the tests send, built in one place as clients build them
 * (docs/behaviour.md §3): Basic with an email and API token, a Connect JWT
 * bound to one request by its query-string hash, and an OAuth bearer token.
 * Each returns the headers to send; `connectJwtToken` returns the bare token,
 * for the `?jwt=` query parameter and for tests that tamper with it.
 */
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';

export type Headers = Record<string, string>;

/** A Connect app as a JWT names and signs it. */
export interface ConnectApp {
  key: string;
  sharedSecret: string;
}

/** Now in seconds since the epoch, as JWT claims count time. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function basicAuth(email: string, token: string): Headers {
  return { authorization: `Basic ${base64(`${email}:${token}`)}` };
}

export function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/**
 * A Connect JWT for this exact request, as atlassian-connect-express builds
 * one: `iss` the app's key, three minutes of life, the request's `qsh`.
 * `claims` overrides any of them; `secret` signs instead of the app's own.
 */
export function connectJwtToken(
  app: ConnectApp,
  method: string,
  url: string,
  claims: Record<string, unknown> = {},
  secret: string = app.sharedSecret,
): string {
  const now = nowSeconds();
  const payload = {
    iss: app.key,
    iat: now,
    exp: now + 180,
    qsh: queryStringHash(method, url),
    ...claims,
  };
  return encodeSymmetric(payload, secret);
}

/** A request's `qsh` claim: a JWT bound to one request, or (as a claim override) to another. */
export function queryStringHash(method: string, url: string): string {
  return createQueryStringHash(fromMethodAndUrl(method, url));
}

/** The `Authorization: JWT …` header for this exact request (see `connectJwtToken`). */
export function connectJwt(
  app: ConnectApp,
  method: string,
  url: string,
  claims: Record<string, unknown> = {},
  secret?: string,
): Headers {
  return { authorization: `JWT ${connectJwtToken(app, method, url, claims, secret)}` };
}

export function bearer(token: string): Headers {
  return { authorization: `Bearer ${token}` };
}
