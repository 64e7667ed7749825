/**
 * `/openapi.json` and the `/docs` reference page (docs/behaviour.md §1), generated from
 * the route schemas by @fastify/swagger and rendered by @fastify/swagger-ui
 * from its own npm package (no CDN). What every route of a kind shares is
 * added here, from what the route declares: the credentials and scopes of its
 * `config.access`, the 400 of its validated parts, the 401/403/429 of the auth
 * hook, the 413 of a body, and the 404 of a gateway prefix. Shapes named
 * with `component()` (schemas/common.ts) are defined once, under
 * components.schemas.
 */
import { createRequire } from 'node:module';
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyContextConfig, FastifyInstance, RouteOptions } from 'fastify';
import Type, { type TSchema } from 'typebox';
import { knownOAuthScopes, OPERATION_SCOPES } from '../domain/scopes.ts';
import { COMPONENT_NAME } from '../schemas/common.ts';
import { ERROR_SCHEMAS, type ErrorStatuses, errorResponses } from '../schemas/errors.ts';
import type { RouteAccess } from './auth.ts';
import { envelopeFor } from './errors.ts';
import { htmlPageHeaders } from './hygiene.ts';
import { BODY_LIMIT_TEXT } from './json-body.ts';
import {
  CONFLUENCE_API,
  CONFLUENCE_API_ALIAS,
  CONFLUENCE_GATEWAY,
  DOCS_PREFIX,
  isGatewayPath,
  isJiraPath,
  JIRA_GATEWAY,
  OPENAPI_PATH,
} from './paths.ts';

/** A header the document names: what it carries. */
export interface DocumentedHeader {
  description: string;
  schema: TSchema;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the document says that no schema of the route carries, because the handler or a hook reads or sets it itself. */
    documented?: {
      /** A request body read without Fastify's validation (the token endpoint's form or JSON). */
      body?: { schema: TSchema; consumes: string[] };
      /** Request headers, by lower-case name. */
      headers?: Record<string, DocumentedHeader & { required?: boolean }>;
      /** Response headers of the success answers, by name. */
      responseHeaders?: Record<string, DocumentedHeader>;
    };
  }
}

/** Jira answers name the caller in this header, errors included (docs/behaviour.md §6). */
const JIRA_RESPONSE_HEADERS: Record<string, DocumentedHeader> = {
  'X-AAccountId': { description: 'The accountId of the authenticated caller.', schema: Type.String() },
};

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const asDocumented = (pattern: string) => pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Tags for the aliases of the canonical paths, so each operation is listed once per family in /docs. */
const ALIASES: Array<{ matches: (url: string) => boolean; tag: string }> = [
  {
    matches: (url) => url.startsWith(`${CONFLUENCE_GATEWAY}/`),
    tag: `Gateway: ${asDocumented(CONFLUENCE_GATEWAY)}`,
  },
  { matches: (url) => url.startsWith(`${JIRA_GATEWAY}/`), tag: `Gateway: ${asDocumented(JIRA_GATEWAY)}` },
  {
    matches: (url) => url.startsWith(`${CONFLUENCE_API_ALIAS}/`) && !isJiraPath(url),
    tag: `Confluence at ${CONFLUENCE_API_ALIAS} (alias of ${CONFLUENCE_API})`,
  },
];

/** Registers the document generator; call it before any route, so it sees them all. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  for (const schema of ERROR_SCHEMAS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: DOCUMENT,
    transform: documentRoute,
    // Only OpenAPI 3 is generated (DOCUMENT); Swagger 2 is not.
    transformObject: (document) =>
      'openapiObject' in document ? namedComponents(document.openapiObject) : document.swaggerObject,
    // Shared schemas keep their `$id` as their name under components.schemas.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  } satisfies FastifyDynamicSwaggerOptions);
}

/** Serves the document and the reference page; call it with the other routes. */
export async function openApiRoutes(app: FastifyInstance): Promise<void> {
  app.get(OPENAPI_PATH, { schema: { hide: true }, config: { access: { kind: 'public' } } }, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(documentText(app)),
  );
  // The page reads the document from `/docs/json`, which @fastify/swagger-ui serves from the same generator.
  // In a context of its own, so that the page, its assets (served by
  // @fastify/static inside the plugin) and nothing else get the page headers.
  await app.register(async (docs) => {
    docs.addHook('onRequest', htmlPageHeaders);
    await docs.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null, tryItOutEnabled: false },
      // The plugin's default policy adds `upgrade-insecure-requests`, which would
      // send the page's own assets to https on a plain-http server.
      staticCSP: DOCS_CSP,
    });
  });
}

/**
 * Generates the document, and its YAML form for `/docs/yaml`, before the
 * server takes traffic: @fastify/swagger builds each on first request and
 * keeps it, and the YAML alone holds the event loop for a few hundred
 * milliseconds, which the first anonymous caller would otherwise inflict on
 * every request in flight (docs/operations.md).
 */
export async function prepareOpenApi(app: FastifyInstance): Promise<void> {
  await app.ready();
  documentText(app);
  app.swagger({ yaml: true });
}

/** The document's JSON text, made once per app: its routes are fixed once it is ready. */
const documentTexts = new WeakMap<FastifyInstance['swagger'], string>();

function documentText(app: FastifyInstance): string {
  // `app.swagger` is one function for an app and every plugin context in it.
  let text = documentTexts.get(app.swagger);
  if (text === undefined) {
    text = JSON.stringify(app.swagger());
    documentTexts.set(app.swagger, text);
  }
  return text;
}

/**
 * Same origin only: the page, its scripts, styles and the document all come
 * from this server; and no page may frame it (`frame-ancestors 'none'`).
 */
const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; font-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self'";

const DOCUMENT: FastifyDynamicSwaggerOptions['openapi'] = {
  openapi: '3.0.3',
  info: {
    title: 'userplane',
    version,
    description:
      "The Atlassian Cloud user platform APIs, self-hosted: the Confluence user directory, user properties and watches, and Jira user properties, with userplane's administration API and OAuth 2.0 token endpoint. " +
      'Confluence routes are also served under `/rest/api` and both products under the gateway paths `/ex/{product}/{cloudId}`; those aliases are listed under their own tags.',
  },
  components: {
    securitySchemes: {
      basic: { type: 'http', scheme: 'basic', description: "A user's email and API token." },
      operator: {
        type: 'http',
        scheme: 'bearer',
        description: "The server's operator token (docs/behaviour.md §10): sites, and every site's administration API.",
      },
      connectJwt: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description:
          "A Connect app's JWT, `Authorization: JWT <token>` (or the `jwt` query parameter): HS256 with the app's shared secret, `iss` = the app key, `qsh` of the request.",
      },
      oauth2: {
        type: 'oauth2',
        description:
          'A bearer token from `POST /oauth2/token`: `client_credentials` acts as the app, the Connect JWT-bearer grant as a user.',
        flows: {
          clientCredentials: {
            tokenUrl: '/oauth2/token',
            scopes: Object.fromEntries(
              knownOAuthScopes()
                .sort()
                .map((scope) => [scope, scope]),
            ),
          },
        },
      },
    },
  },
};

function documentRoute({ schema, url, route }: { schema: RouteOptions['schema']; url: string; route: RouteOptions }) {
  const access = route.config?.access;
  const documented = route.config?.documented ?? {};
  const alias = ALIASES.find((a) => a.matches(url));
  const body = schema?.body ?? documented.body?.schema;
  const envelope = envelopeFor(url);
  const shared = sharedErrors(access, {
    url,
    validates: Boolean(schema?.params ?? schema?.querystring ?? body),
    body: Boolean(body),
  });
  const own = (schema?.response ?? {}) as Record<string, { description?: string }>;
  // A status both add keeps the route's schema, with both reasons.
  for (const status of Object.keys(shared) as unknown as Array<keyof ErrorStatuses>) {
    if (own[status]?.description) shared[status] = `${own[status].description} ${shared[status]}`;
  }
  const responses: Record<string, object> = { ...own, ...errorResponses(envelope, shared) };
  for (const [status, response] of Object.entries(responses)) {
    const headers = {
      ...(status.startsWith('2') && documented.responseHeaders),
      ...(envelope === 'jira' && access?.kind === 'product' && JIRA_RESPONSE_HEADERS),
    };
    if (Object.keys(headers).length > 0) responses[status] = { ...response, headers: headerSchemas(headers) };
  }
  return {
    url,
    schema: {
      ...schema,
      ...(alias && { tags: [alias.tag] }),
      ...(access?.kind === 'product' && {
        ...(!alias && { operationId: access.operation }),
        'x-atlassian-connect-scope': OPERATION_SCOPES[access.operation].connect,
      }),
      ...(body && { body, consumes: documented.body?.consumes ?? ['application/json'] }),
      ...(documented.headers && { headers: requestHeaders(documented.headers) }),
      security: securityOf(access),
      response: responses,
    },
  };
}

/**
 * Moves every shape named with `component()` to components.schemas, leaving
 * a `$ref` wherever it stood (in any route, nested at any depth), so each is
 * defined once. Two different shapes under one name are a mistake in
 * src/schemas; asking for the document then fails (test/http/openapi.test.ts).
 */
function namedComponents<T extends { paths?: object; components?: { schemas?: object } }>(document: T): T {
  const named = new Map<string, { text: string; schema: object }>();
  const hoist = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(hoist);
    if (node === null || typeof node !== 'object') return node;
    const { [COMPONENT_NAME]: name, ...rest } = node as Record<string, unknown>;
    const schema = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, hoist(value)]));
    if (typeof name !== 'string') return schema;
    const text = JSON.stringify(schema);
    const earlier = named.get(name);
    if (earlier && earlier.text !== text) throw new Error(`OpenAPI: two different shapes are both named ${name}`);
    named.set(name, { text, schema });
    return { $ref: `#/components/schemas/${name}` };
  };
  const paths = hoist(document.paths) as T['paths'];
  const schemas = {
    ...document.components?.schemas,
    ...Object.fromEntries([...named].map(([name, { schema }]) => [name, schema])),
  };
  return { ...document, paths, components: { ...document.components, schemas } };
}

const headerSchemas = (headers: Record<string, DocumentedHeader>) =>
  Object.fromEntries(
    Object.entries(headers).map(([name, { description, schema }]) => [name, { ...schema, description }]),
  );

function requestHeaders(headers: NonNullable<NonNullable<FastifyContextConfig['documented']>['headers']>): TSchema {
  const properties = Object.fromEntries(
    Object.entries(headers).map(([name, { description, schema, required }]) => [
      name,
      required ? { ...schema, description } : Type.Optional({ ...schema, description }),
    ]),
  );
  return Type.Object(properties);
}

const FORBIDDEN: Record<Exclude<RouteAccess['kind'], 'public'>, string> = {
  product: 'The caller may not use the site, or lacks the scope the message names.',
  admin: 'The caller is not a site admin or the operator.',
  operator: "The caller is not the server's operator.",
  token: 'The credential is not a bearer token from POST /oauth2/token.',
};

function sharedErrors(
  access: RouteAccess | undefined,
  route: { url: string; validates: boolean; body: boolean },
): ErrorStatuses {
  const errors: ErrorStatuses = {};
  if (route.validates) errors[400] = 'A parameter or the body breaks a rule; the message names it.';
  if (access && access.kind !== 'public') {
    errors[401] = 'Missing, wrong, expired or revoked credentials.';
    errors[403] = FORBIDDEN[access.kind];
    errors[429] =
      'Too many failed credentials in the last minute from this address, or naming the identity this credential names; Retry-After says when to retry.';
  }
  if (isGatewayPath(route.url)) errors[404] = "The cloudId is not this site's.";
  if (route.body) errors[413] = `The body is larger than ${BODY_LIMIT_TEXT}.`;
  return errors;
}

function securityOf(access: RouteAccess | undefined): Array<Record<string, string[]>> {
  switch (access?.kind) {
    case 'product': {
      const requirements: Array<Record<string, string[]>> = [
        { basic: [] },
        { connectJwt: [] },
        ...OPERATION_SCOPES[access.operation].oauth.map((scope) => ({ oauth2: [scope] })),
      ];
      return access.anonymous ? [...requirements, {}] : requirements;
    }
    case 'admin':
      return [{ basic: [] }, { operator: [] }];
    case 'operator':
      return [{ operator: [] }];
    case 'token':
      return [{ oauth2: [] }];
    default:
      return [];
  }
}
