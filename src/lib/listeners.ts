/**
 * Who is told of an event, for the domain's rare events that `/metrics`
 * counts (a rate-limit refusal, a fault applied). Empty unless something
 * watches, so telling no one costs one length check.
 */
export class Listeners<Args extends unknown[]> {
  readonly #listeners: Array<(...args: Args) => void> = [];

  /** Tells `listener` of every event until the returned function is called. */
  watch(listener: (...args: Args) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at !== -1) this.#listeners.splice(at, 1);
    };
  }

  get size(): number {
    return this.#listeners.length;
  }

  tell(...args: Args): void {
    for (const listener of this.#listeners) listener(...args);
  }
}
