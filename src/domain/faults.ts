/**
 * Injected faults (docs/behaviour.md §12): rules per site, in memory on this
 * instance, applied to product routes after credentials and before the
 * step-3 checks (http/auth.ts). Reset (§11) clears a site's rules.
 *
 * The hot path: `rulesOf(siteId)` is one Map lookup, undefined when the site
 * has no rules, and nothing else runs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Listeners } from '../lib/listeners.ts';
import { mulberry32 } from '../lib/prng.ts';
import type { FaultAction, FaultMatch, FaultRuleCreate, FaultRuleView } from '../schemas/faults.ts';
import { ApiError, atStep, type ErrorCode, notFound } from './errors.ts';
import type { AuthMode } from './journal.ts';
import { ATLASSIAN_BURST, type RateLimitProduct, rateLimitHeaders } from './rate-limit-headers.ts';

/** What a rule is matched against: values the request already holds. */
export interface FaultRequest {
  method: string;
  /** The raw path as sent, after any site prefix (query included: a prefix of the path matches it too). */
  url: string;
  operation: string;
  app: string | null;
  accountId: string | null;
  authMode: AuthMode;
}

export class FaultRule {
  readonly id: string;
  readonly match: FaultMatch;
  readonly action: FaultAction;
  readonly probability: number;
  readonly seed: number;
  timesLeft: number | null;
  applied = 0;
  readonly #method: string | undefined;
  readonly #random: () => number;

  constructor(create: FaultRuleCreate) {
    this.id = randomUUID();
    this.match = create.match ?? {};
    this.action = create.action;
    this.timesLeft = create.times ?? null;
    this.probability = create.probability ?? 1;
    this.seed = create.seed ?? randomBytes(4).readUInt32BE(0);
    this.#method = this.match.method?.toUpperCase();
    this.#random = mulberry32(this.seed);
  }

  matches(request: FaultRequest): boolean {
    const m = this.match;
    return (
      (this.#method === undefined || this.#method === request.method) &&
      (m.path === undefined || request.url.startsWith(m.path)) &&
      (m.operation === undefined || m.operation === request.operation) &&
      (m.app === undefined || m.app === request.app) &&
      (m.accountId === undefined || m.accountId === request.accountId) &&
      (m.authMode === undefined || m.authMode === request.authMode)
    );
  }

  /** One draw per matching request, so the same seed and requests give the same faults. */
  fires(): boolean {
    if (this.probability >= 1) return true;
    return this.#random() < this.probability;
  }

  view(): FaultRuleView {
    return {
      id: this.id,
      match: this.match,
      action: this.action,
      times: this.timesLeft,
      probability: this.probability,
      seed: this.seed,
      applied: this.applied,
    };
  }
}

/** The status answer of a rule: any status, in the product's envelope (http/errors.ts reads `status`). */
export class FaultError extends ApiError {
  constructor(
    readonly status: number,
    readonly rule: string,
    message: string,
    headers: Record<string, string>,
  ) {
    super(codeOf(status), message, headers);
    atStep('fault', this, `rule ${rule}`);
  }
}

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  429: 'too_many_requests',
  501: 'not_implemented_by_site',
  503: 'unavailable',
};

function codeOf(status: number): ErrorCode {
  return CODE_OF_STATUS[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

/** The kind of a rule's action: an answer with a status, a delay, a destroyed connection. */
export type FaultActionKind = 'status' | 'delay' | 'reset';

export function actionKind(action: FaultAction): FaultActionKind {
  return 'status' in action ? 'status' : 'delayMs' in action ? 'delay' : 'reset';
}

/** Told of each fault applied (`/metrics`, http/metrics.ts). */
export type FaultListener = (action: FaultActionKind) => void;

export class FaultInjector {
  readonly #sites = new Map<number, FaultRule[]>();
  /** Who is told of applied faults; empty unless `/metrics` watches. */
  readonly #applied = new Listeners<Parameters<FaultListener>>();

  /** Tells `listener` of every fault applied until the returned function is called. */
  watch(listener: FaultListener): () => void {
    return this.#applied.watch(listener);
  }

  add(siteId: number, create: FaultRuleCreate): FaultRule {
    const rule = new FaultRule(create);
    const rules = this.#sites.get(siteId);
    if (rules) rules.push(rule);
    else this.#sites.set(siteId, [rule]);
    return rule;
  }

  list(siteId: number): FaultRule[] {
    return this.#sites.get(siteId) ?? [];
  }

  remove(siteId: number, id: string): void {
    const rules = this.#sites.get(siteId);
    const index = rules?.findIndex((rule) => rule.id === id) ?? -1;
    if (!rules || index === -1) throw notFound(`The site has no fault rule ${id}`);
    this.#drop(siteId, rules, index);
  }

  /** Every rule of the site; reset (§11) calls it too. */
  clear(siteId: number): void {
    this.#sites.delete(siteId);
  }

  /** The site's rules, or undefined when it has none: the hot path's one lookup. */
  rulesOf(siteId: number): readonly FaultRule[] | undefined {
    return this.#sites.get(siteId);
  }

  /**
   * The first rule that matches and fires, counted and expired as it
   * applies; undefined when none does.
   */
  take(siteId: number, rules: readonly FaultRule[], request: FaultRequest): FaultRule | undefined {
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as FaultRule;
      if (!rule.matches(request) || !rule.fires()) continue;
      rule.applied++;
      if (rule.timesLeft !== null && --rule.timesLeft === 0) this.#drop(siteId, rules as FaultRule[], i);
      if (this.#applied.size > 0) this.#applied.tell(actionKind(rule.action));
      return rule;
    }
    return undefined;
  }

  #drop(siteId: number, rules: FaultRule[], index: number): void {
    rules.splice(index, 1);
    if (rules.length === 0) this.#sites.delete(siteId);
  }
}

/**
 * The error a status rule answers with: a 429 gets Atlassian's rate-limit
 * headers (reason `<product>-burst-based`), a 503 `Retry-After: 1`; the
 * rule's own headers win.
 */
export function faultError(
  rule: FaultRule,
  action: { status: number; headers?: Record<string, string>; message?: string },
  product: RateLimitProduct,
  method: string,
  now: Date,
): FaultError {
  const given = action.headers ?? {};
  const defaults: Record<string, string> =
    action.status === 429
      ? rateLimitHeaders({
          product,
          retryAfterSeconds: 1,
          limit: ATLASSIAN_BURST[method] ?? 100,
          resetAt: new Date(now.getTime() + 1000),
        })
      : action.status === 503
        ? { 'Retry-After': '1' }
        : {};
  const givenNames = new Set(Object.keys(given).map((name) => name.toLowerCase()));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(defaults)) if (!givenNames.has(name.toLowerCase())) headers[name] = value;
  Object.assign(headers, given);
  const message = action.message ?? defaultMessage(action.status);
  return new FaultError(action.status, rule.id, message, headers);
}

function defaultMessage(status: number): string {
  if (status === 429) return 'Rate limit exceeded';
  if (status === 503) return 'Service unavailable';
  return `Injected fault: ${status}`;
}
