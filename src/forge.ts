/**
 * `userplane/forge`: the Forge runtime for tests (docs/forge.md, docs/behaviour.md §13).
 *
 * `@forge/api` does no HTTP of its own: every product call goes to
 * `global.__forge_fetch__(proxy, path, init)`, and `getAppContext()`,
 * `authorize()` and the rest read `global.__forge_runtime__`; Forge's
 * runtime installs both before a function runs. `forgeRuntime()` installs
 * its own two in this process, backed by a userplane site, so an app's
 * unmodified resolvers run in node:test, Vitest or Jest:
 *
 * - asApp → a `client_credentials` token of the app's own OAuth client;
 * - asUser → a token of the JWT-bearer grant, its assertion signed with the
 *   app's shared secret (docs/behaviour.md §3), for the invoking user (or the
 *   one `asUser(accountId)` names); no invoking user → the answer Forge gives,
 *   `forge-proxy-error: NEEDS_AUTHENTICATION_ERR`, so `@forge/api` throws
 *   its `NeedsAuthenticationError`;
 * - bare `requestConfluence` / `requestJira` → anonymous;
 * - every other remote → 404 naming what is not emulated.
 *
 * Tokens come from the site's own token endpoint with the app's own
 * credentials and are kept until shortly before they expire, so the harness
 * can do nothing the app's credentials cannot. It imports nothing of the
 * server: loading it costs `jose` and nothing else.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

export interface ForgeRuntimeOptions {
  /**
   * Where the site answers, as the app would reach it: `http://127.0.0.1:4000`,
   * or with a site prefix, `http://127.0.0.1:4000/sites/acme`. Forge's
   * routes (`/wiki/rest/api/…`, `/rest/api/3/…`) are appended to it.
   */
  baseUrl: string;
  /** The app's id, `ari:cloud:ecosystem::app/<uuid>`: its key on the site. */
  appId: string;
  /** The app's OAuth client id (`oauthClientId`) and secret: asApp tokens. */
  clientId: string;
  clientSecret: string;
  /** The app's shared secret: it signs the assertions of asUser tokens. */
  sharedSecret: string;
  /** The invoking user; none makes `asUser()` fail as in Forge. */
  accountId?: string;
  /**
   * The site's base URL as its settings name it, when it differs from
   * `baseUrl` (a seed's `site.baseUrl` that no server answers at): the
   * assertions' `tnt`. Default `baseUrl`.
   */
  siteUrl?: string;
}

export interface ForgeRuntime {
  /** The invoking user, or undefined. */
  readonly accountId: string | undefined;
  /** Makes `accountId` the invoking user (undefined: none), as a new invocation. */
  as(accountId: string | undefined): void;
  /** Puts back what `global.__forge_fetch__` and `global.__forge_runtime__` were before. */
  uninstall(): void;
}

/** What `@forge/api` passes as the first argument of `__forge_fetch__` (its out/api/fetch.js). */
interface ProxyTarget {
  type?: string;
  provider?: string;
  remote?: string;
  accountId?: string;
  contextAri?: string;
}

type RequestOptions = RequestInit & { headers?: HeadersInit };

const APP_ARI_PREFIX = 'ari:cloud:ecosystem::app/';
const GLOBALS = ['__forge_fetch__', '__forge_runtime__'] as const;
const CLIENT_ID_URN = 'urn:atlassian:connect:clientid:';
const ACCOUNT_ID_URN = 'urn:atlassian:connect:useraccountid:';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** An assertion's life; the token endpoint allows at most 120 s. */
const ASSERTION_LIFETIME_S = 60;
/** A token is asked for again this long before it expires (or at half its life, if shorter). */
const TOKEN_MARGIN_MS = 30_000;
/** What the runtime in this process is, so a second one is refused rather than silently replacing it. */
const INSTALLED = Symbol.for('userplane.forgeRuntime');

/** Installs the Forge runtime in this process (docs/forge.md); `uninstall()` it when done. */
export async function forgeRuntime(options: ForgeRuntimeOptions): Promise<ForgeRuntime> {
  const installed = (globalThis as Record<string | symbol, unknown>)[INSTALLED];
  if (installed !== undefined) {
    throw new Error(
      'userplane/forge: a Forge runtime is already installed in this process; uninstall() it first (one invocation context at a time, as in Forge)',
    );
  }
  const baseUrl = withoutTrailingSlash(options.baseUrl);
  const uuid = options.appId.startsWith(APP_ARI_PREFIX) ? options.appId.slice(APP_ARI_PREFIX.length) : options.appId;
  const tokens = new TokenSource({ ...options, baseUrl, siteUrl: withoutTrailingSlash(options.siteUrl ?? baseUrl) });
  // The app's credentials are checked now, with the error naming them; the answer also says which scopes it holds.
  const appToken = await tokens.app();
  const cloudId = await tenantCloudId(baseUrl);

  let accountId = options.accountId;
  const runtime = forgeRuntimeContext({ uuid, cloudId, baseUrl, scopes: appToken.scopes, accountId });
  const fetch = (proxy: ProxyTarget, path: string, init?: RequestOptions) =>
    runtimeFetch(proxy, path, init ?? {}, { baseUrl, tokens, invokingUser: () => accountId });

  const saved = GLOBALS.map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)] as const);
  const define = (name: string | symbol, value: unknown) =>
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true, enumerable: false });
  define('__forge_fetch__', fetch);
  define('__forge_runtime__', runtime);
  define(INSTALLED, true);

  let uninstalled = false;
  return {
    get accountId() {
      return accountId;
    },
    as(next: string | undefined) {
      if (uninstalled) throw new Error('userplane/forge: this Forge runtime was uninstalled');
      accountId = next;
      runtime.aaid = next;
      runtime.appContext.invocationId = randomUUID();
    },
    uninstall() {
      if (uninstalled) return;
      uninstalled = true;
      for (const [name, descriptor] of saved) {
        if (descriptor === undefined) delete (globalThis as Record<string, unknown>)[name];
        else Object.defineProperty(globalThis, name, descriptor);
      }
      delete (globalThis as Record<symbol, unknown>)[INSTALLED];
    },
  };
}

// ---------------------------------------------------------------- the runtime fetch

interface FetchContext {
  baseUrl: string;
  tokens: TokenSource;
  invokingUser(): string | undefined;
}

/** `global.__forge_fetch__`: a product call, answered by the site, or the answer Forge's proxy would give. */
async function runtimeFetch(
  proxy: ProxyTarget,
  path: string,
  init: RequestOptions,
  context: FetchContext,
): Promise<Response> {
  if (productOf(proxy, path) === undefined) return notEmulated(proxy, path);
  const url = `${context.baseUrl}${path.startsWith('/') ? path : `/${path}`}`;

  if (proxy.provider === 'none') return fetch(url, { ...init, headers: withoutAuthorization(init.headers) });
  let user: string | undefined;
  if (proxy.provider === 'user') {
    user = proxy.accountId ?? context.invokingUser();
    if (user === undefined) return needsAuthentication();
  } else if (proxy.provider !== 'app') {
    return notEmulated(proxy, path);
  }

  const call = async (fresh: boolean) => {
    const token = user === undefined ? await context.tokens.app(fresh) : await context.tokens.user(user, fresh);
    if ('refused' in token) return token.refused;
    const headers = withoutAuthorization(init.headers);
    headers.set('authorization', `Bearer ${token.accessToken}`);
    return { response: await fetch(url, { ...init, headers }), cached: token.cached };
  };
  const first = await call(false);
  if (first instanceof Response) return first;
  // A token the site has ended since (a reset, a rotated secret): one more try with a new one.
  if (first.response.status === 401 && first.cached && replayable(init.body)) {
    await first.response.body?.cancel();
    const second = await call(true);
    return second instanceof Response ? second : second.response;
  }
  return first.response;
}

/** The product a call is for, from its remote, or from its path when `withContext` named none; undefined: not emulated. */
function productOf(proxy: ProxyTarget, path: string): 'confluence' | 'jira' | undefined {
  if (proxy.type !== 'fpp') return undefined;
  if (proxy.remote === 'confluence' || proxy.remote === 'jira') return proxy.remote;
  if (proxy.remote !== undefined) return undefined;
  if (path.startsWith('/wiki/')) return 'confluence';
  if (path.startsWith('/rest/api/')) return 'jira';
  return undefined;
}

/** 404 naming what userplane does not emulate (docs/forge.md "What is not emulated"). */
function notEmulated(proxy: ProxyTarget, path: string): Response {
  const what = describeRemote(proxy, path);
  return Response.json(
    {
      statusCode: 404,
      message: `userplane does not emulate ${what}: only Confluence and Jira product calls are served (docs/forge.md)`,
    },
    { status: 404 },
  );
}

function describeRemote(proxy: ProxyTarget, path: string): string {
  if (proxy.type === 'tpp') return `external auth (asUser().withProvider(${JSON.stringify(proxy.provider)}))`;
  if (proxy.type !== undefined && proxy.type !== 'fpp') return `Forge ${proxy.type} calls (${path})`;
  if (proxy.remote === 'bitbucket') return 'Bitbucket (requestBitbucket)';
  if (proxy.remote === 'stargate') {
    if (path === '/graphql') return 'the GraphQL gateway (requestGraph)';
    if (path === '/graphql/twg') return 'the Teamwork Graph (requestTeamworkGraph)';
    if (path === '/app/report-accounts') return 'the personal data reporting API (privacy.reportPersonalData)';
    if (path.startsWith('/connected-data/')) return 'connected data (requestConnectedData)';
    return `Atlassian platform APIs (requestAtlassian ${path})`;
  }
  return `the remote ${JSON.stringify(proxy.remote ?? proxy.provider)} (${path})`;
}

/** What Forge's proxy answers for asUser() with no user: `@forge/api` throws `NeedsAuthenticationError` on the header. */
function needsAuthentication(): Response {
  return Response.json(
    { statusCode: 401, message: 'asUser() needs an invoking user: this invocation has none (forge.as(accountId))' },
    { status: 401, headers: { 'forge-proxy-error': 'NEEDS_AUTHENTICATION_ERR' } },
  );
}

/** The app's headers, minus any Authorization: the runtime authenticates, as Forge's proxy does. */
function withoutAuthorization(headers: HeadersInit | undefined): Headers {
  const out = new Headers(headers);
  out.delete('authorization');
  out.delete('forge-proxy-error');
  return out;
}

function replayable(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body)
  );
}

// ---------------------------------------------------------------- tokens

interface HeldToken {
  accessToken: string;
  scopes: string[];
  /** Epoch ms after which it is asked for again. */
  renewAt: number;
}
type TokenAnswer = (HeldToken & { cached: boolean }) | { refused: Response };

/** The app's tokens from the site's token endpoint, asApp and per user, kept until shortly before they expire. */
class TokenSource {
  readonly #held = new Map<string, HeldToken>();

  constructor(private readonly options: ForgeRuntimeOptions & { baseUrl: string; siteUrl: string }) {}

  async app(fresh = false): Promise<HeldToken & { cached: boolean }> {
    const answer = await this.#get('', fresh, () => ({
      grant_type: 'client_credentials',
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    }));
    if ('refused' in answer) throw new Error(`userplane/forge: ${await answer.refused.text()}`);
    return answer;
  }

  async user(accountId: string, fresh = false): Promise<TokenAnswer> {
    return this.#get(accountId, fresh, async () => ({
      grant_type: JWT_BEARER_GRANT,
      assertion: await this.#assertion(accountId),
    }));
  }

  async #get(
    key: string,
    fresh: boolean,
    params: () => Record<string, string> | Promise<Record<string, string>>,
  ): Promise<TokenAnswer> {
    const held = this.#held.get(key);
    if (held && !fresh && Date.now() < held.renewAt) return { ...held, cached: true };
    this.#held.delete(key);
    const sent = Date.now();
    const response = await fetch(`${this.options.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(await params()).toString(),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status !== 200 || typeof body.access_token !== 'string') {
      return { refused: tokenRefused(key, response.status, body, this.options) };
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000;
    const token: HeldToken = {
      accessToken: body.access_token,
      scopes: typeof body.scope === 'string' ? body.scope.split(' ').filter((s) => s !== '') : [],
      renewAt: sent + lifetimeMs - Math.min(TOKEN_MARGIN_MS, lifetimeMs / 2),
    };
    this.#held.set(key, token);
    return { ...token, cached: false };
  }

  /** The Connect user-impersonation assertion the token endpoint verifies (docs/behaviour.md §3), as atlassian-oauth2 signs it. */
  #assertion(accountId: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ tnt: this.options.siteUrl })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(`${CLIENT_ID_URN}${this.options.clientId}`)
      .setSubject(`${ACCOUNT_ID_URN}${accountId}`)
      .setAudience(this.options.siteUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + ASSERTION_LIFETIME_S)
      .sign(new TextEncoder().encode(this.options.sharedSecret));
  }
}

/**
 * The token endpoint's refusal, for the app: an asUser call for a user it
 * cannot act for (unknown, deactivated, a bot) gets a 401 naming why, as an
 * ordinary answer; asApp's refusal is thrown, since it means the harness was
 * given the wrong credentials.
 */
function tokenRefused(
  key: string,
  status: number,
  body: Record<string, unknown>,
  options: ForgeRuntimeOptions,
): Response {
  const reason = [body.error, body.error_description].filter((s) => typeof s === 'string').join(': ');
  const who = key === '' ? `app ${options.appId}` : `user ${key}`;
  return Response.json(
    {
      statusCode: 401,
      message: `the token endpoint (${options.baseUrl}/oauth2/token) refused a token for ${who}: ${status}${reason ? ` ${reason}` : ''}`,
    },
    { status: 401 },
  );
}

// ---------------------------------------------------------------- the invocation context

interface RuntimeContext {
  aaid: string | undefined;
  appContext: { invocationId: string } & Record<string, unknown>;
  [name: string]: unknown;
}

/** `global.__forge_runtime__`: what `getAppContext()`, `authorize()` and `permissions` read (docs/forge.md). */
function forgeRuntimeContext(input: {
  uuid: string;
  cloudId: string | undefined;
  baseUrl: string;
  scopes: string[];
  accountId: string | undefined;
}): RuntimeContext {
  const installationId = randomUUID();
  const contextAri = input.cloudId ? `ari:cloud:confluence::site/${input.cloudId}` : '';
  const noop = { incr() {}, incrBy() {}, decr() {}, decrBy() {}, set() {}, measure: () => ({ stop() {} }) };
  return {
    proxy: { token: '', url: input.baseUrl },
    contextAri,
    container: {},
    appContext: {
      appId: input.uuid,
      appVersion: '1.0.0',
      environmentId: randomUUID(),
      environmentType: 'DEVELOPMENT',
      invocationId: randomUUID(),
      installationId,
      functionKey: 'userplane',
      moduleType: 'core:function',
      moduleKey: 'userplane',
      installation: {
        ari: {
          installationId,
          toString: () => `ari:cloud:ecosystem::installation/${installationId}`,
          toJSON: () => `ari:cloud:ecosystem::installation/${installationId}`,
        },
        contexts: input.cloudId
          ? [{ cloudId: input.cloudId, toString: () => contextAri, toJSON: () => contextAri }]
          : [],
      },
      permissions: { scopes: input.scopes, external: {} },
    },
    aaid: input.accountId,
    lambdaContext: { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 25_000 },
    tracing: { traceId: randomUUID().replaceAll('-', ''), spanId: randomUUID().slice(0, 16) },
    realtime: {},
    metrics: { counter: () => noop, timing: () => noop, gauge: () => noop },
    externalAuth: [],
    featureFlags: () => false,
  };
}

/** The site's cloudId (`/_edge/tenant_info`, public), for the context's ARIs; undefined when it does not answer. */
async function tenantCloudId(baseUrl: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${baseUrl}/_edge/tenant_info`);
    const body = (await response.json()) as { cloudId?: unknown };
    return typeof body.cloudId === 'string' ? body.cloudId : undefined;
  } catch {
    return undefined;
  }
}

/** Linear: a regular expression such as `/\/+$/` backtracks quadratically on a long run of slashes. */
function withoutTrailingSlash(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end--;
  return url.slice(0, end);
}
