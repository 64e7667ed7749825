/**
 * Load shedding (docs/decisions.md, "Operations"): once the event loop has
 * lagged behind for several sample windows in a row, requests are answered
 * at once with 503 and `Retry-After` in their envelope, before credentials or
 * bodies are read, instead of queueing without bound. `/healthz` and
 * `/metrics` still answer, so an overloaded process is not mistaken for a
 * dead one and its figures can still be read.
 *
 * @fastify/under-pressure supplies the hook and the sampling timer. Its own
 * `maxEventLoopDelay` judges one window, so a single long synchronous stretch
 * (a large document built once, a long garbage collection) would shed the
 * requests after it; the check handed to it here asks for the delay to stay
 * over the threshold for `windows` windows running, which is what sustained
 * overload looks like.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../domain/errors.ts';
import { METRICS_PATH } from './metrics.ts';

export interface LoadSheddingOptions {
  /** Milliseconds of mean event-loop delay over a window above which it counts as overloaded; 0 turns shedding off. */
  maxEventLoopDelay: number;
  /** Milliseconds per sample window. */
  sampleInterval: number;
  /** Overloaded windows in a row before requests are shed; the first calm window ends it. */
  windows: number;
}

/**
 * Half a second of mean delay for three one-second windows running: a busy
 * but healthy server lags by a few milliseconds, so only a backlog that keeps
 * growing trips it.
 */
export const DEFAULT_LOAD_SHEDDING: LoadSheddingOptions = { maxEventLoopDelay: 500, sampleInterval: 1000, windows: 3 };

/** Seconds a shed caller is asked to wait: long enough for a backlog to drain. */
export const SHED_RETRY_AFTER_SECONDS = 5;

const EXEMPT = new Set(['/healthz', METRICS_PATH]);

/** The histogram's own sampling step, in milliseconds; each sample includes it. */
const RESOLUTION_MS = 10;

/** The event loop's delay, judged once per window. */
class SustainedDelay {
  private readonly histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private overloaded = 0;

  constructor(private readonly options: LoadSheddingOptions) {
    this.histogram.enable();
  }

  /** Ends a window: false while the delay has been over the threshold for the last `windows` windows. */
  check(): boolean {
    // No sample at all: the whole window was one blocked stretch.
    const delay = this.histogram.count === 0 ? Number.POSITIVE_INFINITY : this.histogram.mean / 1e6 - RESOLUTION_MS;
    this.histogram.reset();
    this.overloaded = delay > this.options.maxEventLoopDelay ? this.overloaded + 1 : 0;
    return this.overloaded < this.options.windows;
  }

  stop(): void {
    this.histogram.disable();
  }
}

export async function registerLoadShedding(app: FastifyInstance, options: LoadSheddingOptions): Promise<void> {
  if (options.maxEventLoopDelay <= 0) return;
  const delay = new SustainedDelay(options);
  app.addHook('onClose', (_app, done) => {
    delay.stop();
    done();
  });
  await app.register(underPressure, {
    healthCheck: async () => delay.check(),
    healthCheckInterval: options.sampleInterval,
    // Nothing returned lets the request through; a rejection goes to the
    // error handler (http/errors.ts), which answers in the path's envelope.
    pressureHandler: (request) => {
      if (request.routeOptions.url !== undefined && EXEMPT.has(request.routeOptions.url)) return;
      return Promise.reject(
        new ApiError('unavailable', `The server is overloaded: retry in ${SHED_RETRY_AFTER_SECONDS} seconds`, {
          'Retry-After': String(SHED_RETRY_AFTER_SECONDS),
        }),
      );
    },
  });
}
