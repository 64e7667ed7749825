/**
 * OpenTelemetry traces (docs/operations.md "Traces"), on when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set: a server span per request, from
 * @fastify/otel, and a client span per database statement run under it,
 * exported in batches over OTLP/HTTP. Without the endpoint no OpenTelemetry
 * package is loaded: this module imports them only inside `startTracing`,
 * and only its types otherwise.
 *
 * Spans carry the route template, the method, the status, the path without
 * its query (which may hold a Connect `jwt`), and SQL with its placeholders;
 * never a header, a parameter value or an error's message, which can quote
 * a request body.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, ContextManager, SpanStatus, TextMapPropagator, Tracer } from '@opentelemetry/api';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { FastifyPluginCallback } from 'fastify';
import type { Config } from './config.ts';
import type { StatementEvent, StatementObserver } from './store/database.ts';

export interface Tracing {
  /** Registered on the app before anything else, so that it sees every route. */
  plugin: FastifyPluginCallback;
  /** Given to the store: a span per statement run inside a traced request. */
  observeStatements: StatementObserver;
  /**
   * Where OpenTelemetry's own warnings and errors go, such as an export the
   * collector refused or never answered: without this they are dropped.
   */
  reportTo(log: { warn(fields: object, message: string): void }): void;
  /** Exports the spans still buffered, then stops; the server calls it last when it closes. */
  shutdown(): Promise<void>;
}

/** How long closing the server waits for the last spans to be exported. */
const SHUTDOWN_EXPORT_MS = 2_000;

/** Whether this process has registered the context manager and propagator with the API. */
let globalsRegistered = false;

/** `service.name` unless OTEL_SERVICE_NAME says otherwise. */
export const DEFAULT_SERVICE_NAME = 'userplane';

/** Answers undefined, having loaded nothing, when no endpoint is configured. */
export async function startTracing(
  config: Pick<Config, 'otlpEndpoint' | 'otelServiceName'>,
): Promise<Tracing | undefined> {
  if (config.otlpEndpoint === undefined) return undefined;
  const [api, { BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, otel] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@fastify/otel'),
    ]);

  // The API's globals, once per process: a second server in the same
  // process (the tests) shares them, as the API allows only one of each.
  if (!globalsRegistered) {
    // Spans nest through the async work of a request only with a context
    // manager; the API's default remembers nothing.
    api.context.setGlobalContextManager(asyncLocalStorageContextManager(api.ROOT_CONTEXT));
    // A caller's `traceparent` makes the request span a child of the caller's.
    api.propagation.setGlobalPropagator(traceContextPropagator(api));
    globalsRegistered = true;
  }

  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.otelServiceName ?? DEFAULT_SERVICE_NAME }),
    spanProcessors: [
      scrubbingProcessor(api.SpanStatusCode),
      // The generic endpoint names the collector; traces go to its /v1/traces, as the OTLP specification says.
      new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(config.otlpEndpoint) })),
    ],
  });
  const tracer = provider.getTracer(DEFAULT_SERVICE_NAME);

  const instrumentation = new otel.FastifyOtelInstrumentation({
    // A span per request and one for its handler; a span per hook would
    // double the spans of every request for little an operator reads.
    instrumentHooks: false,
    // Exceptions carry messages that can quote a request body.
    recordExceptions: false,
    requestHook(span, request) {
      // @fastify/otel puts the URL, query included, in url.path.
      const query = request.url.indexOf('?');
      span.setAttribute('url.path', query === -1 ? request.url : request.url.slice(0, query));
      const route = request.routeOptions.url;
      span.updateName(route === undefined ? request.method : `${request.method} ${route}`);
    },
  });
  instrumentation.setTracerProvider(provider);

  return {
    plugin: instrumentation.plugin(),
    observeStatements: statementSpans(api, tracer),
    reportTo(log) {
      const warn = (message: string, ...args: unknown[]) =>
        log.warn({ component: 'opentelemetry', detail: args.map(String) }, message);
      const ignore = () => {};
      api.diag.setLogger(
        { error: warn, warn, info: ignore, debug: ignore, verbose: ignore },
        { logLevel: api.DiagLogLevel.WARN, suppressOverrideMessage: true },
      );
    },
    async shutdown() {
      instrumentation.disable();
      // A collector that is down or slow loses the last spans; it neither
      // fails the shutdown nor holds it: the exporter retries for up to 10 s,
      // the shutdown timeout's whole default.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), SHUTDOWN_EXPORT_MS);
      });
      try {
        if ((await Promise.race([provider.shutdown(), late])) === 'late') {
          api.diag.error(`the last spans were not exported within ${SHUTDOWN_EXPORT_MS} ms`);
        }
      } catch (error) {
        api.diag.error('the last spans could not be exported', (error as Error)?.message ?? String(error));
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

type Api = typeof import('@opentelemetry/api');

/** OTEL_EXPORTER_OTLP_ENDPOINT names the collector's root; each signal has its own path under it. */
function tracesUrl(endpoint: string): string {
  return `${endpoint.endsWith('/') ? endpoint : `${endpoint}/`}v1/traces`;
}

/**
 * A client span per statement, under the span that is current where the
 * statement was issued: a request's handler, or the request itself (its
 * hooks). Statements with no span around them (migrations and seeding at
 * start-up) make none, as they belong to no request.
 */
function statementSpans(api: Api, tracer: Tracer): StatementObserver {
  return (event: StatementEvent) => {
    const parent = api.context.active();
    if (api.trace.getSpan(parent) === undefined) return;
    const operation = /^\s*([A-Za-z]+)/.exec(event.sql)?.[1]?.toUpperCase() ?? 'QUERY';
    const system = event.dialect === 'postgres' ? 'postgresql' : 'sqlite';
    const span = tracer.startSpan(
      operation,
      {
        kind: api.SpanKind.CLIENT,
        startTime: performance.timeOrigin + event.startTime,
        attributes: {
          'db.system.name': system,
          'db.operation.name': operation,
          'db.query.text': event.sql,
          // The names of earlier semantic conventions, which many backends still read.
          'db.system': system,
          'db.operation': operation,
        },
      },
      parent,
    );
    if (event.error !== undefined) {
      // The driver's code only: a message can quote a value.
      const code = (event.error as { code?: unknown } | null)?.code;
      span.setAttribute('error.type', typeof code === 'string' ? code : ((event.error as Error)?.name ?? 'Error'));
      span.setStatus({ code: api.SpanStatusCode.ERROR });
    }
    span.end(performance.timeOrigin + event.endTime);
  };
}

/**
 * Runs as each span ends, before it is exported: status messages go (they are
 * error messages, which can quote a request body), and a request answered
 * below 500 is not an error, as the HTTP conventions say of server spans,
 * although @fastify/otel marks every request whose handler threw, a 404 included.
 */
function scrubbingProcessor(codes: Api['SpanStatusCode']): SpanProcessor {
  return {
    onStart() {},
    onEnding(span: Span) {
      if (span.status.code !== codes.ERROR) return;
      const status = span.attributes['http.response.status_code'];
      const answeredBelow500 = typeof status === 'number' && status < 500;
      // setStatus() cannot go back to UNSET; the SDK's span keeps its status in a plain field.
      (span as { status: SpanStatus }).status = { code: answeredBelow500 ? codes.UNSET : codes.ERROR };
    },
    onEnd() {},
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

/**
 * W3C Trace Context (`traceparent`, `tracestate`): what
 * @opentelemetry/core's W3CTraceContextPropagator does, which is not among
 * the project's dependencies either. A header that does not parse is
 * ignored, and the request starts a trace of its own.
 */
function traceContextPropagator(api: Api): TextMapPropagator {
  // Version 00 has exactly these four fields; a later version may add more after them.
  const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
  const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : value);
  return {
    inject(context, carrier, setter) {
      const span = api.trace.getSpanContext(context);
      if (!span || !api.isSpanContextValid(span)) return;
      const flags = (span.traceFlags & api.TraceFlags.SAMPLED).toString(16).padStart(2, '0');
      setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-${flags}`);
      if (span.traceState) setter.set(carrier, 'tracestate', span.traceState.serialize());
    },
    extract(context, carrier, getter) {
      const match = TRACEPARENT.exec(one(getter.get(carrier, 'traceparent'))?.trim() ?? '');
      if (!match) return context;
      const [, version, traceId, spanId, flags, rest] = match;
      if (version === 'ff' || (version === '00' && rest !== undefined)) return context;
      const state = one(getter.get(carrier, 'tracestate'));
      const span = {
        traceId: traceId!,
        spanId: spanId!,
        traceFlags: Number.parseInt(flags!, 16),
        isRemote: true,
        ...(state ? { traceState: api.createTraceState(state) } : {}),
      };
      return api.isSpanContextValid(span) ? api.trace.setSpanContext(context, span) : context;
    },
    fields: () => ['traceparent', 'tracestate'],
  };
}

/**
 * The context of the current request, carried through its callbacks and
 * promises by AsyncLocalStorage: what @opentelemetry/context-async-hooks
 * provides, which is not among the project's dependencies.
 */
function asyncLocalStorageContextManager(root: Context): ContextManager {
  const storage = new AsyncLocalStorage<Context>();
  const manager: ContextManager = {
    active: () => storage.getStore() ?? root,
    with: (context, fn, thisArg, ...args) => storage.run(context, () => fn.apply(thisArg, args)),
    bind: (context, target) => {
      if (typeof target !== 'function') return target;
      const fn = target as (...args: unknown[]) => unknown;
      return function (this: unknown, ...args: unknown[]) {
        return storage.run(context, () => fn.apply(this, args));
      } as typeof target;
    },
    enable: () => manager,
    disable: () => {
      storage.disable();
      return manager;
    },
  };
  return manager;
}
