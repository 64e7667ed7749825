/**
 * Sites as requests see them (docs/behaviour.md §10): found by name, cloudId,
 * host or as the default, each read at most once a second (docs/behaviour.md §7).
 */
import type { Kysely } from 'kysely';
import { andThen, type MaybePromise } from '../lib/maybe-promise.ts';
import { type Clock, REFRESH_AHEAD_MS, systemClock, TtlCache } from '../lib/ttl-cache.ts';
import type { SiteSettings } from '../schemas/site.ts';
import type { Database } from '../store/schema.ts';
import {
  findDefaultSite,
  findSiteByCloudId,
  findSiteByHost,
  findSiteById,
  findSiteByName,
  type StoredSite,
} from '../store/site.ts';

/**
 * Confluence's context path: Confluence answers under `{baseUrl}/wiki`, its
 * links are relative to it (docs/behaviour.md §4), Connect computes query-string
 * hashes with or without it and names the tenant with it (docs/behaviour.md §3).
 * http/paths.ts builds every Confluence prefix on it.
 */
export const WIKI_CONTEXT = '/wiki';

/** Where sites other than the default are served: `/sites/{name}/…` (docs/behaviour.md §10). */
export const SITES_ROOT = '/sites/';

/** A site's name (docs/behaviour.md §10). */
export const SITE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

export interface Site {
  /** The store's id: every row of the site carries it. */
  id: number;
  name: string;
  cloudId: string;
  /** No trailing slash. */
  baseUrl: string;
  settings: SiteSettings;
  /** Whether this is the server's default site, served at the root. */
  isDefault: boolean;
}

const DEFAULT_KEY = '';

export class SiteService {
  // One cache per way of finding a site; a miss is cached too (undefined),
  // so an unknown name or host costs one query a second.
  readonly #byName: TtlCache<string, Site | undefined>;
  readonly #byCloudId: TtlCache<string, Site | undefined>;
  readonly #byHost: TtlCache<string, Site | undefined>;
  readonly #default: TtlCache<string, Site>;

  constructor(
    private readonly db: Kysely<Database>,
    /** From `--base-url`/`BASE_URL`: the server base URL, and the default site's (docs/behaviour.md §10). */
    private readonly configuredBaseUrl: string | undefined,
    /** `http://HOST:PORT` of the listening server, when `--base-url` is not set. */
    private readonly listeningUrl: () => string,
    clock: Clock = systemClock,
  ) {
    // Refreshed ahead: a site in steady use never waits for its lookup (lib/ttl-cache.ts).
    const missing = { isFailure: (site: Site | undefined) => site === undefined, refreshAheadMs: REFRESH_AHEAD_MS };
    this.#byName = new TtlCache(clock, missing);
    this.#byCloudId = new TtlCache(clock, missing);
    this.#byHost = new TtlCache(clock, missing);
    this.#default = new TtlCache(clock, { maxEntries: 1, refreshAheadMs: REFRESH_AHEAD_MS });
  }

  /** The server base URL (docs/behaviour.md §10), no trailing slash. */
  serverBaseUrl(): string {
    return trimmed(this.configuredBaseUrl ?? this.listeningUrl());
  }

  defaultSite(): MaybePromise<Site> {
    return this.#default.get(DEFAULT_KEY, async () => {
      const stored = await findDefaultSite(this.db);
      if (!stored) throw new Error('the default site has not been created');
      return this.fromStored(stored, stored.id);
    });
  }

  byName(name: string): MaybePromise<Site | undefined> {
    return this.#byName.get(name, () => this.#load(findSiteByName(this.db, name)));
  }

  byCloudId(cloudId: string): MaybePromise<Site | undefined> {
    return this.#byCloudId.get(cloudId, () => this.#load(findSiteByCloudId(this.db, cloudId)));
  }

  /** Rule 3 of §10: the site whose base URL names exactly this host and port. */
  byHost(host: string): MaybePromise<Site | undefined> {
    return this.#byHost.get(host.toLowerCase(), () => this.#load(findSiteByHost(this.db, host)));
  }

  /** Not cached: for administration and the token endpoint's root form. */
  async byId(id: number): Promise<Site | undefined> {
    return this.#load(findSiteById(this.db, id));
  }

  /** Drops every cached site, after this process changed or removed one. */
  invalidate(): void {
    this.#byName.clear();
    this.#byCloudId.clear();
    this.#byHost.clear();
    this.#default.clear();
  }

  async #load(found: Promise<StoredSite | undefined>): Promise<Site | undefined> {
    const stored = await found;
    if (!stored) return undefined;
    const defaultSite = await this.defaultSite();
    return this.fromStored(stored, defaultSite.id);
  }

  /** The site as requests see it: its base URL is the one links use (docs/behaviour.md §10). */
  fromStored(stored: StoredSite, defaultId: number): Site {
    const isDefault = stored.id === defaultId;
    // --base-url wins for the default site (docs/behaviour.md §7); other sites
    // without one of their own are served under the server's `/sites/{name}`.
    const baseUrl = isDefault
      ? (this.configuredBaseUrl ?? stored.baseUrl ?? this.listeningUrl())
      : (stored.baseUrl ?? `${this.serverBaseUrl()}${SITES_ROOT}${stored.name}`);
    return {
      id: stored.id,
      name: stored.name,
      cloudId: stored.cloudId,
      baseUrl: trimmed(baseUrl),
      settings: stored.settings,
      isDefault,
    };
  }
}

function trimmed(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Resolves to the site or throws what `missing` makes; for callers that need one. */
export function required<T>(site: MaybePromise<Site | undefined>, missing: () => T): MaybePromise<Site> {
  return andThen(site, (found) => {
    if (!found) throw missing();
    return found;
  });
}
