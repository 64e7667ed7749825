/**
 * The token endpoint's rules (docs/behaviour.md §3 "Token endpoint"; RFC 6749 §4.4 and
 * §5, RFC 7523). Two grants:
 * - `client_credentials`: the app's OAuth client id and secret → an asApp token;
 * - the JWT-bearer grant: Atlassian Connect's user-impersonation assertion,
 *   signed with the app's shared secret → an asUser token.
 * Tokens are 256 random bits, stored only as HMAC digests with their app,
 * user, granted scopes and expiry (store/oauth-tokens.ts). No HTTP here: the
 * route hands over the parameters, each given once, and any Basic credentials.
 */
import { randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { Kysely } from 'kysely';
import { findSealedAppByKey, sitesWithOAuthClientId } from '../store/apps.ts';
import type { Db } from '../store/database.ts';
import { deleteAppOAuthTokens, deleteExpiredOAuthTokens, insertOAuthToken } from '../store/oauth-tokens.ts';
import type { Database } from '../store/schema.ts';
import { findUser } from '../store/users.ts';
import { type App, findAppByOAuthClientId, needsActAsUser } from './apps.ts';
import { describeJoseError, JWT_CLOCK_TOLERANCE_S } from './authenticate.ts';
import { ApiError, oauthError } from './errors.ts';
import { ACT_AS_USER, grantScopes, heldSpelling } from './scopes.ts';
import { newBearerToken, type Secrets, safeEqual } from './secrets.ts';
import { SITES_ROOT, type Site, type SiteService, WIKI_CONTEXT } from './site.ts';

export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The `aud` atlassian-connect-express (through atlassian-oauth2) puts in its assertions. */
export const ATLASSIAN_AUTHORIZATION_SERVER = 'https://oauth-2-authorization-server.services.atlassian.com';
/** docs/behaviour.md §3: an impersonation assertion lives at most this long (`exp - iat`). */
export const MAX_ASSERTION_LIFETIME_S = 120;
/** How long an expired token's row is kept, so the 401 can say it expired rather than that it is unknown. */
export const EXPIRED_TOKEN_RETENTION_MS = 24 * 60 * 60 * 1000;
export const CLIENT_ID_URN = 'urn:atlassian:connect:clientid:';
export const ACCOUNT_ID_URN = 'urn:atlassian:connect:useraccountid:';

/** The parameters the endpoint reads (RFC 6749: others are ignored). */
export const TOKEN_PARAMETERS = ['grant_type', 'client_id', 'client_secret', 'assertion', 'scope'] as const;
export type TokenParameter = (typeof TOKEN_PARAMETERS)[number];

export interface TokenRequest {
  /** Each given once; an empty value counts as absent (RFC 6749 §3.1). */
  params: Partial<Record<TokenParameter, string>>;
  /** `Authorization: Basic base64(client_id:client_secret)`, when the client used it. */
  basic?: { clientId: string; clientSecret: string };
}

export interface IssuedToken {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
  /** The granted scopes, space-separated. */
  scope: string;
}

/**
 * One answer for an assertion whose iss names no app and one with a wrong
 * signature (docs/behaviour.md §3), so the answer never tells which OAuth client ids exist.
 */
export const ASSERTION_NOT_VERIFIED =
  "The assertion is not valid: the signature does not verify: no app has the OAuth client id its iss names, or that app's shared secret did not sign it";

/**
 * The OAuth client a token request names, unverified, for the guessing
 * counts (domain/guessing.ts): its client_id, else the one its assertion's
 * iss names.
 */
export function claimedClientId({ basic, params }: TokenRequest): string | undefined {
  const clientId = basic?.clientId ?? params.client_id;
  if (clientId !== undefined || params.assertion === undefined) return clientId;
  try {
    const { iss } = decodeJwt(params.assertion);
    return typeof iss === 'string' && iss.startsWith(CLIENT_ID_URN) ? iss.slice(CLIENT_ID_URN.length) : undefined;
  } catch {
    return undefined;
  }
}

/** A failure of the client's credentials: a failed client authentication, or an assertion whose signature fails. */
export function isFailedCredential(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.oauthError === 'invalid_client' ||
      (error.oauthError === 'invalid_grant' && error.message === ASSERTION_NOT_VERIFIED))
  );
}

const GRANTS = `${CLIENT_CREDENTIALS_GRANT} or ${JWT_BEARER_GRANT}`;
const invalidRequest = (message: string) => oauthError('invalid_request', message);
const invalidGrant = (message: string) => oauthError('invalid_grant', message);

export class TokenIssuer {
  /** What an assertion naming no app is verified with, so it costs what a known app's does, and fails the same way. */
  readonly #noSuchAppKey = new Uint8Array(randomBytes(32));

  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: Secrets,
    private readonly sites: SiteService,
  ) {}

  /**
   * The site a token request at the root is for (docs/behaviour.md §10): the
   * site the JWT-bearer assertion's `tnt` names, else the one site whose app
   * holds the `client_id`. Undefined leaves the request to the default site,
   * where it fails as an unknown client would.
   */
  async siteOfRootRequest(request: TokenRequest): Promise<Site | undefined> {
    const { sites } = this;
    const tenant = request.params.assertion !== undefined ? unverifiedTenant(request.params.assertion) : undefined;
    if (tenant !== undefined) {
      const named = await siteNamedBy(tenant, sites);
      if (named) return named;
    }
    const clientId = claimedClientId(request) ?? assertionClientId(request.params.assertion);
    if (clientId === undefined) return undefined;
    const holders = await sitesWithOAuthClientId(this.db, clientId);
    if (holders.length > 1) {
      throw invalidRequest(
        `client_id ${clientId} is registered on several sites: ask for the token under the site's prefix, ${SITES_ROOT}{name}/oauth2/token`,
      );
    }
    return holders.length === 1 ? sites.byId(holders[0]!) : undefined;
  }

  async issue(request: TokenRequest, site: Site): Promise<IssuedToken> {
    const { params } = request;
    const grantType = params.grant_type;
    if (grantType === undefined) throw invalidRequest(`grant_type is missing: use ${GRANTS}`);
    if (request.basic && (params.client_id !== undefined || params.client_secret !== undefined)) {
      throw invalidRequest(
        'Send the client credentials once: as HTTP Basic or as client_id and client_secret, not both',
      );
    }
    const requested = params.scope?.split(/\s+/).filter((s) => s !== '');
    const scopes = (requested?.length ?? 0) > 0 ? requested : undefined;

    if (grantType === CLIENT_CREDENTIALS_GRANT) {
      const app = await this.#authenticateClient(request, site);
      return this.#store(app, null, scopes, site);
    }
    if (grantType === JWT_BEARER_GRANT) {
      const { app, accountId } = await this.#impersonation(request, site);
      return this.#store(app, accountId, scopes, site);
    }
    throw oauthError('unsupported_grant_type', `grant_type "${grantType}" is not supported: use ${GRANTS}`);
  }

  /** Client authentication (RFC 6749 §2.3.1): HTTP Basic or body parameters, never both. */
  async #authenticateClient(request: TokenRequest, site: Site): Promise<App> {
    const { basic, params } = request;
    const clientId = basic?.clientId ?? params.client_id;
    const clientSecret = basic?.clientSecret ?? params.client_secret;
    if (clientId === undefined)
      throw invalidRequest('client_id is missing: send client_id and client_secret, or HTTP Basic credentials');
    if (clientSecret === undefined) throw invalidRequest('client_secret is missing');

    // RFC 6749 form-encodes both values before Basic's base64; most clients do
    // not, so the values are tried as sent and then form-decoded.
    const candidates: Array<[string, string]> = [[clientId, clientSecret]];
    if (basic) {
      const decoded = [formDecoded(clientId), formDecoded(clientSecret)];
      if (
        decoded[0] !== undefined &&
        decoded[1] !== undefined &&
        (decoded[0] !== clientId || decoded[1] !== clientSecret)
      ) {
        candidates.push([decoded[0], decoded[1]]);
      }
    }
    for (const [id, secret] of candidates) {
      const found = await findAppByOAuthClientId(this.db, site.id, this.secrets, id);
      // The digest is computed either way, so an unknown client_id takes as long as a wrong secret.
      const digest = this.secrets.digest(secret);
      if (found?.clientSecretDigest && safeEqual(digest, found.clientSecretDigest)) return found.app;
    }
    throw oauthError('invalid_client', 'Client authentication failed: the client_id or client_secret is not valid');
  }

  /** The Connect user-impersonation assertion (docs/behaviour.md §3), checked claim by claim. */
  async #impersonation(request: TokenRequest, site: Site): Promise<{ app: App; accountId: string }> {
    const { params } = request;
    const assertion = params.assertion;
    if (assertion === undefined) throw invalidRequest('assertion is missing: send the Connect user-impersonation JWT');
    // Client authentication is optional with an assertion (RFC 7523 §3.1); when sent, it must hold.
    const client =
      request.basic || params.client_id !== undefined || params.client_secret !== undefined
        ? await this.#authenticateClient(request, site)
        : undefined;

    let unverified: JWTPayload;
    try {
      if (decodeProtectedHeader(assertion).alg !== 'HS256')
        throw invalidGrant("The assertion must be signed with HS256 and the app's shared secret");
      unverified = decodeJwt(assertion);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw invalidGrant('The assertion is not a JWT');
    }
    const issuer = unverified.iss;
    if (typeof issuer !== 'string' || !issuer.startsWith(CLIENT_ID_URN) || issuer.length === CLIENT_ID_URN.length) {
      throw invalidGrant(`The assertion's iss must be ${CLIENT_ID_URN}<oauthClientId>`);
    }
    const clientId = issuer.slice(CLIENT_ID_URN.length);
    if (client && client.oauthClientId !== clientId)
      throw invalidGrant("The assertion's iss names another client than the one that authenticated");
    const found = await findAppByOAuthClientId(this.db, site.id, this.secrets, clientId);

    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(
        assertion,
        found ? new TextEncoder().encode(found.app.sharedSecret) : this.#noSuchAppKey,
        {
          algorithms: ['HS256'],
          clockTolerance: JWT_CLOCK_TOLERANCE_S,
          requiredClaims: ['iat', 'exp', 'sub', 'tnt', 'aud'],
        },
      ));
    } catch (error) {
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) throw invalidGrant(ASSERTION_NOT_VERIFIED);
      throw invalidGrant(`The assertion is not valid: ${describeJoseError(error)}`);
    }
    if (!found) throw invalidGrant(ASSERTION_NOT_VERIFIED);
    const { app } = found;
    const { iat, exp } = claims as { iat: number; exp: number };
    if (exp - iat > MAX_ASSERTION_LIFETIME_S) {
      throw invalidGrant(
        `The assertion lives ${exp - iat} s (exp - iat): at most ${MAX_ASSERTION_LIFETIME_S} s are allowed`,
      );
    }
    if (exp <= iat) throw invalidGrant("The assertion's exp must be after its iat");
    if (iat > Date.now() / 1000 + JWT_CLOCK_TOLERANCE_S) throw invalidGrant("The assertion's iat is in the future");

    const tenant = claims.tnt;
    const base = site.baseUrl;
    if (typeof tenant !== 'string' || ![base, `${base}${WIKI_CONTEXT}`].includes(withoutTrailingSlash(tenant))) {
      throw invalidGrant(
        `The assertion's tnt ${JSON.stringify(tenant)} is not this site: use ${base} (or ${base}${WIKI_CONTEXT})`,
      );
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    // The server base URL too: atlassian-oauth2 sends the token endpoint's base as aud, the server's at the root (§10).
    const accepted = [base, ATLASSIAN_AUTHORIZATION_SERVER, this.sites.serverBaseUrl()];
    if (!audiences.some((aud) => typeof aud === 'string' && accepted.includes(withoutTrailingSlash(aud)))) {
      throw invalidGrant(
        `The assertion's aud must name this site (${base}), this server (${accepted[2]}) or ${ATLASSIAN_AUTHORIZATION_SERVER}`,
      );
    }
    if (needsActAsUser(app) && heldSpelling(app.scopes, ACT_AS_USER) === undefined) {
      throw invalidGrant(`App ${app.key} does not hold the ${ACT_AS_USER} scope, which user impersonation needs`);
    }

    const subject = claims.sub;
    if (
      typeof subject !== 'string' ||
      !subject.startsWith(ACCOUNT_ID_URN) ||
      subject.length === ACCOUNT_ID_URN.length
    ) {
      throw invalidGrant(`The assertion's sub must be ${ACCOUNT_ID_URN}<accountId>`);
    }
    const accountId = subject.slice(ACCOUNT_ID_URN.length);
    const user = await findUser(this.db, site.id, accountId);
    if (!user) throw invalidGrant(`The assertion's sub names no user: no user has accountId ${accountId}`);
    if (user.accountType !== 'atlassian')
      throw invalidGrant(`User ${accountId} is an app's bot user, which cannot be impersonated`);
    if (!user.active) throw invalidGrant(`User ${accountId} is deactivated`);
    return { app, accountId };
  }

  async #store(app: App, accountId: string | null, requested: string[] | undefined, site: Site): Promise<IssuedToken> {
    const grant = grantScopes(app.scopes, requested);
    if (!grant.ok) throw oauthError('invalid_scope', grant.message);
    const token = newBearerToken();
    const lifetime = site.settings.oauthTokenLifetimeSeconds;
    const now = Date.now();
    // Expired tokens can never be used again. They are kept for a day, so a
    // client presenting one is told it expired; then dropped here.
    await deleteExpiredOAuthTokens(this.db, new Date(now - EXPIRED_TOKEN_RETENTION_MS).toISOString());
    await insertOAuthToken(this.db, site.id, {
      digest: this.secrets.digest(token),
      appKey: app.key,
      accountId,
      scopes: grant.scopes,
      expiresAt: new Date(now + lifetime * 1000).toISOString(),
    });
    return { accessToken: token, expiresIn: lifetime, scope: grant.scopes.join(' ') };
  }
}

/** An app's secrets as a change would leave them: undefined keeps one, null removes the client secret. */
export interface AppSecretsChange {
  sharedSecret?: string;
  clientSecret?: string | null;
}

/**
 * docs/behaviour.md §9: rotating an app's shared secret or client secret ends all
 * of its bearer tokens (asApp and asUser), whichever way the change is made
 * (the administration API, the CLI, a seed). Call it in the change's
 * transaction, before the new secrets are written: it compares them with the
 * stored ones, so writing the same secret again (a seed loaded at every
 * start) ends nothing. Returns how many tokens ended.
 */
export async function endTokensOnRotation(
  db: Db,
  siteId: number,
  secrets: Secrets,
  appKey: string,
  change: AppSecretsChange,
): Promise<number> {
  const current = await findSealedAppByKey(db, siteId, appKey);
  if (!current) return 0;
  const sharedChanged =
    change.sharedSecret !== undefined && !safeEqual(secrets.decrypt(current.sharedSecretSealed), change.sharedSecret);
  const clientChanged =
    change.clientSecret !== undefined &&
    (change.clientSecret === null || current.clientSecretDigest === null
      ? change.clientSecret !== current.clientSecretDigest
      : !safeEqual(secrets.digest(change.clientSecret), current.clientSecretDigest));
  return sharedChanged || clientChanged ? deleteAppOAuthTokens(db, siteId, appKey) : 0;
}

/** The `tnt` an assertion claims, before any signature is checked: only to pick the site it is checked on. */
function unverifiedTenant(assertion: string): string | undefined {
  try {
    const tenant = decodeJwt(assertion).tnt;
    return typeof tenant === 'string' ? tenant : undefined;
  } catch {
    return undefined;
  }
}

function assertionClientId(assertion: string | undefined): string | undefined {
  if (assertion === undefined) return undefined;
  try {
    const issuer = decodeJwt(assertion).iss;
    return typeof issuer === 'string' && issuer.startsWith(CLIENT_ID_URN)
      ? issuer.slice(CLIENT_ID_URN.length)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The site whose base URL (with or without `/wiki`) a tenant URL is. */
async function siteNamedBy(tenant: string, sites: SiteService): Promise<Site | undefined> {
  let url: URL;
  try {
    url = new URL(withoutTrailingSlash(tenant));
  } catch {
    return undefined;
  }
  let path = withoutTrailingSlash(url.pathname);
  if (path.endsWith(WIKI_CONTEXT)) path = path.slice(0, -WIKI_CONTEXT.length);
  const candidates = [
    path.startsWith(SITES_ROOT) ? await sites.byName(path.slice(SITES_ROOT.length)) : undefined,
    path === '' ? await sites.byHost(url.host) : undefined,
    await sites.defaultSite(),
  ];
  const base = `${url.origin}${path}`;
  return candidates.find((site) => site !== undefined && site.baseUrl === base);
}

/** Linear: a regular expression such as `/\/+$/` backtracks quadratically on a long run of slashes. */
function withoutTrailingSlash(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end--;
  return url.slice(0, end);
}

/** application/x-www-form-urlencoded decoding of one value; undefined when it is not valid. */
function formDecoded(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
