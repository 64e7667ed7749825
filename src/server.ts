/**
 * The process entry for `userplane serve`: open the store (waiting for a
 * database that is not up yet), load the seed, run first start, build the
 * app, listen; on SIGTERM or SIGINT, drain and close within the shutdown
 * timeout (docs/operations.md).
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { DURATION_DEFAULTS, type ServerConfig, trustedProxies } from './config.ts';
import { hasDefaultSite, rememberStartSeed } from './domain/admin/snapshots.ts';
import { bootstrap, type FirstStart } from './domain/bootstrap.ts';
import { ensureOperatorToken } from './domain/operator.ts';
import { loadSeed, readSeedFile } from './domain/seed.ts';
import { Drain } from './http/draining.ts';
import type { LoadSheddingOptions } from './http/load-shedding.ts';
import { prepareOpenApi } from './http/openapi.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import type { StoreOptions } from './store/database.ts';
import { isDatabaseUnreachable } from './store/unavailable.ts';
import { startTracing } from './tracing.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  firstStart: FirstStart | undefined;
  /** The operator token made at this start, shown once (docs/behaviour.md §10); undefined when none was made. */
  operatorToken: string | undefined;
  /** Seconds `close()` may take under a signal before the process exits anyway. */
  shutdownTimeout: number;
  /**
   * Turns new requests away with 503 (`/readyz` too), lets the admitted ones
   * finish, stops listening, then closes the store. Calling it again answers
   * the same promise.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Told, once, that the database is not answering yet and start-up is waiting for it. */
  waiting?(message: string): void;
  /**
   * Load shedding's thresholds (http/load-shedding.ts); off when absent.
   * `userplane serve` passes DEFAULT_LOAD_SHEDDING. An embedding process
   * (startUserplane, a test suite) is left without it: its event loop is
   * its own code's too, and a test process starved of CPU on a busy machine
   * is not an overloaded server.
   */
  loadShedding?: LoadSheddingOptions;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const { requestTimeout, shutdownTimeout, databaseWait } = { ...DURATION_DEFAULTS, ...config };
  // Before the store opens: the store is handed what watches its statements.
  const tracing = await startTracing(config);
  let runtime: Runtime;
  try {
    runtime = await openWhenReachable(config, databaseWait, options.waiting, {
      observeStatements: tracing?.observeStatements,
    });
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
  const { store, secrets } = runtime;
  try {
    const madeNow = !(await hasDefaultSite(store.db));
    const seed = config.seed ? await readSeedFile(config.seed) : undefined;
    if (seed) await loadSeed(store.db, secrets, seed, config.seed);
    const firstStart = await bootstrap(store.db, secrets);
    // Reset brings the default site back to this start's seed (docs/behaviour.md §11).
    await rememberStartSeed(store.db, seed, madeNow);
    const operatorToken = await ensureOperatorToken(store.db, secrets, config.operatorToken);
    const drain = new Drain();
    const app = await buildApp({
      db: store.db,
      secrets,
      operatorToken: config.operatorToken,
      baseUrl: config.baseUrl,
      logLevel: config.logLevel,
      metrics: config.metrics,
      logRequests: config.logRequests,
      corsOrigin: config.corsOrigin,
      trustProxy: trustedProxies(config.trustProxy),
      loadShedding: options.loadShedding,
      requestTimeoutMs: requestTimeout * 1000,
      drain,
      tracing: tracing?.plugin,
    });
    tracing?.reportTo(app.log);
    await prepareOpenApi(app);
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    let closing: Promise<void> | undefined;
    return {
      app,
      url: httpUrl(config.host, port),
      firstStart,
      operatorToken,
      shutdownTimeout,
      close() {
        closing ??= (async () => {
          try {
            await drain.begin();
            await app.close();
          } finally {
            try {
              await store.close();
            } finally {
              // Last: the spans of the requests that just finished are exported.
              await tracing?.shutdown();
            }
          }
        })();
        return closing;
      },
    };
  } catch (error) {
    try {
      await store.close();
    } finally {
      await tracing?.shutdown();
    }
    throw error;
  }
}

/** Longest pause between two attempts to reach the database at start-up. */
const DATABASE_RETRY_MAX_MS = 2_000;

/**
 * Opens the store, trying again while the database cannot be reached, for
 * up to `waitSeconds`; then fails with a message that says so. Any other
 * failure (a bad URL, a failed migration) fails at once.
 */
async function openWhenReachable(
  config: ServerConfig,
  waitSeconds: number,
  waiting: StartOptions['waiting'],
  storeOptions: StoreOptions,
): Promise<Runtime> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (let pause = 100; ; pause = Math.min(pause * 2, DATABASE_RETRY_MAX_MS)) {
    try {
      return await openRuntime(config, storeOptions);
    } catch (error) {
      if (!isDatabaseUnreachable(error)) throw error;
      if (pause === 100 && waitSeconds > 0)
        waiting?.(`the database is not answering (${rootCause(error)}); waiting up to ${waitSeconds} s for it`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`the database did not answer within ${waitSeconds} s (--database-wait): ${rootCause(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    }
  }
}

/** The innermost message: the driver's own words, such as `connect ECONNREFUSED 127.0.0.1:5432`. */
function rootCause(error: unknown): string {
  let e = error as Error;
  while (e.cause instanceof Error) e = e.cause;
  return e.message;
}

export interface ShutdownOptions {
  /** Where a failed or overdue shutdown is reported. */
  stderr: { write(text: string): unknown };
  exit(code: number): void;
}

/**
 * SIGTERM and SIGINT close the server; the process exits 0 once it is
 * closed, or 1 when closing failed or took longer than the shutdown timeout.
 * A second signal exits at once, with 1. Answers a function that stops
 * listening for the signals.
 */
export function closeOnSignals(server: RunningServer, options: ShutdownOptions): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      options.stderr.write(`userplane: ${signal} again: exiting without waiting\n`);
      options.exit(1);
      return;
    }
    signalled = true;
    const timer = setTimeout(() => {
      options.stderr.write(
        `userplane: shutdown did not finish within ${server.shutdownTimeout} s (--shutdown-timeout): exiting anyway\n`,
      );
      options.exit(1);
    }, server.shutdownTimeout * 1000);
    server.close().then(
      () => {
        clearTimeout(timer);
        options.exit(0);
      },
      (error: unknown) => {
        clearTimeout(timer);
        options.stderr.write(`userplane: shutdown failed: ${(error as Error)?.message ?? String(error)}\n`);
        options.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The operator token, shown once when it is made (docs/behaviour.md §10). */
export function operatorTokenBanner(token: string, url: string): string {
  return [
    '',
    "userplane: the server's operator token was made; it is shown only this once.",
    `  operator token: ${token}`,
    '',
    'It creates and deletes sites, and is a site admin on every site:',
    `  curl -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -d '{"name":"acme"}' ${url}/admin/api/sites`,
    '  (a new one: userplane operator-token rotate)',
    '',
  ].join('\n');
}

export function firstStartBanner(first: FirstStart, url: string): string {
  const basic = Buffer.from(`${first.email}:${first.apiToken}`).toString('base64');
  return [
    '',
    'userplane: first start. An admin was created; the API token is shown only this once.',
    `  email:     ${first.email}`,
    `  accountId: ${first.accountId}`,
    `  API token: ${first.apiToken}`,
    `  cloudId:   ${first.cloudId}`,
    '',
    'Try it:',
    `  curl -u '${first.email}:${first.apiToken}' ${url}/wiki/rest/api/user/${encodeURIComponent(first.accountId)}/property`,
    `  (or the header  Authorization: Basic ${basic})`,
    '',
  ].join('\n');
}
