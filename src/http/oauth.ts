/**
 * `POST /oauth2/token` (docs/behaviour.md §3): parse → domain/oauth.ts → RFC 6749 §5.1's
 * answer. Errors leave in RFC 6749's `{error, error_description}` envelope,
 * which http/errors.ts picks for every path under `/oauth2/`.
 *
 * This is the one place form bodies are parsed: the parser is registered
 * inside this plugin only (Fastify encapsulation), so every other route keeps
 * answering a form body with 400 (http/json-body.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError, atStep, oauthError } from '../domain/errors.ts';
import { clientIdentity, type GuessingGuard } from '../domain/guessing.ts';
import {
  claimedClientId,
  type IssuedToken,
  isFailedCredential,
  TOKEN_PARAMETERS,
  type TokenIssuer,
  type TokenRequest,
} from '../domain/oauth.ts';
import { errorResponses } from '../schemas/errors.ts';
import { TokenRequestSchema, TokenResponseSchema } from '../schemas/oauth.ts';

const CONTENT_TYPES = 'application/x-www-form-urlencoded or application/json';
const invalidRequest = (message: string) => oauthError('invalid_request', message);

/** RFC 6749 §5.2: a client that authenticated with the Authorization header is told the scheme again on failure. */
const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="userplane", charset="UTF-8"' };

/** A failed client authentication, with the Basic challenge when the client sent an Authorization header. */
function challenged(error: unknown, authorization: string | undefined): unknown {
  if (!(error instanceof ApiError) || error.oauthError !== 'invalid_client' || authorization === undefined)
    return error;
  const answer = new ApiError(error.code, error.message, { ...error.headers, ...BASIC_CHALLENGE }, error.oauthError);
  answer.step = error.step;
  answer.reason = error.reason;
  return answer;
}

/** A form body, with repeated names kept as arrays so they can be refused (RFC 6749 §3.1). */
type FormBody = Record<string, string | string[]>;

/**
 * The most name=value pairs a token request's form may carry. A token
 * request has at most seven parameters; the cap keeps a 1 MiB body of
 * `a=1&a=1&…` from costing more than a count (docs/decisions.md, "Requests and errors").
 */
export const MAX_FORM_FIELDS = 64;

export const oauthRoutes: FastifyPluginAsyncTypebox<{
  issuer: TokenIssuer;
  guard: GuessingGuard;
}> = async (app, { issuer, guard }) => {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (request, body: string, done) => {
      if (request.is404) return done(null, undefined);
      const form = parseForm(body);
      if (form === undefined)
        return done(invalidRequest(`The request body has more than ${MAX_FORM_FIELDS} parameters`), undefined);
      done(null, form);
    },
  );
  // Any other content type: RFC 6749's envelope, naming both accepted types.
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, _body, done) => {
    if (request.is404) return done(null, undefined);
    const type = request.headers['content-type'];
    done(
      invalidRequest(
        type
          ? `Content-Type "${type}" is not supported: send ${CONTENT_TYPES}`
          : `The request body has no Content-Type: send ${CONTENT_TYPES}`,
      ),
      undefined,
    );
  });

  // RFC 6749 §5.1: token answers are never cached; the errors neither.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    done(null, payload);
  });

  app.post(
    '/token',
    {
      schema: {
        tags: ['OAuth 2.0'],
        summary: 'Issue a bearer token: client_credentials (asApp) or the Connect JWT-bearer grant (asUser)',
        response: {
          200: TokenResponseSchema,
          ...errorResponses('oauth', {
            400: 'invalid_request, invalid_grant, unsupported_grant_type or invalid_scope; error_description names the problem.',
            401: 'invalid_client: unknown client, wrong secret, or a signature that does not verify.',
            429: 'temporarily_unavailable: too many failed credentials from this address or for this client_id in the last minute; Retry-After says when to retry.',
          }),
        },
      },
      config: {
        access: { kind: 'public' },
        documented: {
          body: { schema: TokenRequestSchema, consumes: ['application/x-www-form-urlencoded', 'application/json'] },
        },
      },
    },
    async (request) => {
      let site = request.site;
      let limits = site.settings;
      // Failed credentials count against the address and the client_id
      // named; past the site's limits the request is refused before any
      // credential is checked (docs/behaviour.md §3).
      let identity: string | undefined;
      let token: IssuedToken;
      try {
        guard.check(request.ip, undefined, limits);
        const tokenRequest: TokenRequest = { params: readParameters(request.body) };
        const basic = basicCredentials(request.headers.authorization);
        if (basic) tokenRequest.basic = basic;
        // At the root, the request itself names its site (docs/behaviour.md §10).
        if (request.siteSelector === 'default') {
          site = (await issuer.siteOfRootRequest(tokenRequest)) ?? site;
          limits = site.settings;
          // The request is journaled on the site it was for (docs/behaviour.md §11).
          request.site = site;
        }
        const clientId = clientIdentity(claimedClientId(tokenRequest));
        identity = clientId === undefined ? undefined : `${site.id} ${clientId}`;
        guard.check(request.ip, identity, limits);
        token = await issuer.issue(tokenRequest, site);
      } catch (error) {
        if (isFailedCredential(error)) guard.failed(request.ip, identity, limits);
        throw challenged(error, request.headers.authorization);
      }
      return {
        access_token: token.accessToken,
        token_type: 'Bearer' as const,
        expires_in: token.expiresIn,
        scope: token.scope,
      };
    },
  );
};

/** The form's fields, in time linear in its length; undefined when it has more than MAX_FORM_FIELDS. */
function parseForm(body: string): FormBody | undefined {
  // Count the separators first, so an oversized form is refused before it is decoded.
  let fields = 1;
  for (let at = body.indexOf('&'); at !== -1; at = body.indexOf('&', at + 1)) {
    if (++fields > MAX_FORM_FIELDS) return undefined;
  }
  const form: FormBody = Object.create(null);
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = form[name];
    if (seen === undefined) form[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else form[name] = [seen, value];
  }
  return form;
}

/**
 * The parameters the endpoint reads, from a form or a JSON object. Each must
 * be a single string; an empty one counts as absent (RFC 6749 §3.1). Other
 * parameters are ignored, as RFC 6749 requires.
 */
function readParameters(body: unknown): TokenRequest['params'] {
  if (body === undefined || body === null)
    throw invalidRequest(`The request body is empty: send grant_type and the grant's parameters as ${CONTENT_TYPES}`);
  if (typeof body !== 'object' || Array.isArray(body))
    throw invalidRequest('The request body must be a JSON object of parameters');
  const params: TokenRequest['params'] = {};
  for (const name of TOKEN_PARAMETERS) {
    const value = (body as Record<string, unknown>)[name];
    if (value === undefined || value === '') continue;
    if (Array.isArray(value)) throw invalidRequest(`Parameter ${name} is repeated: send it once`);
    if (typeof value !== 'string') throw invalidRequest(`Parameter ${name} must be a string`);
    if (value.includes('\0')) throw invalidRequest(`Parameter ${name} contains a NUL character`);
    params[name] = value;
  }
  return params;
}

/** `Authorization: Basic base64(client_id:client_secret)`; any other credential is a failed client authentication. */
function basicCredentials(header: string | undefined): TokenRequest['basic'] {
  if (header === undefined) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  if (scheme !== 'basic') {
    // The journal's reason leaves out the "scheme": a header without a space is all scheme, perhaps a bare secret.
    throw atStep(
      'credentials',
      oauthError(
        'invalid_client',
        `Client authentication failed: the Authorization scheme "${scheme}" is not supported here; use HTTP Basic or client_id and client_secret`,
        BASIC_CHALLENGE,
      ),
      'Client authentication failed: the Authorization scheme is not supported here; use HTTP Basic or client_id and client_secret',
    );
  }
  const decoded = Buffer.from(header.slice(space + 1).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (space === -1 || colon === -1) {
    throw oauthError(
      'invalid_client',
      'Client authentication failed: HTTP Basic credentials must be base64(client_id:client_secret)',
      BASIC_CHALLENGE,
    );
  }
  return { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
}
