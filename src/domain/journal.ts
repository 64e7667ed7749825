/**
 * The request journal (docs/behaviour.md §11): per site, the latest
 * `journalSize` requests this instance answered, newest first. It lives in
 * this process's memory only, so with several instances each keeps its own
 * (docs/operations.md).
 *
 * Recording runs on every product request, the hot property read included
 * (docs/architecture.md "Hot routes"), so it keeps only what the request
 * already holds: one record of references and numbers per request, written
 * into a fixed-size array per site. Everything a reader sees (the path and
 * query apart, the `jwt` parameter taken out, the principal's names, the
 * step that refused the request, the time as text) is worked out when the
 * journal is read, which is rare.
 */
import type { JournalEntry } from '../schemas/journal.ts';
import { type ApiError, checkStep } from './errors.ts';
import { FaultError } from './faults.ts';
import type { Principal } from './principal.ts';
import type { Site } from './site.ts';

/** How the request authenticated (docs/behaviour.md §11); `forge` belongs to Forge apps (§13). */
export type AuthMode = JournalEntry['authMode'];

export type { JournalEntry };

/** One answered request, as recorded: the request's own values, nothing copied or derived. */
export class JournalRecord {
  /** Assigned by the journal: increasing on this instance, across all sites. */
  id = 0;
  /** Wall-clock milliseconds when the answer was recorded; the request arrived `durationMs` before. */
  endedAt = 0;

  constructor(
    readonly method: string,
    /** The URL as routed: after any `/sites/{name}` prefix, with its query. May hold a `jwt` parameter until read. */
    readonly url: string,
    readonly status: number,
    readonly durationMs: number,
    /** The route's operation id (docs/scopes.md); null for routes outside the scope table and unknown paths. */
    readonly operation: string | null,
    readonly authMode: AuthMode,
    /** Null when the credentials did not resolve to one, or the route reads none. */
    readonly principal: Principal | null,
    /** The error the answer was made from, if any. */
    readonly failure: ApiError | null,
  ) {}
}

export interface JournalFilter {
  operation?: string;
  status?: number;
  /** The calling app's key. */
  app?: string;
  /** The caller's accountId: the user's, the impersonated user's, or the app's bot user's. */
  accountId?: string;
  /** Only entries newer than this id. */
  since?: number;
  limit?: number;
}

export const DEFAULT_JOURNAL_LIMIT = 100;

/** One site's records: a ring over a fixed-size array, `next` being the slot the next record takes. */
class Ring {
  readonly slots: Array<JournalRecord | undefined>;
  next = 0;
  count = 0;

  constructor(size: number) {
    this.slots = new Array(size).fill(undefined);
  }

  add(record: JournalRecord): void {
    const { slots } = this;
    slots[this.next] = record;
    this.next = this.next + 1 === slots.length ? 0 : this.next + 1;
    if (this.count < slots.length) this.count++;
  }

  /** Newest first. */
  *newestFirst(): Generator<JournalRecord> {
    const { slots } = this;
    for (let i = 1; i <= this.count; i++) yield slots[(this.next - i + slots.length) % slots.length]!;
  }

  /** A ring of another size holding as many of the newest records as fit. */
  resized(size: number): Ring {
    const ring = new Ring(size);
    const kept = [...this.newestFirst()].slice(0, size).reverse();
    for (const record of kept) ring.add(record);
    return ring;
  }
}

export class Journal {
  readonly #rings = new Map<number, Ring>();
  #lastId = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Keeps `record` in the site's journal, dropping the oldest past `journalSize`; nothing when the setting is 0. */
  record(site: Site, record: JournalRecord): void {
    if (site.settings.journalSize === 0) return;
    const ring = this.#ringOf(site, true)!;
    record.id = ++this.#lastId;
    record.endedAt = this.now();
    ring.add(record);
  }

  /** The site's entries that pass `filter`, newest first, at most `limit`. */
  list(site: Site, filter: JournalFilter = {}): JournalEntry[] {
    const ring = this.#ringOf(site, false);
    if (ring === undefined) return [];
    const limit = filter.limit ?? DEFAULT_JOURNAL_LIMIT;
    const entries: JournalEntry[] = [];
    for (const record of ring.newestFirst()) {
      if (entries.length >= limit) break;
      // Ids only grow: everything older is older still.
      if (filter.since !== undefined && record.id <= filter.since) break;
      if (filter.operation !== undefined && record.operation !== filter.operation) continue;
      if (filter.status !== undefined && record.status !== filter.status) continue;
      const principal = principalOf(record.principal);
      if (filter.app !== undefined && principal.app !== filter.app) continue;
      if (filter.accountId !== undefined && principal.accountId !== filter.accountId) continue;
      entries.push(entryOf(record, principal));
    }
    return entries;
  }

  /**
   * The site's ring, sized as its `journalSize` says now: a changed setting
   * keeps the newest records that still fit, and 0 drops them all.
   */
  #ringOf(site: Site, create: boolean): Ring | undefined {
    const size = site.settings.journalSize;
    let ring = this.#rings.get(site.id);
    if (ring?.slots.length === size) return ring;
    if (size === 0) {
      this.#rings.delete(site.id);
      return undefined;
    }
    if (ring !== undefined) ring = ring.resized(size);
    else if (create) ring = new Ring(size);
    else return undefined;
    this.#rings.set(site.id, ring);
    return ring;
  }

  /** Empties the site's journal: `DELETE /admin/api/journal`, reset and restore, and a deleted site. */
  clear(siteId: number): void {
    this.#rings.delete(siteId);
  }
}

function entryOf(record: JournalRecord, principal: JournalEntry['principal']): JournalEntry {
  const { url } = record;
  const mark = url.indexOf('?');
  return {
    id: record.id,
    time: new Date(record.endedAt - record.durationMs).toISOString(),
    method: record.method,
    path: mark === -1 ? url : url.slice(0, mark),
    query: mark === -1 ? '' : withoutJwt(url.slice(mark + 1)),
    status: record.status,
    durationMs: Math.round(record.durationMs * 1000) / 1000,
    operation: record.operation,
    authMode: record.authMode,
    principal,
    decision: decisionOf(record),
  };
}

/** The query string without its `jwt` parameters (a Connect credential, docs/behaviour.md §11), as sent otherwise. */
function withoutJwt(query: string): string {
  return query
    .split('&')
    .filter((pair) => {
      const equals = pair.indexOf('=');
      return parameterName(equals === -1 ? pair : pair.slice(0, equals)) !== 'jwt';
    })
    .join('&');
}

function parameterName(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replaceAll('+', ' '));
  } catch {
    return encoded;
  }
}

function principalOf(principal: Principal | null): JournalEntry['principal'] {
  switch (principal?.kind) {
    case undefined:
    case 'anonymous':
      return { kind: 'anonymous', accountId: null, app: null };
    case 'user':
      return { kind: 'user', accountId: principal.user.accountId, app: null };
    case 'app':
      return { kind: 'app', accountId: principal.app.accountId, app: principal.app.key };
    case 'asUser':
      return { kind: 'asUser', accountId: principal.user.accountId, app: principal.app.key };
    case 'operator':
      return { kind: 'operator', accountId: null, app: null };
  }
}

function decisionOf({ failure, status }: JournalRecord): JournalEntry['decision'] {
  if (failure instanceof FaultError)
    return { step: 'fault', reason: failure.reason ?? failure.message, rule: failure.rule };
  if (failure !== null) return { step: checkStep(failure), reason: failure.reason ?? failure.message };
  if (status < 400) return null;
  // An answer made without an ApiError (none is expected): named by its status alone.
  return {
    step: status >= 500 ? 'internal' : status === 404 || status === 405 ? 'route' : 'syntax',
    reason: `${status}`,
  };
}
