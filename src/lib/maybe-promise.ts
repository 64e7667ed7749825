/**
 * The hot path's one convention (docs/architecture.md, "Hot routes"): a
 * function that can often answer at once returns its value directly, and a
 * promise only when it had to wait. The caller then reaches the response in
 * the same turn, without a promise and two trips through the microtask queue.
 * Everything off the hot path is plain `async`.
 */
export type MaybePromise<T> = T | Promise<T>;

/** `then` for a MaybePromise: applies `next` at once to a value, or after the promise settles. */
export function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
