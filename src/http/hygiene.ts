/**
 * HTTP hygiene (docs/decisions.md, "Operations"): the headers every HTML page
 * carries, and CORS, which is off unless `--cors-origin` names the origins
 * that may call from a browser.
 */
import type { FastifyInstance, onRequestHookHandler } from 'fastify';

/** What every HTML page sends besides its Content-Security-Policy (which says `frame-ancestors 'none'`). */
export const HTML_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // For browsers that predate CSP's frame-ancestors.
  'x-frame-options': 'DENY',
};

export const htmlPageHeaders: onRequestHookHandler = (_request, reply, done) => {
  reply.headers(HTML_PAGE_HEADERS);
  done();
};

/** The route @fastify/cors registers to admit preflight requests on every path; public by construction. */
export const CORS_PREFLIGHT_ROUTE = '*';

/** `http://localhost:3000,https://app.example` → its origins. */
export function corsOrigins(list: string): string[] {
  return list
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
}

/**
 * Answers CORS for exactly these origins: a preflight is answered before any
 * credential is read (a browser sends none with it), and the answers to the
 * real requests name the origin. Other origins get no CORS header at all.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  const { default: cors } = await import('@fastify/cors');
  const allowed = new Set(origins);
  await app.register(cors, {
    // `false` for any other origin (or none): no CORS header at all, and no preflight answer.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'],
    // The headers a browser caller reads: versions, deprecations, Jira's caller, and when to retry.
    exposedHeaders: ['ETag', 'Warning', 'X-AAccountId', 'Retry-After', 'Location'],
    maxAge: 600,
  });
}
