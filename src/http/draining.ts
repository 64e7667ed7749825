/**
 * Shutdown's drain (docs/operations.md): from `Drain.begin()` on, every new
 * request, `/readyz` included, is a 503 in its product's envelope with
 * `Retry-After`, while the requests already admitted run to their end; the
 * server then stops listening (Fastify's close) and the store closes.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../domain/errors.ts';
import { sendError } from './errors.ts';

/** Seconds a client is told to wait before retrying, by then at another instance. */
const DRAIN_RETRY_AFTER_SECONDS = 1;

export class Drain {
  #draining = false;
  #inFlight = 0;
  #idle: (() => void) | undefined;

  get draining(): boolean {
    return this.#draining;
  }

  /** Turns new requests away; resolves once every admitted request has been answered or abandoned. */
  begin(): Promise<void> {
    this.#draining = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#idle;
      this.#idle = () => {
        previous?.();
        resolve();
      };
    });
  }

  admit(): void {
    this.#inFlight++;
  }

  finish(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#draining) this.#idle?.();
  }
}

export function registerDraining(app: FastifyInstance, drain: Drain): void {
  const finished = () => drain.finish();
  // Callback style: this hook runs on every request.
  app.addHook('onRequest', (request, reply, done) => {
    if (drain.draining) {
      sendError(
        request,
        reply,
        new ApiError('unavailable', 'The server is shutting down: retry the request', {
          'Retry-After': String(DRAIN_RETRY_AFTER_SECONDS),
          Connection: 'close',
        }),
      );
      return;
    }
    drain.admit();
    // 'close' comes once per response, whether it was sent whole or the client went away.
    reply.raw.once('close', finished);
    done();
  });
}
