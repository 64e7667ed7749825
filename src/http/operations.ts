/**
 * What operators switch on and off around the routes (docs/decisions.md,
 * "Operations"): load shedding (on in `userplane serve`), `/metrics`,
 * request lines and CORS (off unless asked for). Registered after the auth hook, which must see the
 * routes added here, and before the product's routes, whose answers the
 * hooks added here observe.
 */
import type { FastifyInstance } from 'fastify';
import { corsOrigins, registerCors } from './hygiene.ts';
import { type LoadSheddingOptions, registerLoadShedding } from './load-shedding.ts';
import { type DatabaseObservations, type LimitObservations, registerMetrics } from './metrics.ts';
import { registerRequestLog } from './request-log.ts';

export interface OperationsOptions {
  /** `--metrics`: serve Prometheus `/metrics`. */
  metrics?: boolean;
  /** What `/metrics` reads of the database, where the store offers it (app.ts passes the store's). */
  database?: DatabaseObservations;
  /** What `/metrics` hears of the rate limits and faults (app.ts passes this instance's). */
  limits?: LimitObservations;
  /** `--log-requests`: one JSON line per request. */
  logRequests?: boolean;
  /** `--cors-origin`: the comma-separated origins CORS admits; CORS is off without it. */
  corsOrigin?: string;
  /**
   * Shedding under sustained overload: `userplane serve` passes
   * DEFAULT_LOAD_SHEDDING; an app built without it (the tests, whose own work
   * shares the event loop) sheds nothing.
   */
  loadShedding?: LoadSheddingOptions;
}

export async function registerOperations(app: FastifyInstance, options: OperationsOptions): Promise<void> {
  if (options.loadShedding) await registerLoadShedding(app, options.loadShedding);
  if (options.metrics) await registerMetrics(app, options.database, options.limits);
  if (options.logRequests) registerRequestLog(app);
  if (options.corsOrigin) await registerCors(app, corsOrigins(options.corsOrigin));
}
