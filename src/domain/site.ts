/** The site (tenant) as requests see it, read at most once a second (docs/behaviour.md §7). */
import type { Kysely } from 'kysely';
import { type Clock, systemClock, TtlCache } from '../lib/ttl-cache.ts';
import type { SiteSettings } from '../schemas/site.ts';
import type { Database } from '../store/schema.ts';
import { readSite } from '../store/site.ts';

/**
 * Confluence's context path: Confluence answers under `{baseUrl}/wiki`, its
 * links are relative to it (docs/behaviour.md §4), Connect computes query-string
 * hashes with or without it and names the tenant with it (docs/behaviour.md §3).
 * http/paths.ts builds every Confluence prefix on it.
 */
export const WIKI_CONTEXT = '/wiki';

export interface Site {
  cloudId: string;
  /** No trailing slash. */
  baseUrl: string;
  settings: SiteSettings;
}

export class SiteService {
  readonly #cache: TtlCache<'site', Site>;

  constructor(
    private readonly db: Kysely<Database>,
    /** From `--base-url`/`BASE_URL`; wins over the stored value (docs/behaviour.md §7). */
    private readonly configuredBaseUrl: string | undefined,
    /** `http://HOST:PORT` of the listening server, when neither is set. */
    private readonly defaultBaseUrl: () => string,
    clock: Clock = systemClock,
  ) {
    this.#cache = new TtlCache(clock);
  }

  current(): Site | Promise<Site> {
    return this.#cache.get('site', async () => {
      const stored = await readSite(this.db);
      if (!stored) throw new Error('the site has not been created');
      const baseUrl = this.configuredBaseUrl ?? stored.baseUrl ?? this.defaultBaseUrl();
      return { cloudId: stored.cloudId, baseUrl: baseUrl.replace(/\/+$/, ''), settings: stored.settings };
    });
  }

  /** Drops the cached copy, after this process changed the site. */
  invalidate(): void {
    this.#cache.clear();
  }
}
