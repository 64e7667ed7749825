/**
 * What operators switch on and off around the routes (docs/decisions.md,
 * "Operations"): load shedding (on), `/metrics`, request lines and CORS (off
 * unless asked for). Registered after the auth hook, which must see the
 * routes added here, and before the product's routes, whose answers the
 * hooks added here observe.
 */
import type { FastifyInstance } from 'fastify';
import { corsOrigins, registerCors } from './hygiene.ts';
import { DEFAULT_LOAD_SHEDDING, type LoadSheddingOptions, registerLoadShedding } from './load-shedding.ts';
import { registerMetrics } from './metrics.ts';
import { registerRequestLog } from './request-log.ts';

export interface OperationsOptions {
  /** `--metrics`: serve Prometheus `/metrics`. */
  metrics?: boolean;
  /** `--log-requests`: one JSON line per request. */
  logRequests?: boolean;
  /** `--cors-origin`: the comma-separated origins CORS admits; CORS is off without it. */
  corsOrigin?: string;
  /** Shedding under overload; on with its defaults unless given. */
  loadShedding?: LoadSheddingOptions;
}

export async function registerOperations(app: FastifyInstance, options: OperationsOptions): Promise<void> {
  await registerLoadShedding(app, options.loadShedding ?? DEFAULT_LOAD_SHEDDING);
  if (options.metrics) await registerMetrics(app);
  if (options.logRequests) registerRequestLog(app);
  if (options.corsOrigin) await registerCors(app, corsOrigins(options.corsOrigin));
}
