/**
 * The hot path's one convention (docs/architecture.md, "Hot routes"): a
 * function that can often answer at once returns its value directly, and a
 * promise only when it had to wait. The caller then reaches the response in
 * the same turn, without a promise and two trips through the microtask queue.
 * Everything off the hot path is plain `async`.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * `then` for a MaybePromise: applies `next` at once to a value, or after the
 * promise settles. `context` is handed to `next` as its second argument, so
 * `next` can be a function made once rather than a closure made per call.
 */
export function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R>;
export function andThen<T, C, R>(
  value: MaybePromise<T>,
  next: (value: T, context: C) => MaybePromise<R>,
  context: C,
): MaybePromise<R>;
export function andThen<T, C, R>(
  value: MaybePromise<T>,
  next: (value: T, context?: C) => MaybePromise<R>,
  context?: C,
): MaybePromise<R> {
  return value instanceof Promise ? value.then((settled) => next(settled, context)) : next(value, context);
}

/**
 * `catch` for a MaybePromise: a value passes through at once; a promise that
 * rejects is handed to `onError`, with `context` as its second argument (as
 * in `andThen`). A synchronous throw is the caller's to catch.
 */
export function recover<T, C, R>(
  value: MaybePromise<T>,
  onError: (error: unknown, context: C) => MaybePromise<R>,
  context: C,
): MaybePromise<T | R> {
  return value instanceof Promise ? value.catch((error: unknown) => onError(error, context)) : value;
}

/**
 * Ends a callback-style Fastify hook on a MaybePromise: `done()` at once for
 * a value, or once the promise settles (`done(error)` when it rejects).
 */
export function settle(value: MaybePromise<unknown>, done: (error?: Error) => void): void {
  if (value instanceof Promise) value.then(() => done(), done);
  else done();
}
