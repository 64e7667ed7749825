/**
 * Helpers for the security and error-envelope suites: envelope assertions
 * (docs/behaviour.md §4), the stack-trace guard, the list of routes an app serves, the
 * always-public routes, and the hand-made Connect JWTs atlassian-jwt refuses to build.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';

export interface Reply {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
  json(): any;
}

/** `at fn (file:1:2)` frames, file positions and Node internals: none may reach a client (docs/behaviour.md §4). */
const STACK_TRACE = /\n\s*at\s|\bat\s+\S+\s+\(|\bat\s+(file|node):|node:internal|\.[cm]?[jt]s:\d+:\d+/;

export function assertNoStackTrace(response: Reply): void {
  assert.doesNotMatch(
    response.body,
    STACK_TRACE,
    `a ${response.statusCode} response leaks a stack trace: ${response.body}`,
  );
  assert.doesNotMatch(
    response.body,
    /"stack"\s*:/,
    `a ${response.statusCode} response carries a stack field: ${response.body}`,
  );
}

function assertErrorBasics(response: Reply, status: number): any {
  assert.equal(response.statusCode, status, `expected ${status}, got ${response.statusCode}: ${response.body}`);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  assertNoStackTrace(response);
  return response.json();
}

/** The Confluence envelope: `{statusCode, data: {authorized, valid, errors, successful}, message}`. */
export function assertConfluenceError(response: Reply, status: number, pattern: RegExp): any {
  const body = assertErrorBasics(response, status);
  assert.deepEqual(Object.keys(body).sort(), ['data', 'message', 'statusCode']);
  assert.equal(body.statusCode, status);
  assert.deepEqual(Object.keys(body.data).sort(), ['authorized', 'errors', 'successful', 'valid']);
  assert.equal(body.data.successful, false);
  assert.equal(body.data.authorized, status !== 401 && status !== 403);
  assert.equal(body.data.valid, status !== 400);
  assert.equal(typeof body.message, 'string');
  assert.match(body.message, pattern);
  assert.deepEqual(body.data.errors, [{ message: { translation: body.message, args: [] } }]);
  return body;
}

/** The Jira envelope: `{errorMessages: [...], errors: {}}`. */
export function assertJiraError(response: Reply, status: number, pattern: RegExp): any {
  const body = assertErrorBasics(response, status);
  assert.deepEqual(Object.keys(body).sort(), ['errorMessages', 'errors']);
  assert.equal(body.errorMessages.length, 1);
  assert.match(body.errorMessages[0], pattern);
  assert.deepEqual(body.errors, {});
  return body;
}

/** RFC 6749's `{error, error_description}`, everything under `/oauth2/`. */
export function assertOAuthError(response: Reply, status: number, error: string, pattern: RegExp): any {
  const body = assertErrorBasics(response, status);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  assert.equal(body.error, error);
  assert.match(body.error_description, pattern);
  return body;
}

export interface ServedRoute {
  method: string;
  /** As registered, e.g. `/wiki/rest/api/user/:userId/property/:key`. */
  pattern: string;
}

/** Every method and path the app serves, from its own route table (`app.routeAccess`, src/http/auth.ts). */
export function servedRoutes(app: FastifyInstance): ServedRoute[] {
  return app.routeAccess.map(({ method, url }) => ({ method, pattern: url }));
}

/**
 * docs/behaviour.md §3 "Always public": no credentials needed or read. Every other route
 * answers 401 to anonymous callers while `anonymousAccess` is off.
 */
const PUBLIC_ROUTES = [
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/openapi\.json$/,
  /^\/docs(\/.*)?$/,
  /^\/_edge\/tenant_info$/,
  /^\/oauth2\/token$/,
  /^\/admin\/?$/,
  /^\/admin\/(?!api(\/|$)).*/,
  /^\/wiki\/aa-avatar\/.*/,
  // The anonymous picture, at Atlassian's static path (`/wiki/s/<build>/_/images/…`).
  /^\/wiki\/s\/.*/,
  // Prometheus figures, served only with --metrics (docs/decisions.md, "Operations").
  /^\/metrics$/,
];

export function isPublicRoute(route: ServedRoute): boolean {
  return PUBLIC_ROUTES.some((pattern) => pattern.test(route.pattern));
}

/** A 401 about a credential, in the Confluence envelope; none may read like the anonymous refusal (no fallback to anonymous). */
export function assertCredentialRejected(response: Reply, pattern: RegExp): void {
  const body = assertConfluenceError(response, 401, pattern);
  assert.doesNotMatch(body.message, /anonymous/i, 'a bad credential was treated as no credential');
}

/** What a Connect qsh covers: the path without the gateway prefix (docs/behaviour.md §3). */
export function qshTarget(url: string): string {
  return url.replace(/^\/ex\/[^/]+\/[^/]+(?=\/)/, '');
}

/** The same request target with the `/wiki` context path toggled (docs/behaviour.md §3 accepts both in a qsh). */
export function otherContext(url: string): string {
  return url.startsWith('/wiki/') ? url.slice('/wiki'.length) : `/wiki${url}`;
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned token (`alg: none`), which no Connect JWT may be. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
}
