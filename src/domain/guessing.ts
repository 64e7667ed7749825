/**
 * Throttling of credential guessing (docs/behaviour.md §3, docs/decisions.md
 * "Credential guessing"): failed credentials are counted per named identity
 * (a Basic credential's email, a Connect JWT's `iss`, the token endpoint's
 * `client_id`) and per client address, in a one-minute window. Once either
 * holds the site's limit, requests naming that identity, or from that
 * address, are refused with 429 and `Retry-After` for the rest of the window,
 * before their credential is checked. Successes are never counted.
 *
 * Counts live in memory, per instance.
 */
import { decodeJwt } from 'jose';
import { type Clock, systemClock } from '../lib/ttl-cache.ts';
import { WindowCounter } from '../lib/window-counter.ts';
import type { SiteSettings } from '../schemas/site.ts';
import { ApiError, atStep } from './errors.ts';

/** The window failures are counted in. */
export const GUESSING_WINDOW_MS = 60_000;
/** How many identities, and how many addresses, are tracked at once; past it the oldest window is forgotten. */
export const MAX_TRACKED_KEYS = 10_000;

export type GuessingLimits = Pick<SiteSettings, 'failedCredentialsPerIdentity' | 'failedCredentialsPerAddress'>;

export class GuessingGuard {
  readonly #identities: WindowCounter;
  readonly #addresses: WindowCounter;
  /** Until when some identity or address may be refused: past it, nothing is, and no credential need be read. */
  #refusingUntil = 0;

  constructor(
    private readonly clock: Clock = systemClock,
    maxKeys = MAX_TRACKED_KEYS,
  ) {
    this.#identities = new WindowCounter(clock, GUESSING_WINDOW_MS, maxKeys);
    this.#addresses = new WindowCounter(clock, GUESSING_WINDOW_MS, maxKeys);
  }

  /**
   * Whether any identity or address may be refused now. False nearly always,
   * and answered without allocating: the auth hook asks it on every request.
   */
  mayRefuse(): boolean {
    return this.clock.now() < this.#refusingUntil;
  }

  /** Throws the 429 when the address, or the identity the request names, has used up its failures. */
  check(address: string, identity: string | undefined, limits: GuessingLimits): void {
    if (!this.mayRefuse()) return;
    const byAddress = this.#addresses.blockedFor(address, limits.failedCredentialsPerAddress);
    const byIdentity =
      identity === undefined ? 0 : this.#identities.blockedFor(identity, limits.failedCredentialsPerIdentity);
    if (byIdentity > byAddress) throw tooManyFailures(byIdentity, 'naming this identity');
    if (byAddress > 0) throw tooManyFailures(byAddress, 'from this address');
  }

  /** Counts a failed credential from `address`, naming `identity` when it named one. */
  failed(address: string, identity: string | undefined, limits: GuessingLimits): void {
    this.#note(this.#addresses.add(address), limits.failedCredentialsPerAddress);
    if (identity !== undefined) this.#note(this.#identities.add(identity), limits.failedCredentialsPerIdentity);
  }

  #note(window: { count: number; ends: number }, limit: number): void {
    if (window.count >= limit && window.ends > this.#refusingUntil) this.#refusingUntil = window.ends;
  }
}

function tooManyFailures(ms: number, whose: string): ApiError {
  const seconds = Math.ceil(ms / 1000);
  // Refused in place of the credential check (docs/behaviour.md §3), not a rate limit of §12.
  return atStep(
    'credentials',
    new ApiError(
      'too_many_requests',
      `Too many failed credentials ${whose} in the last minute: retry in ${seconds} s`,
      {
        'Retry-After': String(seconds),
      },
    ),
  );
}

/** The identity a Basic credential (base64 of email:token) names: its email, in lower case as emails compare. */
export function basicIdentity(credential: string): string | undefined {
  const decoded = Buffer.from(credential, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon <= 0 ? undefined : `email:${decoded.slice(0, colon).toLowerCase()}`;
}

/** The identity a Connect JWT names: its `iss` (an app key or clientKey), unverified. */
export function jwtIdentity(token: string): string | undefined {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' && iss !== '' ? `app:${iss}` : undefined;
  } catch {
    return undefined;
  }
}

/** The identity a token request names: its OAuth `client_id`. */
export function clientIdentity(clientId: string | undefined): string | undefined {
  return clientId === undefined ? undefined : `client:${clientId}`;
}
