/**
 * Credentials → principal (docs/behaviour.md §3). No HTTP here: `http/auth.ts` picks the
 * scheme off the request and calls one of these. Every failure is a 401;
 * nothing falls back to anonymous.
 */
import { createHmac, hash, randomBytes } from 'node:crypto';
import { createQueryStringHash, fromMethodAndUrl } from 'atlassian-jwt';
import {
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  errors as joseErrors,
  type ProtectedHeaderParameters,
} from 'jose';
import type { Kysely } from 'kysely';
import { andThen, type MaybePromise } from '../lib/maybe-promise.ts';
import { type Clock, REFRESH_AHEAD_MS, systemClock, TtlCache } from '../lib/ttl-cache.ts';
import { groupNamesOf } from '../store/groups.ts';
import { findOAuthTokenByDigest, siteOfOAuthToken } from '../store/oauth-tokens.ts';
import type { Database } from '../store/schema.ts';
import { findApiTokenByDigest } from '../store/tokens.ts';
import { findUser } from '../store/users.ts';
import { type App, findAppByIssuer, findAppByKey, needsActAsUser } from './apps.ts';
import { ApiError, unauthenticated } from './errors.ts';
import type { OperatorCredential } from './operator.ts';
import { type Member, OPERATOR, type Principal } from './principal.ts';
import { ACT_AS_USER, heldSpelling, stillHeld } from './scopes.ts';
import { BEARER_TOKEN_PATTERN, type Secrets, safeEqual } from './secrets.ts';
import { WIKI_CONTEXT } from './site.ts';

/** docs/behaviour.md §3: at most 30 s of clock skew. */
export const JWT_CLOCK_TOLERANCE_S = 30;
/**
 * docs/behaviour.md §3, docs/decisions.md: a Connect JWT lives at most an hour
 * (`exp - iat`). Atlassian's clients give theirs three minutes.
 */
export const MAX_CONNECT_JWT_LIFETIME_S = 3600;

/**
 * One answer for an unknown issuer and a wrong signature (docs/behaviour.md §3), so
 * the 401 never tells which apps are installed.
 */
export const JWT_NOT_VERIFIED =
  'JWT rejected: the signature does not verify: no app is installed with this iss (key or clientKey), or its shared secret did not sign the token';

type Outcome<T> = { ok: true; value: T } | { ok: false; message: string };

/** A bearer token's principal, and when the token ends (a cached outcome must not outlive it). */
interface BearerGrant {
  principal: Principal;
  expiresAt: number;
}

const BEARER_INVALID = 'Bearer token rejected: it is not valid or has expired';
const BEARER_EXPIRED = 'Bearer token rejected: it has expired';
/** The auth caches keep failures apart, so a flood of bad credentials cannot push out good ones. */
const failed = <T>(outcome: Outcome<T>): boolean => !outcome.ok;

export class Authenticator {
  readonly #basic: TtlCache<string, Outcome<Principal>>;
  readonly #bearer: TtlCache<string, Outcome<BearerGrant>>;
  readonly #apps: TtlCache<string, App | undefined>;
  /** What an unknown issuer's JWT is verified with, so it costs what a known one's does, and fails the same way. */
  readonly #noSuchAppSecret = randomBytes(32).toString('base64url');

  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: Secrets,
    private readonly operator: OperatorCredential,
    /** The caches' clock; a token's own expiry is always checked against real time. */
    clock: Clock = systemClock,
  ) {
    // Refreshed ahead: a credential in steady use never waits for its lookup (lib/ttl-cache.ts).
    this.#basic = new TtlCache(clock, { isFailure: failed, refreshAheadMs: REFRESH_AHEAD_MS });
    this.#bearer = new TtlCache(clock, { isFailure: failed, refreshAheadMs: REFRESH_AHEAD_MS });
    this.#apps = new TtlCache(clock, { isFailure: (app) => app === undefined, refreshAheadMs: REFRESH_AHEAD_MS });
  }

  /**
   * The site a bearer token of `POST /oauth2/token` belongs to, on any site:
   * `GET /oauth/token/accessible-resources` answers for it wherever it is
   * asked (docs/behaviour.md §10). Undefined for anything else.
   */
  async siteOfBearerToken(token: string): Promise<number | undefined> {
    if (!BEARER_TOKEN_PATTERN.test(token)) return undefined;
    return siteOfOAuthToken(this.db, this.secrets.digest(token));
  }

  /** Forgets every cached outcome, after this process changed credentials (docs/behaviour.md §10). */
  forget(): void {
    this.#basic.clear();
    this.#bearer.clear();
    this.#apps.clear();
    this.operator.invalidate();
  }

  /** `Authorization: Basic <credential>` on a site, the credential being base64(email:apiToken). */
  basic(siteId: number, credential: string): MaybePromise<Principal> {
    // Keyed by a SHA-256 of the credential, never the credential itself.
    // Failures are cached too (apart from successes, lib/ttl-cache.ts), so a
    // flood of one bad token costs one query a second.
    // A cached answer comes back without a promise, and as the same principal
    // while it lasts: this runs on every request.
    // Keyed by site too: a credential works only on its own site (docs/behaviour.md §10).
    const outcome = this.#basic.get(`${siteId} ${hash('sha256', credential, 'base64')}`, () =>
      this.#checkBasic(siteId, credential),
    );
    return andThen(outcome, basicPrincipal);
  }

  async #checkBasic(siteId: number, credential: string): Promise<Outcome<Principal>> {
    const decoded = Buffer.from(credential, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return { ok: false, message: 'Basic authentication failed: expected base64(email:apiToken)' };
    const email = decoded.slice(0, colon);
    const digest = this.secrets.digest(decoded.slice(colon + 1));
    const invalid: Outcome<Principal> = {
      ok: false,
      message: 'Basic authentication failed: the email or API token is not valid',
    };
    const token = await findApiTokenByDigest(this.db, siteId, digest);
    if (!token || !safeEqual(token.digest, digest)) return invalid;
    const user = await findUser(this.db, siteId, token.accountId);
    if (!user || user.email.toLowerCase() !== email.toLowerCase()) return invalid;
    if (token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.now()) {
      return { ok: false, message: 'Basic authentication failed: the API token has expired' };
    }
    if (!user.active) return { ok: false, message: 'Basic authentication failed: the account is deactivated' };
    return {
      ok: true,
      value: { kind: 'user', user: { ...user, groups: await groupNamesOf(this.db, siteId, user.accountId) } },
    };
  }

  /**
   * A Connect JWT (app → product) on a site. `pathAndQuery` is the request
   * target without any `/ex/{product}/{cloudId}` or `/sites/{name}` prefix;
   * `sitePrefix`, the `/sites/{name}` the request came with, if any: the qsh
   * may be computed with or without it (docs/behaviour.md §10).
   */
  async connectJwt(
    siteId: number,
    token: string,
    method: string,
    pathAndQuery: string,
    sitePrefix?: string,
  ): Promise<Principal> {
    let header: ProtectedHeaderParameters;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      if (header.alg !== 'HS256') throw unauthenticated('JWT rejected: only HS256 is accepted');
      claims = decodeJwt(token);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw unauthenticated('JWT rejected: the token is malformed');
    }
    const issuer = claims.iss;
    if (typeof issuer !== 'string' || issuer === '') throw unauthenticated('JWT rejected: the iss claim is missing');
    const app = await this.#apps.get(`${siteId} ${issuer}`, () =>
      findAppByIssuer(this.db, siteId, this.secrets, issuer),
    );

    // An unknown issuer's token is verified too, with a key nobody has: it
    // fails at the signature, with the same answer as a wrong signature.
    verifyHs256(token, app ? app.sharedSecret : this.#noSuchAppSecret, header, claims);
    if (!app) throw unauthenticated(JWT_NOT_VERIFIED);
    // docs/behaviour.md §13: a Forge app calls through its runtime, never with a Connect JWT.
    if (app.kind === 'forge') {
      throw unauthenticated(
        `JWT rejected: ${app.key} is a Forge app, which calls through the Forge runtime (bearer tokens), not with Connect JWTs`,
      );
    }
    checkLifetime(claims as { iat: number; exp: number });
    const aud = claims.aud;
    if (aud !== undefined && !(Array.isArray(aud) ? aud : [aud]).includes(app.clientKey)) {
      throw unauthenticated('JWT rejected: aud does not name this installation');
    }
    if (typeof claims.qsh !== 'string' || !qshMatches(claims.qsh, method, pathAndQuery, sitePrefix)) {
      throw unauthenticated('JWT rejected: the qsh claim does not match this request');
    }
    return { kind: 'app', app, scopes: app.scopes, via: 'jwt' };
  }

  /**
   * `Authorization: Bearer …`, a token from `POST /oauth2/token` (docs/behaviour.md §3):
   * asApp for client_credentials, asUser for the JWT-bearer grant. Outcomes
   * are cached for at most a second, keyed by a SHA-256 of the token, so a
   * deleted app, a deleted or deactivated user, or an app that lost
   * ACT_AS_USER ends the token on every instance within a second (docs/behaviour.md §7).
   */
  bearer(siteId: number, token: string): MaybePromise<Principal> {
    // Not a token the token endpoint issues: the operator's, or nothing
    // (refused, and not cached: it would only take a place in the cache).
    if (!BEARER_TOKEN_PATTERN.test(token)) return andThen(this.operator.verify(token), operatorPrincipal);
    const outcome = this.#bearer.get(`${siteId} ${hash('sha256', token, 'base64')}`, () =>
      this.#checkBearer(siteId, token),
    );
    return andThen(outcome, bearerPrincipal);
  }

  async #checkBearer(siteId: number, token: string): Promise<Outcome<BearerGrant>> {
    const invalid: Outcome<BearerGrant> = { ok: false, message: BEARER_INVALID };
    const digest = this.secrets.digest(token);
    const stored = await findOAuthTokenByDigest(this.db, siteId, digest);
    if (!stored || !safeEqual(stored.digest, digest)) return invalid;
    const expiresAt = Date.parse(stored.expiresAt);
    if (expiresAt <= Date.now()) return { ok: false, message: BEARER_EXPIRED };
    // Deleting the app deletes its tokens (a foreign-key cascade); this covers the race.
    const app = await findAppByKey(this.db, siteId, this.secrets, stored.appKey);
    if (!app) return invalid;
    const scopes = stillHeld(app.scopes, stored.scopes);
    if (stored.accountId === null)
      return { ok: true, value: { principal: { kind: 'app', app, scopes, via: 'bearer' }, expiresAt } };

    if (needsActAsUser(app) && heldSpelling(app.scopes, ACT_AS_USER) === undefined) {
      return { ok: false, message: `Bearer token rejected: app ${app.key} no longer holds the ACT_AS_USER scope` };
    }
    const user = await findUser(this.db, siteId, stored.accountId);
    if (!user) return invalid;
    if (!user.active) return { ok: false, message: `Bearer token rejected: user ${user.accountId} is deactivated` };
    const member: Member = { ...user, groups: await groupNamesOf(this.db, siteId, user.accountId) };
    return { ok: true, value: { principal: { kind: 'asUser', app, user: member, scopes }, expiresAt } };
  }
}

/** docs/behaviour.md §3: `iat` not in the future, and at most MAX_CONNECT_JWT_LIFETIME_S before `exp`. */
function checkLifetime({ iat, exp }: { iat: number; exp: number }): void {
  if (iat > Date.now() / 1000 + JWT_CLOCK_TOLERANCE_S) throw unauthenticated('JWT rejected: its iat is in the future');
  if (exp < iat) throw unauthenticated('JWT rejected: its exp is before its iat');
  if (exp - iat > MAX_CONNECT_JWT_LIFETIME_S) {
    throw unauthenticated(
      `JWT rejected: it lives ${exp - iat} s (exp - iat): at most ${MAX_CONNECT_JWT_LIFETIME_S} s are allowed`,
    );
  }
}

function operatorPrincipal(verified: boolean): Principal {
  if (!verified) throw unauthenticated(BEARER_INVALID);
  return OPERATOR;
}

function bearerPrincipal(outcome: Outcome<BearerGrant>): Principal {
  if (!outcome.ok) throw unauthenticated(outcome.message);
  // A cached grant is good for a second at most, but never past the token's end.
  if (outcome.value.expiresAt <= Date.now()) throw unauthenticated(BEARER_EXPIRED);
  return outcome.value.principal;
}

function basicPrincipal(outcome: Outcome<Principal>): Principal {
  if (!outcome.ok) throw unauthenticated(outcome.message);
  return outcome.value;
}

/**
 * docs/behaviour.md §3: the query-string hash is accepted with or without the `/wiki`
 * context path, since atlassian-connect-express and confluence.js differ, and
 * (§10) with or without the `/sites/{name}` prefix, for the same reason.
 * The canonical form drops the `jwt` parameter itself.
 */
function qshMatches(qsh: string, method: string, pathAndQuery: string, sitePrefix: string | undefined): boolean {
  const other = pathAndQuery.startsWith(`${WIKI_CONTEXT}/`)
    ? pathAndQuery.slice(WIKI_CONTEXT.length)
    : `${WIKI_CONTEXT}${pathAndQuery}`;
  const targets = [pathAndQuery, other];
  if (sitePrefix !== undefined) targets.push(`${sitePrefix}${pathAndQuery}`, `${sitePrefix}${other}`);
  // Hashed one at a time: a client's own form is nearly always the first.
  return targets.some((target) => safeEqual(createQueryStringHash(fromMethodAndUrl(method, target)), qsh));
}

/**
 * A Connect JWT's HS256 signature and claims, checked as jose's `jwtVerify`
 * checks them with `requiredClaims` iat, exp and qsh and a clock tolerance
 * (docs/decisions.md, "Connect JWTs are verified with node:crypto"). jose 6
 * verifies through WebCrypto, whose HMAC cost 57 µs of CPU per token here
 * against node:crypto's 5 µs, and answers in a later turn: most of an app's
 * request. The caller has decoded the token (so it has three parts) and
 * checked its `alg`. The signature is compared as text, in constant time,
 * with the one the secret makes, so a signature spelled differently
 * (padding, stray characters) never verifies.
 */
function verifyHs256(token: string, secret: string, header: ProtectedHeaderParameters, claims: JWTPayload): void {
  const [encodedHeader, payload, signature] = token.split('.') as [string, string, string];
  const expected = createHmac('sha256', secret).update(`${encodedHeader}.${payload}`).digest('base64url');
  if (!safeEqual(expected, signature)) throw unauthenticated(JWT_NOT_VERIFIED);
  // No critical header extension is understood, so a token that names one is refused (RFC 7515 §4.1.11).
  if (header.crit !== undefined) throw unauthenticated('JWT rejected: the token is malformed');
  const now = Date.now() / 1000;
  for (const claim of ['iat', 'exp', 'qsh'] as const) {
    if (!(claim in claims)) throw claimInvalid(claim);
  }
  for (const claim of ['iat', 'exp', 'nbf'] as const) {
    if (claim in claims && (typeof claims[claim] !== 'number' || !Number.isFinite(claims[claim])))
      throw claimInvalid(claim);
  }
  if (claims.nbf !== undefined && claims.nbf > now + JWT_CLOCK_TOLERANCE_S) throw claimInvalid('nbf');
  if ((claims.exp as number) <= now - JWT_CLOCK_TOLERANCE_S)
    throw unauthenticated('JWT rejected: the token has expired');
}

const claimInvalid = (claim: string) => unauthenticated(`JWT rejected: the ${claim} claim is missing or invalid`);

/** A jose failure other than the signature's (which callers word themselves, to name no app). */
export function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the ${error.claim} claim is missing or invalid`;
  return 'the token is malformed';
}
