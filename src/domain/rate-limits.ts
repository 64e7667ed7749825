/**
 * Atlassian's rate limits (docs/behaviour.md §12): a token bucket per (site,
 * operation) for bursts, and hourly point ledgers per app, across all sites and
 * per site, for the quota. Everything lives in this instance's memory, on a
 * clock per site that `advance` moves forward (docs/decisions.md "Rate limits").
 *
 * The auth hook calls `check` once the principal is known; with `rateLimits:
 * off` it is one comparison and allocates nothing (docs/architecture.md "Hot
 * routes"). Points are charged by `charge`, after the answer.
 */
import { Listeners } from '../lib/listeners.ts';
import type { Clock } from '../lib/ttl-cache.ts';
import type { RateLimitOverrides, RateLimitsSetting } from '../schemas/site.ts';
import { ApiError, atStep } from './errors.ts';
import type { Principal } from './principal.ts';
import { ATLASSIAN_BURST, type RateLimitProduct, rateLimitHeaders } from './rate-limit-headers.ts';
import type { Site } from './site.ts';

export type { RateLimitProduct };

/** What refused a request: a burst bucket, or one of the two hourly ledgers. */
export type RateLimitKind = 'burst-based' | 'quota-global-based' | 'quota-tenant-based';

/** §12's `RateLimit-Reason` values: a closed set. */
export type RateLimitReason = `${RateLimitProduct}-${RateLimitKind}`;

/** Told of each request the limits refuse (`/metrics`, http/metrics.ts). */
export type RefusalListener = (reason: RateLimitReason, kind: 'burst' | 'quota') => void;

const HOUR_MS = 3_600_000;

/** What `atlassian` means, and what an override inherits. */
export const ATLASSIAN_LIMITS = {
  burst: ATLASSIAN_BURST as Record<string, number>,
  quota: { globalPerHour: 65_000, sitePerHour: 65_000 },
  betaHeaders: false,
} as const;

/** A site's limits with every number filled in; `null` where a kind of limit is off. */
export interface EffectiveLimits {
  burst: Record<string, number> | null;
  quota: { globalPerHour: number; sitePerHour: number } | null;
  betaHeaders: boolean;
}

const ATLASSIAN: EffectiveLimits = {
  burst: ATLASSIAN_LIMITS.burst,
  quota: ATLASSIAN_LIMITS.quota,
  betaHeaders: false,
};

/** Overrides resolved once per settings object, which a site keeps until its settings change. */
const resolved = new WeakMap<RateLimitOverrides, EffectiveLimits>();

export function effectiveLimits(setting: RateLimitsSetting): EffectiveLimits | null {
  if (setting === 'off') return null;
  if (setting === 'atlassian') return ATLASSIAN;
  let limits = resolved.get(setting);
  if (limits === undefined) {
    limits = {
      burst: setting.burst === false ? null : { ...ATLASSIAN_LIMITS.burst, ...setting.burst },
      quota: setting.quota === false ? null : { ...ATLASSIAN_LIMITS.quota, ...setting.quota },
      betaHeaders: setting.betaHeaders ?? false,
    };
    resolved.set(setting, limits);
  }
  return limits;
}

/**
 * What a read answered, for its points (§12: 1 per property or property key,
 * 2 per user or group): a fixed count for the operations that answer one
 * thing, else the marker counted in the serialized answer, and its weight.
 * Counting in the text costs a scan of the answer, and only for apps under a
 * quota; nothing is parsed (docs/decisions.md "Rate limits").
 */
const READ_UNITS: Record<string, { fixed: number } | { marker: string; weight: number }> = {
  'confluence.getUserProperty': { fixed: 1 },
  'jira.getUserProperty': { fixed: 1 },
  'confluence.getUserProperties': { marker: '"key":', weight: 1 },
  'jira.getUserPropertyKeys': { marker: '"key":', weight: 1 },
  'confluence.getUser': { fixed: 2 },
  'confluence.getAnonymousUser': { fixed: 2 },
  'confluence.getCurrentUser': { fixed: 2 },
  'confluence.getPrivacyUnsafeUserEmail': { fixed: 2 },
  'confluence.getGroupMembershipsForUser': { marker: '"name":', weight: 2 },
  'confluence.getBulkUserLookup': { marker: '"accountId":', weight: 2 },
  'confluence.getBulkUserMigration': { marker: '"accountId":', weight: 2 },
  'confluence.getPrivacyUnsafeUserEmailBulk': { marker: '"accountId":', weight: 2 },
};

/** The points of an answered request (§12): writes 1; reads 1 plus what they answered. */
export function requestPoints(operation: string, method: string, payload: unknown): number {
  if (method !== 'GET' && method !== 'HEAD') return 1;
  const units = READ_UNITS[operation];
  if (units === undefined) return 1;
  if ('fixed' in units) return 1 + units.fixed;
  const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
  let count = 0;
  for (let at = text.indexOf(units.marker); at !== -1; at = text.indexOf(units.marker, at + units.marker.length))
    count += 1;
  return 1 + count * units.weight;
}

interface Bucket {
  tokens: number;
  /** On the site's clock. */
  at: number;
  capacity: number;
}

interface Ledger {
  /** The UTC hour (ms since the epoch / 1 h) the points were spent in. */
  hour: number;
  used: number;
}

interface SiteState {
  /** How far `advance` moved this site's clock ahead of the real one, in ms. */
  offset: number;
  buckets: Map<string, Bucket>;
  /** Per app key: points spent on this site this hour. */
  ledgers: Map<string, Ledger>;
}

/** `GET /admin/api/rate-limits`. */
export interface RateLimitsView {
  now: string;
  offsetSeconds: number;
  buckets: Array<{ operation: string; capacity: number; tokens: number }>;
  ledgers: Array<{ app: string; hour: string; sitePoints: number; globalPoints: number }>;
}

/** The headers of a successful answer to an app under a quota. */
export type QuotaHeaders = Record<string, string>;

export class RateLimiter {
  private readonly sites = new Map<number, SiteState>();
  /** Per app key: points spent across all sites, in the hour of the site that spent last. */
  private readonly global = new Map<string, Ledger>();
  /** Who is told of refusals; empty unless `/metrics` watches. */
  private readonly refusals = new Listeners<Parameters<RefusalListener>>();

  constructor(private readonly clock: Clock) {}

  /** Tells `listener` of every refusal until the returned function is called. Refusals only: an admitted request pays nothing. */
  watch(listener: RefusalListener): () => void {
    return this.refusals.watch(listener);
  }

  /**
   * Throws the 429 when the operation's bucket is empty or the app's ledgers are;
   * else takes a token. `operation` is §3's operation id (`confluence.getUserProperty`).
   */
  check(site: Site, operation: string, method: string, principal: Principal, product: RateLimitProduct): void {
    const limits = effectiveLimits(site.settings.rateLimits);
    if (limits === null) return;
    const state = this.state(site.id);
    const now = this.clock.now() + state.offset;
    if (limits.quota !== null) this.checkQuota(state, now, limits.quota, principal, product);
    if (limits.burst !== null) {
      const capacity = limits.burst[method === 'HEAD' ? 'GET' : method] ?? limits.burst.GET ?? 100;
      this.take(state, now, operation, capacity, product);
    }
  }

  /**
   * Charges an app's answered request to its ledgers and returns the headers
   * its answer carries; `undefined` when nothing is charged (limits or quota
   * off, a user, an anonymous caller).
   */
  charge(site: Site, principal: Principal, points: number): QuotaHeaders | undefined {
    const limits = effectiveLimits(site.settings.rateLimits);
    if (limits === null || limits.quota === null) return undefined;
    const app = appKeyOf(principal);
    if (app === undefined) return undefined;
    const state = this.state(site.id);
    const now = this.clock.now() + state.offset;
    const hour = Math.floor(now / HOUR_MS);
    const local = ledger(state.ledgers, app, hour);
    const global = ledger(this.global, app, hour);
    local.used += points;
    global.used += points;
    const { globalPerHour, sitePerHour } = limits.quota;
    const globalLeft = Math.max(0, globalPerHour - global.used);
    const siteLeft = Math.max(0, sitePerHour - local.used);
    // The ledger closer to running out, by the share left.
    const globalCloser = globalLeft / globalPerHour < siteLeft / sitePerHour;
    const limit = globalCloser ? globalPerHour : sitePerHour;
    const remaining = globalCloser ? globalLeft : siteLeft;
    const headers: QuotaHeaders = {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(remaining),
    };
    if (remaining < limit * 0.2) headers['X-RateLimit-NearLimit'] = 'true';
    if (limits.betaHeaders) {
      const reset = Math.ceil(((hour + 1) * HOUR_MS - now) / 1000);
      headers['Beta-RateLimit-Policy'] =
        `"global-app-quota";q=${globalPerHour};w=3600, "tenant-app-quota";q=${sitePerHour};w=3600`;
      headers['Beta-RateLimit'] = `"tenant-app-quota";r=${siteLeft};t=${reset}`;
    }
    return headers;
  }

  /** Moves the site's rate-limit clock forward: buckets refill, hours roll over. */
  advance(siteId: number, seconds: number): void {
    this.state(siteId).offset += seconds * 1000;
  }

  /** Forgets the site's buckets, ledgers and clock (and its apps' global points). */
  clear(siteId: number): void {
    const state = this.sites.get(siteId);
    if (state === undefined) return;
    // The site's points leave the apps' global ledgers too; other sites' stay.
    for (const [app, local] of state.ledgers) {
      const global = this.global.get(app);
      if (global !== undefined && global.hour === local.hour) global.used = Math.max(0, global.used - local.used);
    }
    this.sites.delete(siteId);
  }

  view(site: Site): RateLimitsView {
    const state = this.sites.get(site.id);
    const offset = state?.offset ?? 0;
    const now = this.clock.now() + offset;
    const hour = Math.floor(now / HOUR_MS);
    const buckets = [...(state?.buckets ?? [])].map(([operation, bucket]) => ({
      operation,
      capacity: bucket.capacity,
      tokens: Math.floor(refilled(bucket, now)),
    }));
    const ledgers = [...(state?.ledgers ?? [])]
      .filter(([, entry]) => entry.hour === hour)
      .map(([app, entry]) => ({
        app,
        hour: new Date(hour * HOUR_MS).toISOString(),
        sitePoints: entry.used,
        globalPoints: this.global.get(app)?.hour === hour ? (this.global.get(app)?.used ?? 0) : 0,
      }));
    return { now: new Date(now).toISOString(), offsetSeconds: offset / 1000, buckets, ledgers };
  }

  private state(siteId: number): SiteState {
    let state = this.sites.get(siteId);
    if (state === undefined) {
      state = { offset: 0, buckets: new Map(), ledgers: new Map() };
      this.sites.set(siteId, state);
    }
    return state;
  }

  private take(state: SiteState, now: number, operation: string, capacity: number, product: RateLimitProduct): void {
    let bucket = state.buckets.get(operation);
    if (bucket === undefined || bucket.capacity !== capacity) {
      bucket = { tokens: capacity, at: now, capacity };
      state.buckets.set(operation, bucket);
    }
    bucket.tokens = refilled(bucket, now);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const waitMs = ((1 - bucket.tokens) / capacity) * 1000;
    throw this.refuse(product, 'burst-based', capacity, Math.max(1, Math.ceil(waitMs / 1000)), now + waitMs);
  }

  private checkQuota(
    state: SiteState,
    now: number,
    quota: { globalPerHour: number; sitePerHour: number },
    principal: Principal,
    product: RateLimitProduct,
  ): void {
    const app = appKeyOf(principal);
    if (app === undefined) return;
    const hour = Math.floor(now / HOUR_MS);
    const global = this.global.get(app);
    const local = state.ledgers.get(app);
    const next = (hour + 1) * HOUR_MS;
    const retry = Math.max(1, Math.ceil((next - now) / 1000));
    if (global !== undefined && global.hour === hour && global.used >= quota.globalPerHour)
      throw this.refuse(product, 'quota-global-based', quota.globalPerHour, retry, next);
    if (local !== undefined && local.hour === hour && local.used >= quota.sitePerHour)
      throw this.refuse(product, 'quota-tenant-based', quota.sitePerHour, retry, next);
  }

  /** The 429 of a refusal, once the listeners were told of it. */
  private refuse(...refusal: Parameters<typeof tooMany>): ApiError {
    const [product, kind] = refusal;
    const reason: RateLimitReason = `${product}-${kind}`;
    this.refusals.tell(reason, kind === 'burst-based' ? 'burst' : 'quota');
    return tooMany(...refusal);
  }
}

/** The app a quota charges: Connect JWT, bearer asApp and asUser. Basic users, anonymous callers and the operator: none. */
function appKeyOf(principal: Principal): string | undefined {
  return principal.kind === 'app' || principal.kind === 'asUser' ? principal.app.key : undefined;
}

function refilled(bucket: Bucket, now: number): number {
  const elapsed = Math.max(0, now - bucket.at);
  return Math.min(bucket.capacity, bucket.tokens + (elapsed * bucket.capacity) / 1000);
}

function ledger(ledgers: Map<string, Ledger>, app: string, hour: number): Ledger {
  let entry = ledgers.get(app);
  if (entry === undefined) {
    entry = { hour, used: 0 };
    ledgers.set(app, entry);
  } else if (entry.hour !== hour) {
    entry.hour = hour;
    entry.used = 0;
  }
  return entry;
}

/** The 429 of §12: the product's reason and Atlassian's headers; the envelope is http/errors.ts's. */
function tooMany(
  product: RateLimitProduct,
  kind: RateLimitKind,
  limit: number,
  retryAfterSeconds: number,
  resetAt: number,
): ApiError {
  const reason: RateLimitReason = `${product}-${kind}`;
  const what =
    kind === 'burst-based'
      ? 'Too many requests to this operation'
      : kind === 'quota-global-based'
        ? "The app has used its hour's points across all sites"
        : "The app has used its hour's points on this site";
  return atStep(
    'rate-limit',
    new ApiError(
      'too_many_requests',
      `Rate limit exceeded (${reason}): ${what}; retry after ${retryAfterSeconds}s`,
      rateLimitHeaders({ product, retryAfterSeconds, limit, resetAt: new Date(Math.ceil(resetAt)), reason }),
    ),
    reason,
  );
}
