/**
 * Answer bodies kept for the hot reads (the property GET and the list of
 * keys, http/confluence/user-properties.ts): a body is determined by the
 * site (its base URL, in the links), the request URL and what the store
 * read, so when the store reads the same again for the same URL the bytes
 * made last time are sent again. The store is still read on every request,
 * so an answer is never older than the store's; only building the text is
 * saved, which cost more than the rest of these routes (docs/decisions.md,
 * "Performance on the hot paths").
 *
 * Kept per site object: the site cache replaces a site's object at least
 * once a second (domain/site.ts), and the map goes with it, so a base URL
 * changed since is never answered from here. Within that second, at most
 * `perSite` URLs, after which the map starts over empty.
 */
import type { FastifyRequest } from 'fastify';
import type { Site } from '../domain/site.ts';

interface Kept<T> {
  source: T;
  /** Sent as it is to every request that finds it: never changed. */
  body: Buffer;
}

export class KeptBodies<T> {
  readonly #bySite = new WeakMap<Site, Map<string, Kept<T>>>();

  /** `same`: whether two reads of the store give the same body. */
  constructor(
    private readonly same: (a: T, b: T) => boolean,
    private readonly perSite = 1000,
  ) {}

  /** The body made for this request's site and URL from `source`, made now by `make` unless kept. */
  body(request: FastifyRequest, source: T, make: () => string): Buffer {
    const { site, url } = request;
    const kept = this.#bySite.get(site)?.get(url);
    if (kept !== undefined && this.same(kept.source, source)) return kept.body;
    const body = Buffer.from(make());
    // A Connect JWT in the query is new on every request: its URL is never asked again.
    if ((request.query as { jwt?: unknown } | undefined)?.jwt === undefined) this.#keep(site, url, { source, body });
    return body;
  }

  #keep(site: Site, url: string, kept: Kept<T>): void {
    const bodies = this.#bySite.get(site);
    if (bodies === undefined) {
      this.#bySite.set(site, new Map([[url, kept]]));
      return;
    }
    if (bodies.size >= this.perSite) bodies.clear();
    bodies.set(url, kept);
  }
}
