/**
 * Loaded into every test process with `--import` (test/run.ts, and the CLI
 * children of test/helpers/process.ts), never by product code. Fastify
 * publishes each new instance on the `fastify.initialization` diagnostics
 * channel; this adds two hooks to every one of them:
 *
 * - onSend: the body is checked against Atlassian's published schema for
 *   its operation and status (test/helpers/reference-schemas.ts). A body that
 *   does not match is replaced by a 500 naming the schema errors, so the test
 *   that asked fails on its status or body; it is also printed, and the
 *   process exits non-zero, so no test can miss it.
 * - onResponse: method, route pattern, status and, for a live server, the
 *   client method that called (test/helpers/client-methods.ts) are appended
 *   to USERPLANE_TEST_REPORT_DIR, from which test/run.ts renders the table of
 *   docs/compatibility.md.
 */
import diagnostics from 'node:diagnostics_channel';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientMethodOf } from './client-methods.ts';
import { checkResponse } from './reference-schemas.ts';

export interface SchemaViolation {
  method: string;
  url: string;
  route: string;
  status: number;
  operation: string;
  errors: string[];
}

/** One line of `responses-<pid>.jsonl`: a distinct (method, route, status, client method). */
export interface ResponseRecord {
  method: string;
  route: string;
  status: number;
  /** Answered by the not-found handler: a method the path does not serve (405); `route` is the path's pattern. */
  unrouted?: true;
  client?: string;
}

/**
 * The route pattern whose reference operation a body is checked against. A
 * last parameter that matched nothing is no parameter: `GET …/user/properties/`
 * matches `…/user/properties/:propertyKey` with an empty key, and serves the
 * key list of `…/user/properties`.
 */
function routeOf(request: FastifyRequest): string | undefined {
  const route = request.routeOptions.url;
  const last = route === undefined ? undefined : /\/:([A-Za-z0-9_]+)$/.exec(route);
  if (route === undefined || !last) return route;
  const value = (request.params as Record<string, unknown> | undefined)?.[last[1]!];
  return value === '' ? route.slice(0, last.index + 1) : route;
}

const REPORT_DIR = process.env.USERPLANE_TEST_REPORT_DIR;
const STATE_KEY = Symbol.for('userplane.test.response-check');

interface CheckState {
  violations: SchemaViolation[];
  /** Record lines written already. */
  seen: Set<string>;
  /** Responses whose body this check replaced. */
  replaced: WeakSet<FastifyRequest>;
  notRecorded: WeakSet<FastifyInstance>;
}

const state: CheckState = ((globalThis as Record<symbol, unknown>)[STATE_KEY] as CheckState | undefined) ?? install();

function install(): CheckState {
  const created: CheckState = { violations: [], seen: new Set(), replaced: new WeakSet(), notRecorded: new WeakSet() };
  (globalThis as Record<symbol, unknown>)[STATE_KEY] = created;
  diagnostics.subscribe('fastify.initialization', (message) =>
    addHooks((message as { fastify: FastifyInstance }).fastify),
  );
  process.on('exit', () => {
    if (created.violations.length === 0) return;
    if (REPORT_DIR)
      writeFileSync(join(REPORT_DIR, `violations-${process.pid}.json`), JSON.stringify(created.violations, null, 2));
    process.exitCode = 1;
  });
  return created;
}

/**
 * The schema violations recorded so far, removed from the record: for the
 * test that proves a violation is caught (test/reference.test.ts), so that
 * its process still exits 0.
 */
export function takeViolations(): SchemaViolation[] {
  return state.violations.splice(0);
}

/** An instance whose routes are a test's own (test/reference.test.ts): checked, but not in the table. */
export function doNotRecord(app: FastifyInstance): void {
  state.notRecorded.add(app);
}

function addHooks(app: FastifyInstance): void {
  /** Every route's pattern, to name the path a wrong method's 405 was for. */
  const patterns: Array<{ route: string; pattern: RegExp }> = [];
  app.addHook('onRoute', (route) => {
    if (patterns.some((p) => p.route === route.url)) return;
    const source = `^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+')}/?$`;
    patterns.push({ route: route.url, pattern: new RegExp(source) });
  });

  app.addHook(
    'onSend',
    (
      request: FastifyRequest,
      reply: FastifyReply,
      payload: unknown,
      done: (error: null, payload?: unknown) => void,
    ) => {
      const route = routeOf(request);
      if (
        route === undefined ||
        (payload !== null && payload !== undefined && typeof payload !== 'string' && !Buffer.isBuffer(payload))
      ) {
        return done(null, payload); // unrouted, or a stream (avatars)
      }
      const body = payload === null || payload === undefined ? '' : payload.toString();
      const contentType = reply.getHeader('content-type');
      const result = checkResponse({
        method: request.method,
        route,
        status: reply.statusCode,
        contentType: contentType === undefined ? undefined : String(contentType),
        body,
      });
      if (result.errors.length === 0) return done(null, payload);
      const violation: SchemaViolation = {
        method: request.method,
        url: request.url.split('?')[0] ?? request.url,
        route,
        status: reply.statusCode,
        operation: result.operation ?? '',
        errors: result.errors,
      };
      state.violations.push(violation);
      state.replaced.add(request);
      // The checker's own test breaks a body on purpose: no alarm in the run's output for it.
      if (!state.notRecorded.has(app))
        process.stderr.write(
          `\n✖ response does not match Atlassian's schema: ${violation.method} ${violation.url} → ${violation.status} (${violation.operation})\n  ${violation.errors.join('\n  ')}\n  body: ${body.slice(0, 2000)}\n`,
        );
      const message = `userplane test check: the ${violation.status} body of ${violation.method} ${violation.url} does not match ${violation.operation} in test/reference/: ${violation.errors.join('; ')}`;
      reply.code(500).header('content-type', 'application/json; charset=utf-8').removeHeader('content-length');
      done(
        null,
        JSON.stringify({ statusCode: 500, message, schemaErrors: violation.errors, body: body.slice(0, 2000) }),
      );
    },
  );

  if (!REPORT_DIR) return;
  const file = join(REPORT_DIR, `responses-${process.pid}.jsonl`);
  app.addHook('onResponse', (request, reply, done) => {
    // A body this check replaced is no status the suite produced (its test fails anyway).
    if (state.replaced.has(request) || state.notRecorded.has(app)) return done();
    let route = request.routeOptions.url;
    let unrouted: true | undefined;
    if (route === undefined) {
      const path = request.url.split('?')[0] ?? '';
      route = patterns.find((p) => p.pattern.test(path))?.route;
      unrouted = true;
    }
    if (route !== undefined) {
      const client = clientMethodOf(request.raw.socket);
      const record: ResponseRecord = {
        method: request.method,
        route,
        status: reply.statusCode,
        ...(unrouted && { unrouted }),
        ...(client && { client }),
      };
      const line = JSON.stringify(record);
      if (!state.seen.has(line)) {
        state.seen.add(line);
        appendFileSync(file, `${line}\n`);
      }
    }
    done();
  });
}
