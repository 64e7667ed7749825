/**
 * The only body parser: JSON. Any other content type is a 400 that names it
 * (http/errors.ts). Fastify's own parser still guards against prototype
 * poisoning; on top, a NUL character anywhere in a body is refused (docs/behaviour.md §4).
 */
import type { FastifyInstance } from 'fastify';
import { badRequest } from '../domain/errors.ts';

/** A raw NUL, or a `\u0000` escape that is not itself an escaped backslash. */
const NUL_IN_JSON = /\0|(?<!\\)(?:\\\\)*\\u0000/i;

/** docs/behaviour.md §5: request bodies over 1 MiB → 413 (Fastify's `bodyLimit`, set in app.ts). */
const BODY_LIMIT_MIB = 1;
export const BODY_LIMIT_BYTES = BODY_LIMIT_MIB * 1024 * 1024;
/** The limit as the 413's message and the OpenAPI document state it. */
export const BODY_LIMIT_TEXT = `${BODY_LIMIT_MIB} MiB`;

const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

export const NUL_IN_URL = /%00/i;

/**
 * Far deeper than any body a route takes (a property value is at most 64
 * levels, domain/property-rules.ts), so the rules' own messages still answer
 * every depth a client means; deeper bodies are refused before they are
 * parsed, sparing the parser and the garbage collector a million nested
 * arrays (docs/decisions.md, "Requests and errors").
 */
export const MAX_BODY_DEPTH = 1000;

/** Whether the JSON text opens more than `limit` arrays or objects at once; linear, strings skipped. */
function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export function registerJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body: string, done) => {
    // Clients often label a body-less request as JSON (a GET, a DELETE, or a
    // PUT to a route that takes no body, such as a group membership); there
    // is nothing to parse.
    if (body === '' && (BODYLESS.has(request.method) || request.routeOptions.schema?.body === undefined))
      return done(null, undefined);
    // docs/behaviour.md §3 step 1: an unknown path (404) or wrong method (405) wins over the
    // body's syntax, as Fastify already does for content types it has no parser for.
    if (request.is404) return done(null, undefined);
    if (NUL_IN_JSON.test(body)) return done(badRequest('The request body contains a NUL character'), undefined);
    if (nestedDeeperThan(body, MAX_BODY_DEPTH))
      return done(badRequest(`The request body is nested deeper than ${MAX_BODY_DEPTH} levels`), undefined);
    parseJson(request, body, done);
  });

  // Callback style: this hook runs on every request, and needs no promise.
  app.addHook('preValidation', (request, _reply, done) => {
    done(NUL_IN_URL.test(request.url) ? badRequest('The request URL contains a NUL character (%00)') : undefined);
  });
}
