/**
 * OpenTelemetry traces (docs/operations.md "Traces"): with an OTLP endpoint
 * the server exports a server span per request and a client span per
 * database statement under it, flushed when the server closes; the spans
 * carry no credential and no property value. Without an endpoint the process
 * loads nothing of OpenTelemetry. The collector is a real HTTP server in the
 * test, receiving what the exporter sends (OTLP/HTTP, JSON).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { startServer } from '../../src/server.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { SECRET_KEY } from '../helpers/fixture.ts';
import { cleanEnv, PROJECT_ROOT } from '../helpers/process.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

/** OTLP's span kinds, as the JSON encoding numbers them. */
const SERVER = 2;
const CLIENT = 3;

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
}

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
  status: { code?: number; message?: string };
  serviceName: string | undefined;
}

/** A collector: accepts POST /v1/traces and keeps every body, raw and parsed. */
class Collector {
  readonly bodies: string[] = [];
  readonly requests: Array<{ method: string; url: string; contentType: string | undefined }> = [];
  readonly #server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      this.requests.push({ method: request.method!, url: request.url!, contentType: request.headers['content-type'] });
      this.bodies.push(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.close();
    await once(this.#server, 'close');
  }

  spans(): ReceivedSpan[] {
    const spans: ReceivedSpan[] = [];
    for (const body of this.bodies) {
      const { resourceSpans } = JSON.parse(body) as {
        resourceSpans: Array<{
          resource: { attributes: Array<{ key: string; value: OtlpValue }> };
          scopeSpans: Array<{
            spans: Array<
              Omit<ReceivedSpan, 'attributes' | 'serviceName'> & {
                attributes: Array<{ key: string; value: OtlpValue }>;
              }
            >;
          }>;
        }>;
      };
      for (const { resource, scopeSpans } of resourceSpans) {
        const serviceName = attributes(resource.attributes)['service.name'] as string | undefined;
        for (const { spans: list } of scopeSpans) {
          for (const span of list) spans.push({ ...span, attributes: attributes(span.attributes), serviceName });
        }
      }
    }
    return spans;
  }
}

function attributes(list: Array<{ key: string; value: OtlpValue }>): ReceivedSpan['attributes'] {
  return Object.fromEntries(
    list.map(({ key, value }) => [
      key,
      value.stringValue ?? (value.intValue === undefined ? value.boolValue : Number(value.intValue)),
    ]),
  );
}

/** The span's ancestors, nearest first, as far as the received spans go. */
function ancestors(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  for (let parent = span.parentSpanId; parent; ) {
    const found = spans.find((s) => s.spanId === parent && s.traceId === span.traceId);
    if (!found) break;
    chain.push(found);
    parent = found.parentSpanId;
  }
  return chain;
}

const PROPERTY_ROUTE = '/wiki/rest/api/user/:userId/property/:key';
/** Recognisable text in a property's value and in a `jwt` query parameter: neither may reach a span. */
const VALUE_MARKER = 'value-marker-7f3a9c';
const JWT_MARKER = 'jwt-marker-41be0d';
/** A calling service's trace and span, as a `traceparent` names them. */
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('OpenTelemetry traces', () => {
  for (const kind of STORE_KINDS) {
    test(`${kind}: a server span per request, a database span per statement under it, flushed on close`, async () => {
      const collector = new Collector();
      const endpoint = await collector.start();
      try {
        const server = await startServer({
          port: 0,
          host: '127.0.0.1',
          database: databaseUrl(await freshLocation(kind)),
          secretKey: SECRET_KEY,
          logLevel: 'silent',
          otlpEndpoint: endpoint,
        });
        const admin = server.firstStart!;
        const auth = basicAuth(admin.email, admin.apiToken);
        const property = `${server.url}/wiki/rest/api/user/${encodeURIComponent(admin.accountId)}/property/theme`;
        let closed = false;
        try {
          const send = async (method: string, url: string, value?: unknown) => {
            const response = await fetch(url, {
              method,
              headers: { ...auth, 'content-type': 'application/json' },
              ...(value === undefined ? {} : { body: JSON.stringify({ value }) }),
            });
            await response.text();
            return response.status;
          };
          assert.equal(await send('POST', property, { note: VALUE_MARKER }), 201);
          assert.equal(await send('GET', property), 200);
          assert.equal(await send('PUT', property, { note: `${VALUE_MARKER}-2` }), 204);
          const continued = await fetch(
            `${server.url}/wiki/rest/api/user/${encodeURIComponent(admin.accountId)}/property`,
            {
              headers: { ...auth, traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
            },
          );
          await continued.text();
          assert.equal(continued.status, 200);
          const jwt = await fetch(`${server.url}/wiki/rest/api/user/current?jwt=${JWT_MARKER}`, {
            headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01-extra` },
          });
          await jwt.text();
          assert.equal(jwt.status, 401);
          await server.close();
          closed = true;
        } finally {
          if (!closed) await server.close();
        }

        // close() flushed the batch: the spans are here without waiting for the exporter's timer.
        assert.ok(collector.bodies.length > 0, 'the exporter sent spans before close() answered');
        for (const request of collector.requests) {
          assert.deepEqual(request, { method: 'POST', url: '/v1/traces', contentType: 'application/json' });
        }
        const spans = collector.spans();
        assert.ok(
          spans.every((s) => s.serviceName === 'userplane'),
          'every span names the service',
        );

        const servers = spans.filter((s) => s.kind === SERVER);
        const serverSpan = (method: string) => {
          const found = servers.filter(
            (s) => s.attributes['http.request.method'] === method && s.attributes['http.route'] === PROPERTY_ROUTE,
          );
          assert.equal(found.length, 1, `one server span for the ${method}: ${JSON.stringify(servers)}`);
          return found[0]!;
        };
        const expectedStatus = { POST: 201, GET: 200, PUT: 204 } as const;
        for (const method of ['POST', 'GET', 'PUT'] as const) {
          const span = serverSpan(method);
          assert.equal(span.name, `${method} ${PROPERTY_ROUTE}`);
          assert.equal(span.attributes['http.route'], PROPERTY_ROUTE);
          assert.equal(span.attributes['http.response.status_code'], expectedStatus[method]);
          assert.equal(
            span.attributes['url.path'],
            `/wiki/rest/api/user/${encodeURIComponent(admin.accountId)}/property/theme`,
          );
          assert.equal(span.parentSpanId ?? '', '', 'a request span starts its trace');
        }

        const databaseSpans = spans.filter((s) => s.kind === CLIENT);
        const system = kind === 'postgres' ? 'postgresql' : 'sqlite';
        for (const span of databaseSpans) {
          assert.equal(span.attributes['db.system'], system);
          assert.equal(span.attributes['db.system.name'], system);
          assert.equal(span.attributes['db.operation'], span.name);
          assert.match(String(span.attributes['db.query.text']), new RegExp(`^${span.name}\\b`, 'i'));
          const chain = ancestors(span, spans);
          assert.ok(
            chain.length > 0 && chain.at(-1)!.kind === SERVER,
            `a database span sits under a request span of its trace: ${span.name} ${span.attributes['db.query.text']}`,
          );
        }
        const under = (request: ReceivedSpan, operation: string) =>
          databaseSpans.filter(
            (s) =>
              s.name === operation &&
              s.traceId === request.traceId &&
              ancestors(s, spans).some((a) => a.spanId === request.spanId),
          );
        assert.ok(under(serverSpan('GET'), 'SELECT').length > 0, 'the GET read the property under its request span');
        const updates = under(serverSpan('PUT'), 'UPDATE');
        assert.ok(updates.length > 0, 'the PUT updated the property under its request span');
        assert.match(String(updates[0]!.attributes['db.query.text']), /^update "properties" set /);

        // A caller's traceparent: the request joins the caller's trace, under the caller's span.
        const joined = servers.find(
          (s) =>
            s.attributes['http.response.status_code'] === 200 &&
            s.attributes['http.route'] === '/wiki/rest/api/user/:userId/property',
        );
        assert.equal(joined?.traceId, CALLER_TRACE);
        assert.equal(joined?.parentSpanId, CALLER_SPAN);
        assert.ok(
          databaseSpans.some((s) => s.traceId === CALLER_TRACE),
          "its database spans are in the caller's trace too",
        );

        // The unauthenticated request is traced, without its query.
        const refused = servers.find((s) => s.attributes['http.response.status_code'] === 401);
        assert.equal(refused?.attributes['url.path'], '/wiki/rest/api/user/current');
        assert.equal(refused?.status.code ?? 0, 0, 'a 4xx answer is not a span error');
        assert.notEqual(refused?.traceId, CALLER_TRACE, 'a malformed traceparent is ignored');
        assert.equal(refused?.parentSpanId ?? '', '');

        // No credential and no property value anywhere in what was exported.
        const exported = collector.bodies.join('\n');
        for (const secret of [
          VALUE_MARKER,
          JWT_MARKER,
          admin.apiToken,
          auth.authorization!,
          auth.authorization!.slice('Basic '.length),
        ]) {
          assert.ok(!exported.includes(secret), `the exported spans do not contain ${secret}`);
        }
      } finally {
        await collector.stop();
      }
    });
  }

  test('a collector that is down does not fail closing the server', async () => {
    // An address where nothing listens any more: a collector started, then stopped.
    const gone = new Collector();
    const endpoint = await gone.start();
    await gone.stop();
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      database: 'sqlite::memory:',
      logLevel: 'silent',
      otlpEndpoint: endpoint,
    });
    const response = await fetch(`${server.url}/healthz`);
    await response.text();
    assert.equal(response.status, 200);
    await server.close();
  });

  test('without an endpoint nothing of OpenTelemetry loads; with one it does', async () => {
    const probe = async (endpoint?: string) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/operations/tracing-probe.ts', ...(endpoint ? [endpoint] : [])],
        { cwd: PROJECT_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const [code] = await once(child, 'close');
      assert.equal(code, 0, stderr);
      return JSON.parse(stdout) as { status: number; loaded: string[] };
    };
    const collector = new Collector();
    const endpoint = await collector.start();
    try {
      const [off, on] = await Promise.all([probe(), probe(endpoint)]);
      assert.equal(off.status, 200);
      assert.deepEqual(off.loaded, [], 'no OpenTelemetry module was loaded');
      // The same check sees them when tracing is on, so it can see them at all.
      assert.equal(on.status, 200);
      assert.ok(on.loaded.some((path) => /@fastify[\\/]otel/.test(path)));
      assert.ok(on.loaded.some((path) => /@opentelemetry[\\/]sdk-trace-base/.test(path)));
      assert.ok(collector.spans().length > 0, 'the traced probe exported spans');
    } finally {
      await collector.stop();
    }
  });
});
