/**
 * The package's library entry, `import { startUserplane } from 'userplane'`
 * (docs/testing.md, docs/behaviour.md §11): the real server, started in the
 * calling process on a free port, and a handle per site that drives the
 * site's test control plane over HTTP with the operator token.
 *
 * Every type a caller sees is declared in this file, so the emitted
 * testing.d.ts stands alone: the declarations of the other modules keep
 * their `.ts` import paths, which a consumer's compiler would not follow.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ConfigOptions, loadConfig } from './config.ts';
import { newOperatorToken } from './domain/operator.ts';
import { readSeedFile } from './domain/seed.ts';
import { startServer } from './server.ts';

/** A seed document (docs/behaviour.md §8), as it would be written in a seed file's JSON. */
export type SeedDocument = { [section: string]: unknown };

export interface UserplaneOptions {
  /** The default site's seed: a §8 document, or the path of a YAML or JSON seed file. */
  seed?: SeedDocument | string;
  /** `sqlite::memory:` (the default), `sqlite:PATH`, or `postgres://…` (which needs `secretKey`). */
  database?: string;
  /** The port to listen on; 0, the default, takes a free one. */
  port?: number;
  /** The address to listen on; default 127.0.0.1. */
  host?: string;
  /** The server's secret key (32+ characters): required with PostgreSQL; made up for SQLite when absent. */
  secretKey?: string;
  /** The operator token (32+ characters); a fresh one when absent. */
  operatorToken?: string;
  /** The server base URL clients use (`--base-url`); default the listening address. */
  baseUrl?: string;
  /** The server's log level; default `silent`, so a test run's output stays the runner's. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export interface SiteAdmin {
  email: string;
  accountId: string;
  apiToken: string;
  /** The ready `Authorization` header value: `Basic base64(email:apiToken)`. */
  authorization: string;
}

/** The request journal's filters (docs/behaviour.md §11). */
export interface JournalFilter {
  operation?: string;
  status?: number;
  app?: string;
  accountId?: string;
  /** Only entries newer than this entry id. */
  since?: string | number;
  limit?: number;
}

/** A journal entry (docs/behaviour.md §11); newest first. */
export interface JournalEntry {
  id: string | number;
  time: string;
  method: string;
  path: string;
  query: string;
  status: number;
  durationMs: number;
  operation: string | null;
  authMode: 'none' | 'basic' | 'jwt' | 'bearer' | 'forge';
  principal: { kind: 'anonymous' | 'user' | 'app' | 'asUser'; accountId?: string | null; app?: string | null };
  decision: { step: string; reason?: string; rule?: string } | null;
}

export interface Snapshot {
  name: string;
  createdDate: string;
}

export interface SiteHandle {
  name: string;
  cloudId: string;
  /** The base URL the site's links use; its products answer under it. */
  baseUrl: string;
  /** The admin the site's first start made, or null when its seed had an active admin. */
  admin: SiteAdmin | null;
  /** Empties the site and loads its seed again (`POST …/admin/api/reset`). */
  reset(): Promise<void>;
  /** Saves the site's state under `name` (`POST …/admin/api/snapshots`). */
  snapshot(name: string): Promise<Snapshot>;
  /** Puts the site back as the snapshot `name` found it (`POST …/admin/api/snapshots/{name}/restore`). */
  restore(name: string): Promise<void>;
  /** The site's request journal, newest first (`GET …/admin/api/journal`). */
  journal(filter?: JournalFilter): Promise<JournalEntry[]>;
  /** Removes the site and everything of it (`DELETE /admin/api/sites/{name}`); the default site cannot be. */
  delete(): Promise<void>;
}

export interface CreateSiteOptions {
  /** A site name (`^[a-z][a-z0-9-]{0,62}$`); one is made up when absent. */
  name?: string;
  /** The site's seed: a §8 document, or the path of a YAML or JSON seed file. */
  seed?: SeedDocument | string;
  /** The site's base URL; default `{url}/sites/{name}`. */
  baseUrl?: string;
}

export interface Userplane {
  /** The listening address, e.g. `http://127.0.0.1:43817`. */
  url: string;
  /** The operator's bearer token: it creates and deletes sites, and is a site admin on every site. */
  operatorToken: string;
  /** The site served at `url` itself. */
  defaultSite: SiteHandle;
  createSite(options?: CreateSiteOptions): Promise<SiteHandle>;
  /** Stops the server and frees its port and database. */
  close(): Promise<void>;
}

/** The path prefix of a site's administration API (docs/behaviour.md §9, §10). */
const ADMIN_API = '/admin/api';

/** Starts userplane in this process; `close()` it when done. */
export async function startUserplane(options: UserplaneOptions = {}): Promise<Userplane> {
  const operatorToken = options.operatorToken ?? newOperatorToken();
  // A seed document goes to the server as the file `--seed` would name, so it is the default site's seed in every respect.
  let seedFolder: string | undefined;
  let seedPath: string | undefined;
  if (typeof options.seed === 'string') seedPath = options.seed;
  else if (options.seed !== undefined) {
    seedFolder = mkdtempSync(join(tmpdir(), 'userplane-seed-'));
    seedPath = join(seedFolder, 'seed.json');
    writeFileSync(seedPath, JSON.stringify(options.seed), { mode: 0o600 });
  }
  const removeSeed = () => {
    if (seedFolder !== undefined) rmSync(seedFolder, { recursive: true, force: true });
  };

  const given: ConfigOptions = {
    port: String(options.port ?? 0),
    host: options.host ?? '127.0.0.1',
    database: options.database ?? 'sqlite::memory:',
    operatorToken,
    logLevel: options.logLevel ?? 'silent',
    ...(seedPath !== undefined && { seed: seedPath }),
    ...(options.secretKey !== undefined && { secretKey: options.secretKey }),
    ...(options.baseUrl !== undefined && { baseUrl: options.baseUrl }),
  };
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    // An empty environment: a library reads no process settings (PORT, DATABASE_URL) behind its caller's back.
    server = await startServer(loadConfig(given, {}));
  } catch (error) {
    removeSeed();
    throw error;
  }

  const { url } = server;
  const api = new AdminApi(url, operatorToken);
  try {
    const settings = await api.call<{ cloudId: string }>('GET', `${ADMIN_API}/site`, 200);
    const summary = await api.findSite(settings.cloudId);
    const first = server.firstStart;
    const defaultSite = siteHandle(api, summary, '', first ? adminOf(first) : null);
    return {
      url,
      operatorToken,
      defaultSite,
      async createSite(siteOptions: CreateSiteOptions = {}) {
        const seed =
          typeof siteOptions.seed === 'string' ? await readSeedFile(siteOptions.seed) : (siteOptions.seed ?? undefined);
        const created = await api.call<SiteSummary & { admin: Omit<SiteAdmin, 'authorization'> | null }>(
          'POST',
          `${ADMIN_API}/sites`,
          201,
          {
            ...(siteOptions.name !== undefined && { name: siteOptions.name }),
            ...(siteOptions.baseUrl !== undefined && { baseUrl: siteOptions.baseUrl }),
            ...(seed !== undefined && { seed }),
          },
        );
        return siteHandle(
          api,
          created,
          `/sites/${encodeURIComponent(created.name)}`,
          created.admin ? adminOf(created.admin) : null,
        );
      },
      async close() {
        try {
          await server.close();
        } finally {
          removeSeed();
        }
      },
    };
  } catch (error) {
    try {
      await server.close();
    } finally {
      removeSeed();
    }
    throw error;
  }
}

interface SiteSummary {
  name: string;
  cloudId: string;
  baseUrl: string;
}

function adminOf(admin: { email: string; accountId: string; apiToken: string }): SiteAdmin {
  return {
    email: admin.email,
    accountId: admin.accountId,
    apiToken: admin.apiToken,
    authorization: `Basic ${Buffer.from(`${admin.email}:${admin.apiToken}`).toString('base64')}`,
  };
}

/**
 * A site's handle. Its control-plane calls go to the server's own address
 * with the site's `/sites/{name}` prefix (none for the default site), not to
 * its `baseUrl`, which may name a host only a proxy serves.
 */
function siteHandle(api: AdminApi, site: SiteSummary, prefix: string, admin: SiteAdmin | null): SiteHandle {
  const adminApi = `${prefix}${ADMIN_API}`;
  return {
    name: site.name,
    cloudId: site.cloudId,
    baseUrl: site.baseUrl,
    admin,
    async reset() {
      await api.call('POST', `${adminApi}/reset`, 204);
    },
    snapshot(name: string) {
      return api.call<Snapshot>('POST', `${adminApi}/snapshots`, 201, { name });
    },
    async restore(name: string) {
      await api.call('POST', `${adminApi}/snapshots/${encodeURIComponent(name)}/restore`, 204);
    },
    async journal(filter: JournalFilter = {}) {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, String(value));
      const search = query.size > 0 ? `?${query}` : '';
      return (await api.call<{ results: JournalEntry[] }>('GET', `${adminApi}/journal${search}`, 200)).results;
    },
    async delete() {
      await api.call('DELETE', `${ADMIN_API}/sites/${encodeURIComponent(site.name)}`, 204);
    },
  };
}

/** How long the administration client keeps asking again while the server answers 503. */
const BUSY_RETRY_MS = 60_000;

/** The server's administration API, called with the operator token. */
class AdminApi {
  constructor(
    private readonly url: string,
    private readonly operatorToken: string,
  ) {}

  /**
   * Calls `method path`; any status but `expected` throws an Error naming the
   * call, the status and the server's message. A 503 (the database busy:
   * many tests creating sites at once on a loaded machine) is asked again
   * after its `Retry-After`, for up to BUSY_RETRY_MS: a 503 changed nothing.
   */
  async call<T = unknown>(method: string, path: string, expected: number, body?: unknown): Promise<T> {
    const giveUpAt = Date.now() + BUSY_RETRY_MS;
    let response: Response;
    for (;;) {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.operatorToken}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const waitMs = Number(response.headers.get('retry-after') ?? 1) * 1000;
      if (response.status !== 503 || expected === 503 || Date.now() + waitMs > giveUpAt) break;
      await response.arrayBuffer();
      await sleep(waitMs);
    }
    const text = await response.text();
    if (response.status !== expected) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { message?: unknown };
        if (typeof parsed.message === 'string') message = parsed.message;
      } catch {
        // Not JSON: the text as it came.
      }
      throw new Error(`userplane: ${method} ${path} answered ${response.status}${message ? `: ${message}` : ''}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** The site with this cloudId, from the operator's list of sites. */
  async findSite(cloudId: string): Promise<SiteSummary> {
    const limit = 200;
    for (let start = 0; ; start += limit) {
      const page = await this.call<{ results: SiteSummary[]; size: number }>(
        'GET',
        `${ADMIN_API}/sites?start=${start}&limit=${limit}`,
        200,
      );
      const site = page.results.find((s) => s.cloudId === cloudId);
      if (site) return site;
      if (page.size === 0) throw new Error(`userplane: no site has the default site's cloudId ${cloudId}`);
    }
  }
}
