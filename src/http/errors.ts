/**
 * The only code → status map, and the three error envelopes (docs/behaviour.md §1, §4):
 * Jira's under `/rest/api/{2,3}`, RFC 6749's under `/oauth2/`, Confluence's
 * everywhere else. Every 4xx/5xx leaves through here with a message that
 * names the problem; no stack trace ever does. A database that cannot serve
 * right now is a 503 with `Retry-After` on every route (docs/operations.md).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, atStep, type ErrorCode } from '../domain/errors.ts';
import { FaultError } from '../domain/faults.ts';
import { databaseUnavailable } from '../domain/unavailable.ts';
import { describeIssue, formatPath, type SchemaIssue } from '../lib/schema-errors.ts';
import type { Envelope } from '../schemas/errors.ts';
import { BODY_LIMIT_TEXT } from './json-body.ts';
import { isJiraPath, isOAuthPath } from './paths.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The error the answer was made from, if it was one: the request journal names its step (http/journal.ts). */
    failure: ApiError | null;
  }
}

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  too_many_requests: 429,
  not_implemented_by_site: 501,
  unavailable: 503,
  internal: 500,
};

export function envelopeFor(url: string): Envelope {
  if (isJiraPath(url)) return 'jira';
  if (isOAuthPath(url)) return 'oauth';
  return 'confluence';
}

/** RFC 6749's `error` for an answer that names none: a failed client authentication, or a bad request. */
function oauthErrorFor(status: number): string {
  if (status === 401) return 'invalid_client';
  // RFC 6749 names nothing for a throttled client; this is its word for "retry later" (docs/decisions.md).
  if (status === 429) return 'temporarily_unavailable';
  return status >= 500 ? 'server_error' : 'invalid_request';
}

function renderBody(envelope: Envelope, status: number, error: ApiError): object {
  const { message } = error;
  switch (envelope) {
    case 'jira':
      return { errorMessages: [message], errors: {} };
    case 'oauth':
      return { error: error.oauthError ?? oauthErrorFor(status), error_description: message };
    case 'confluence':
      return {
        statusCode: status,
        data: {
          authorized: status !== 401 && status !== 403,
          valid: status !== 400,
          errors: [{ message: { translation: message, args: [] } }],
          successful: false,
        },
        message,
      };
  }
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  // An injected fault (docs/behaviour.md §12) names its status outright.
  const status = error instanceof FaultError ? error.status : STATUS[error.code];
  request.failure = error;
  return reply
    .code(status)
    .headers(error.headers)
    .type('application/json; charset=utf-8')
    .send(renderBody(envelopeFor(request.url), status, error));
}

/** Fastify's own errors (body parsing, validation, limits) in the product's words. */
function translate(error: FastifyError, request: FastifyRequest): ApiError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payload_too_large', `The request body is larger than the ${BODY_LIMIT_TEXT} limit`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      // docs/behaviour.md §4: a non-JSON content type is a 400 naming it, never a 415.
      const type = request.headers['content-type'];
      return new ApiError(
        'bad_request',
        type
          ? `Content-Type "${type}" is not supported: send application/json`
          : 'The request body has no Content-Type: send application/json',
      );
    }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('bad_request', 'The request body is empty: send a JSON document');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('bad_request', `The request body is not valid JSON: ${error.message}`);
    case 'FST_ERR_VALIDATION':
      return new ApiError('bad_request', describeValidation(error));
  }
  if (error instanceof SyntaxError)
    return new ApiError('bad_request', `The request body is not valid JSON: ${error.message}`);
  if (error.statusCode === 400) return new ApiError('bad_request', error.message);
  if (error.statusCode === 404) return atStep('route', new ApiError('not_found', error.message));
  // Any other client error a plugin raises (e.g. the /docs assets' 403 for a path with `//`)
  // keeps its status when the table has it, else is a 400: never a 500 for the client's request.
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const code = (Object.keys(STATUS) as ErrorCode[]).find((c) => STATUS[c] === status) ?? 'bad_request';
    return new ApiError(code, `${error.message}: ${request.method} ${request.url.split('?')[0]}`);
  }
  return undefined;
}

const PART_NAMES: Record<string, string> = {
  querystring: 'query parameter',
  params: 'path parameter',
  body: 'request body',
  headers: 'header',
};

/** `query parameter limit: must be an integer`, `request body: must be an object`. */
function describeValidation(error: FastifyError): string {
  const part = (error as { validationContext?: string }).validationContext ?? 'request';
  const issues = ((error as { validation?: SchemaIssue[] }).validation ?? []) as SchemaIssue[];
  const first = issues.map(describeIssue).find((d) => d !== undefined);
  const name = PART_NAMES[part] ?? part;
  if (!first) return `Invalid ${name}: ${error.message}`;
  const field = formatPath(first.path);
  return field ? `${name} ${field}: ${first.text}` : `${name}: ${first.text}`;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.decorateRequest('failure', null);
  // Every route's pattern and methods, to tell a wrong method (405) from an unknown path (404).
  const routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];
  app.addHook('onRoute', (route) => {
    const source = `^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+')}/?$`;
    let entry = routes.find((r) => r.pattern.source === source);
    if (!entry) {
      entry = { pattern: new RegExp(source), methods: new Set() };
      routes.push(entry);
    }
    for (const method of [route.method].flat()) entry.methods.add(method);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = new Set<string>();
    for (const route of routes) if (route.pattern.test(path)) for (const m of route.methods) allowed.add(m);
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(', ');
      return sendError(
        request,
        reply,
        new ApiError('method_not_allowed', `Method ${request.method} is not allowed on ${path}; use ${allow}`, {
          Allow: allow,
        }),
      );
    }
    return sendError(
      request,
      reply,
      atStep('route', new ApiError('not_found', `No resource at ${request.method} ${path}`)),
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ApiError) return sendError(request, reply, error);
    const known = translate(error, request);
    if (known) return sendError(request, reply, known);
    const unavailable = databaseUnavailable(error);
    if (unavailable) {
      request.log.warn({ err: error, reqId: request.id }, 'the database is not answering');
      return sendError(request, reply, unavailable);
    }
    request.log.error({ err: error, reqId: request.id }, 'unhandled error');
    return sendError(request, reply, new ApiError('internal', `Internal server error (request id ${request.id})`));
  });
}
