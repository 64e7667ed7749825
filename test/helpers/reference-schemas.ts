/**
 * Atlassian's published response schemas, as a checker: given a response's
 * method, Fastify route pattern, status and body, does the body match what
 * the public OpenAPI documents (test/reference/, vendored from
 * ../shared/reference/) promise for that operation and status?
 *
 * - Routes map to reference operations by shape: the gateway prefix
 *   (`/ex/{product}/{cloudId}`) goes, Confluence's `/rest/api/…` alias is
 *   `/wiki/rest/api/…`, and `:param` segments match `{param}` by position.
 *   Routes the references do not cover (admin, OAuth, health, avatars) are
 *   not checked.
 * - OAS 3.0 becomes JSON Schema: `nullable` → a `null` type, component
 *   `$ref`s → one Ajv document per reference, `int32`/`int64` formats, OAS-only
 *   annotations dropped. Each schema is compiled once per process, on first use.
 * - Closed objects: where a Confluence schema lists `properties` and says
 *   nothing of `additionalProperties`, any other property is reported. The
 *   Jira documents close theirs explicitly; `User` is explicitly open. So
 *   every property userplane adds is either where Atlassian allows extras or
 *   in OWN_ADDITIONS below, each listed in docs/compatibility.md.
 * - Errors: the Confluence reference documents no error bodies (docs/behaviour.md §4 sets
 *   the envelope); Jira's `ErrorCollection` is checked on every Jira 4xx/5xx.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface ReferenceDocument {
  /** The Ajv document id that component `$ref`s point into. */
  id: 'confluence' | 'jira';
  openapi: { paths: Record<string, Record<string, JsonObject>>; components: { schemas: Record<string, JsonObject> } };
}

/** A property userplane adds where the reference's object schema is closed. */
export interface OwnAddition {
  /** The component schema, e.g. `confluence:BulkUserLookup`. */
  schema: `${ReferenceDocument['id']}:${string}`;
  property: string;
  /** The JSON Schema the added property must match. */
  type: JsonObject;
  why: string;
}

/** A body the reference does not document for an operation's status, and what it must match instead. */
export interface OwnBody {
  /** `METHOD /reference/path status`. */
  operation: string;
  schema: `${ReferenceDocument['id']}:${string}`;
  why: string;
}

/**
 * userplane's own additions to Atlassian's closed objects. Each entry is
 * listed in docs/compatibility.md ("userplane's own additions"), with its reason.
 */
export const OWN_ADDITIONS: readonly OwnAddition[] = [
  {
    schema: 'confluence:BulkUserLookup',
    property: 'externalCollaborator',
    type: { type: 'boolean' },
    why: "docs/behaviour.md §4: every User carries isExternalCollaborator and externalCollaborator; Atlassian's User schema has both, its BulkUserLookup only the first",
  },
];

/** Bodies where the reference documents none. Each is listed in docs/compatibility.md. */
export const OWN_BODIES: readonly OwnBody[] = [
  {
    operation: 'POST /wiki/rest/api/user/{userId}/property/{key} 201',
    schema: 'confluence:UserProperty',
    why: 'docs/behaviour.md §5: POST answers 201 with the created UserProperty (the reference documents no body)',
  },
];

// ── The references ─────────────────────────────────────────────────────────

const REFERENCE_DIR = new URL('../reference/', import.meta.url);

function load(id: ReferenceDocument['id'], file: string): ReferenceDocument {
  return { id, openapi: JSON.parse(readFileSync(new URL(file, REFERENCE_DIR), 'utf8')) };
}

let documents: { confluence: ReferenceDocument; jira: ReferenceDocument } | undefined;
function references() {
  documents ??= {
    confluence: load('confluence', 'confluence-user-api.openapi.json'),
    jira: load('jira', 'jira-user-properties.openapi.json'),
  };
  return documents;
}

// ── OAS 3.0 → JSON Schema ──────────────────────────────────────────────────

/** OAS keywords with no JSON Schema meaning: annotations Ajv's strict mode would refuse. */
const OAS_ONLY = new Set(['nullable', 'example', 'externalDocs', 'xml', 'discriminator', 'deprecated']);

/** Keywords whose value is a map of names to schemas, or a list of schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);
const SCHEMA_VALUES = new Set(['items', 'additionalProperties', 'not']);

/**
 * One OAS 3.0 schema as JSON Schema (draft-07, Ajv's default). `closed` makes
 * an object that lists properties but not additionalProperties refuse others.
 */
export function toJsonSchema(schema: Json, documentId: string, closed: boolean): Json {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  if (typeof schema.$ref === 'string') {
    // OAS 3.0: a $ref's siblings are ignored.
    const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
    if (!name) throw new Error(`reference-schemas: unsupported $ref ${schema.$ref}`);
    return { $ref: `${documentId}#/definitions/${name}` };
  }
  const out: JsonObject = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (OAS_ONLY.has(keyword) || keyword.startsWith('x-')) continue;
    if (SCHEMA_MAPS.has(keyword) && value && typeof value === 'object' && !Array.isArray(value)) {
      out[keyword] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub, documentId, closed)]),
      );
    } else if (SCHEMA_LISTS.has(keyword) && Array.isArray(value)) {
      out[keyword] = value.map((sub) => toJsonSchema(sub, documentId, closed));
    } else if (SCHEMA_VALUES.has(keyword) && typeof value === 'object') {
      out[keyword] = toJsonSchema(value, documentId, closed);
    } else {
      out[keyword] = value;
    }
  }
  const properties = out.properties;
  if (
    closed &&
    out.additionalProperties === undefined &&
    properties &&
    typeof properties === 'object' &&
    Object.keys(properties).length > 0
  ) {
    out.additionalProperties = false;
  }
  if (schema.nullable === true) return nullable(out);
  return out;
}

function nullable(schema: JsonObject): JsonObject {
  const { type } = schema;
  if (typeof type === 'string') {
    const out: JsonObject = { ...schema, type: [type, 'null'] };
    if (Array.isArray(schema.enum)) out.enum = [...schema.enum, null];
    return out;
  }
  if (type === undefined && schema.enum === undefined) return schema; // already admits null
  return { anyOf: [{ type: 'null' }, schema] };
}

// ── Ajv, one per process ───────────────────────────────────────────────────

let ajvInstance: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function ajv(): Ajv {
  if (ajvInstance) return ajvInstance;
  // strictRequired off: some of Atlassian's schemas require properties they do not list (UsersUserKeys's `userAccountIds`).
  const instance = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    strictTypes: false,
    allowUnionTypes: true,
  });
  // ajv-formats is CommonJS with a default export; under ESM the function may sit one level down.
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
    ajv: Ajv,
  ) => Ajv;
  addFormats(instance);
  instance.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  instance.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  for (const document of Object.values(references())) {
    // Confluence's objects are closed unless they say otherwise; Jira's say so themselves.
    const closed = document.id === 'confluence';
    const definitions: JsonObject = {};
    for (const [name, schema] of Object.entries(document.openapi.components.schemas)) {
      definitions[name] = toJsonSchema(schema, document.id, closed);
    }
    for (const addition of OWN_ADDITIONS) {
      const [id, name] = addition.schema.split(':') as [string, string];
      if (id !== document.id) continue;
      const target = definitions[name] as JsonObject | undefined;
      const properties = target && (target.anyOf ? (target.anyOf as JsonObject[])[1] : target)?.properties;
      if (!properties || typeof properties !== 'object' || Array.isArray(properties)) {
        throw new Error(`reference-schemas: OWN_ADDITIONS names ${addition.schema}, which has no properties`);
      }
      if (addition.property in properties)
        throw new Error(`reference-schemas: ${addition.schema} already has ${addition.property}`);
      properties[addition.property] = addition.type;
    }
    instance.addSchema({ $id: document.id, definitions }, document.id);
  }
  ajvInstance = instance;
  return instance;
}

function validator(key: string, schema: () => Json): ValidateFunction {
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv().compile(schema() as object);
    compiled.set(key, validate);
  }
  return validate;
}

// ── Routes → reference operations ──────────────────────────────────────────

const GATEWAY = /^\/ex\/(confluence|jira)\/:[^/]+(?=\/)/;
const JIRA_PATH = /^\/rest\/api\/(2|3)(\/|$)/;

/** The reference document and its path template for a Fastify route pattern, or undefined when none covers it. */
export function referencePathFor(route: string): { document: ReferenceDocument; path: string } | undefined {
  let path = route.replace(GATEWAY, '').replace(/(.)\/$/, '$1');
  if (JIRA_PATH.test(path)) return matchPath(references().jira, path);
  if (path.startsWith('/rest/api/')) path = `/wiki${path}`;
  if (path.startsWith('/wiki/rest/api/')) return matchPath(references().confluence, path);
  return undefined;
}

function matchPath(
  document: ReferenceDocument,
  route: string,
): { document: ReferenceDocument; path: string } | undefined {
  // `:name`, `:name(regex)` and `*` are parameters in a Fastify pattern.
  const segments = route
    .split('/')
    .map((segment) => (segment.startsWith(':') || segment === '*' ? undefined : segment));
  for (const path of Object.keys(document.openapi.paths)) {
    const template = path.split('/');
    if (template.length !== segments.length) continue;
    const matches = template.every((part, i) => {
      const isParameter = /^\{[^}]+\}$/.test(part);
      return isParameter ? segments[i] === undefined : segments[i] === part;
    });
    if (matches) return { document, path };
  }
  return undefined;
}

// ── Checking one response ──────────────────────────────────────────────────

export interface ResponseToCheck {
  method: string;
  /** The Fastify route pattern (`request.routeOptions.url`). */
  route: string;
  status: number;
  contentType?: string | undefined;
  /** The serialized body; empty or undefined when there is none. */
  body?: string | undefined;
}

export interface CheckResult {
  /** `METHOD /reference/path status`, when a reference operation covers the response. */
  operation?: string;
  /** Empty when the body matches. */
  errors: string[];
}

export function checkResponse(response: ResponseToCheck): CheckResult {
  const found = referencePathFor(response.route);
  if (!found) return { errors: [] };
  const method = response.method.toLowerCase();
  const operation = found.document.openapi.paths[found.path]?.[method];
  if (!operation) return { errors: [] }; // HEAD, or a method the reference does not have
  const name = `${response.method.toUpperCase()} ${found.path} ${response.status}`;
  const documentId = found.document.id;
  const responses = (operation.responses ?? {}) as Record<string, JsonObject>;
  const documented = responses[String(response.status)] ?? responses.default;
  const content = documented?.content as Record<string, { schema?: Json }> | undefined;
  const jsonSchema = content?.['application/json']?.schema;
  const own = OWN_BODIES.find((entry) => entry.operation === name);
  const body = response.body ?? '';

  let schemaKey: string;
  let schema: () => Json;
  if (own) {
    const [id, component] = own.schema.split(':') as [string, string];
    schemaKey = own.schema;
    schema = () => ({ $ref: `${id}#/definitions/${component}` });
  } else if (jsonSchema !== undefined) {
    schemaKey = `${documentId} ${name}`;
    schema = () => toJsonSchema(jsonSchema, documentId, documentId === 'confluence');
  } else if (documentId === 'jira' && response.status >= 400) {
    // The Jira reference documents no error bodies per status; its ErrorCollection is what Jira sends.
    schemaKey = 'jira:ErrorCollection';
    schema = () => ({ $ref: 'jira#/definitions/ErrorCollection' });
  } else {
    if (body.length > 0 && response.status < 400) {
      return { operation: name, errors: [`the reference documents no body for ${name}, and this response has one`] };
    }
    return { operation: name, errors: [] };
  }

  if (body.length === 0) {
    // An empty schema (`{}`, Jira's PUT 200/201) promises nothing, not even a body.
    const isEmpty =
      jsonSchema !== undefined &&
      !own &&
      typeof jsonSchema === 'object' &&
      jsonSchema !== null &&
      Object.keys(jsonSchema).length === 0;
    return { operation: name, errors: isEmpty ? [] : ['the body is missing'] };
  }
  if (!/^application\/json\b/i.test(response.contentType ?? '')) {
    return {
      operation: name,
      errors: [`Content-Type is ${JSON.stringify(response.contentType ?? '')}, not application/json`],
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { operation: name, errors: ['the body is not JSON'] };
  }
  const validate = validator(schemaKey, schema);
  if (validate(parsed)) return { operation: name, errors: [] };
  return { operation: name, errors: (validate.errors ?? []).map(describe) };
}

function describe(error: ErrorObject): string {
  const at = error.instancePath || '(body)';
  const extra =
    error.keyword === 'additionalProperties'
      ? `: ${String((error.params as { additionalProperty?: string }).additionalProperty)}`
      : '';
  const allowed =
    error.keyword === 'enum' ? ` ${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)}` : '';
  return `${at} ${error.message ?? error.keyword}${allowed}${extra}`;
}
