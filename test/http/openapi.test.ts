/**
 * `/openapi.json` and `/docs` (docs/behaviour.md §1): the document is valid OpenAPI 3
 * (checked by @apidevtools/swagger-parser), lists every route the app serves
 * with its parameters, responses and errors, and the reference page and its
 * assets come from the server itself, not from a CDN.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3 } from 'openapi-types';
import { basic, type Fixture, startFixture } from '../helpers/fixture.ts';
import { referencePathFor } from '../helpers/reference-schemas.ts';
import { isPublicRoute, servedRoutes } from '../helpers/security.ts';

type Operation = OpenAPIV3.OperationObject;

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

function operations(document: OpenAPIV3.Document): Array<{ method: string; path: string; operation: Operation }> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item?.[method]).map((method) => ({
      method: method.toUpperCase(),
      path,
      operation: item![method]!,
    })),
  );
}

const toOpenApiPath = (pattern: string) => pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI document and the reference page', () => {
  let fx: Fixture;
  let document: OpenAPIV3.Document;
  before(async () => {
    fx = await startFixture('sqlite');
    const response = await fx.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    document = response.json();
  });
  after(() => fx.close());

  test('is valid OpenAPI 3, refs and all', async () => {
    // validate() dereferences in place: give it a copy.
    const validated = await SwaggerParser.validate(structuredClone(document) as never);
    assert.match((validated as OpenAPIV3.Document).openapi, /^3\.0\.\d$/);
    assert.equal(document.info.title, 'userplane');
  });

  test('is public: no credentials needed, and bad ones are not read', async () => {
    for (const authorization of [undefined, 'Basic bm9ib2R5Om5vdGhpbmc=', 'JWT garbage']) {
      const response = await fx.app.inject({
        method: 'GET',
        url: '/openapi.json',
        headers: authorization ? { authorization } : {},
      });
      assert.equal(response.statusCode, 200);
    }
  });

  test('lists every route the app serves, under its own path and method', () => {
    const listed = new Set(operations(document).map(({ method, path }) => `${method} ${path}`));
    const missing = servedRoutes(fx.app)
      .filter(({ method, pattern }) => method !== 'HEAD' && !pattern.startsWith('/docs') && pattern !== '/openapi.json')
      .map(({ method, pattern }) => `${method} ${toOpenApiPath(pattern)}`)
      .filter((route) => !listed.has(route));
    assert.deepEqual(missing, []);
  });

  test('every operation has a success response, and every protected one its 401, 403 and credentials', () => {
    for (const { method, path, operation } of operations(document)) {
      const statuses = Object.keys(operation.responses);
      assert.ok(
        statuses.some((s) => s.startsWith('2')),
        `${method} ${path} documents no success: ${statuses}`,
      );
      assert.ok(operation.summary, `${method} ${path} has no summary`);
      const isPublic = isPublicRoute({ method, pattern: path });
      if (isPublic) {
        assert.deepEqual(operation.security, [], `${method} ${path} is public`);
        continue;
      }
      for (const status of ['401', '403', '429'])
        assert.ok(statuses.includes(status), `${method} ${path} documents no ${status}`);
      assert.ok(
        operation.security?.some((requirement) => ['basic', 'operator', 'oauth2'].some((name) => name in requirement)),
        `${method} ${path} names no credentials`,
      );
    }
  });

  test("errors name their envelope: Jira's under /rest/api/{2,3}, RFC 6749's under /oauth2, Confluence's elsewhere", () => {
    for (const { method, path, operation } of operations(document)) {
      const expected = /^(\/ex\/jira\/\{cloudId\})?\/rest\/api\/[23]\//.test(path)
        ? 'JiraError'
        : path.startsWith('/oauth2/')
          ? 'OAuthError'
          : 'ConfluenceError';
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!/^[45]/.test(status)) continue;
        const schema = (response as OpenAPIV3.ResponseObject).content?.['application/json']?.schema as
          | OpenAPIV3.ReferenceObject
          | undefined;
        assert.equal(schema?.$ref, `#/components/schemas/${expected}`, `${method} ${path} ${status}`);
      }
    }
  });

  test('a product operation carries its Atlassian operation id and scopes', () => {
    const getProperty = document.paths['/wiki/rest/api/user/{userId}/property/{key}']!.get! as Operation &
      Record<string, unknown>;
    assert.equal(getProperty.operationId, 'confluence.getUserProperty');
    assert.equal(getProperty['x-atlassian-connect-scope'], 'READ');
    assert.deepEqual(getProperty.security, [
      { basic: [] },
      { connectJwt: [] },
      { oauth2: ['read:user.property:confluence'] },
    ]);
    assert.deepEqual(Object.keys(getProperty.responses).sort(), ['200', '400', '401', '403', '404', '429']);
    assert.deepEqual(
      getProperty.parameters?.map((p) => (p as OpenAPIV3.ParameterObject).name),
      ['userId', 'key'],
    );

    const update = document.paths['/wiki/rest/api/user/{userId}/property/{key}']!.put!;
    assert.ok(
      update.parameters?.some(
        (p) => (p as OpenAPIV3.ParameterObject).in === 'header' && (p as OpenAPIV3.ParameterObject).name === 'if-match',
      ),
    );
    assert.ok((update.responses['204'] as OpenAPIV3.ResponseObject).headers?.ETag, 'the 204 names its ETag');
    const watch = document.paths['/wiki/rest/api/user/watch/content/{contentId}']!.post!;
    assert.ok(watch.parameters?.some((p) => (p as OpenAPIV3.ParameterObject).name === 'x-atlassian-token'));

    const setJira = document.paths['/rest/api/3/user/properties/{propertyKey}']!.put!;
    assert.ok(
      (setJira.responses['404'] as OpenAPIV3.ResponseObject).headers?.['X-AAccountId'],
      'Jira answers name the caller',
    );
    assert.deepEqual(Object.keys(setJira.responses).sort(), [
      '200',
      '201',
      '400',
      '401',
      '403',
      '404',
      '405',
      '413',
      '429',
    ]);
    assert.ok(setJira.requestBody, 'the PUT documents its body');

    // An alias is listed under its own tag, without repeating the operation id.
    const alias = document.paths['/ex/confluence/{cloudId}/wiki/rest/api/user/{userId}/property/{key}']!.get!;
    assert.equal(alias.operationId, undefined);
    assert.ok(alias.responses['404'], 'a gateway path documents the 404 of a wrong cloudId');
  });

  test('each shape is one component, named as Atlassian names it, and every route refers to it', () => {
    assert.ok(
      !JSON.stringify(document).includes('x-userplane-component'),
      'the naming option does not leak into the document',
    );
    const schemas = document.components?.schemas ?? {};
    for (const name of ['UserProperty', 'User', 'GenericLinks', 'EntityProperty', 'AdminUser', 'AdminUserList'])
      assert.ok(schemas[name], `${name} is a component`);
    const schemaOf = (operation: Operation, status: string) =>
      ((operation.responses[status] as OpenAPIV3.ResponseObject | undefined)?.content?.['application/json']?.schema ??
        {}) as Record<string, unknown>;
    const refsIn = (schema: Record<string, unknown>) => [
      schema.$ref,
      ...((schema.anyOf as Array<{ $ref?: string }> | undefined) ?? []).map((s) => s.$ref),
    ];

    let compared = 0;
    for (const { method, path, operation } of operations(document)) {
      const reference = referencePathFor(path.replace(/\{([^}]+)\}/g, ':$1'));
      const theirs = reference?.document.openapi.paths[reference.path]?.[method.toLowerCase()] as
        | { responses?: Record<string, Record<string, unknown>> }
        | undefined;
      for (const [status, response] of Object.entries(theirs?.responses ?? {})) {
        const $ref = (response.content as Record<string, { schema?: { $ref?: string } }> | undefined)?.[
          'application/json'
        ]?.schema?.$ref;
        if (!status.startsWith('2') || !$ref) continue;
        assert.ok(refsIn(schemaOf(operation, status)).includes($ref), `${method} ${path} ${status} refers to ${$ref}`);
        compared++;
      }
    }
    assert.ok(compared >= 40, `compared ${compared} responses with Atlassian's, under every prefix`);
  });

  test('the token endpoint documents its form and JSON bodies and RFC 6749 errors', () => {
    const token = document.paths['/oauth2/token']!.post!;
    const body = token.requestBody as OpenAPIV3.RequestBodyObject;
    assert.deepEqual(Object.keys(body.content).sort(), ['application/json', 'application/x-www-form-urlencoded']);
    assert.deepEqual(Object.keys(token.responses).sort(), ['200', '400', '401', '413', '429']);
  });

  test('/docs serves the reference page and its assets from this server', async () => {
    const page = await fx.app.inject({ method: 'GET', url: '/docs', headers: basic('mia') });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    // No CDN: every script and stylesheet is a local path.
    const sources = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(sources.length > 0);
    for (const source of sources)
      assert.doesNotMatch(source, /^(https?:)?\/\//, `the page loads ${source} from elsewhere`);

    // Same origin only, and nothing that would move a plain-http server's assets to https.
    const policy = String(page.headers['content-security-policy']);
    assert.match(policy, /default-src 'self'/);
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /upgrade-insecure-requests|https:/);

    const initializer = await fx.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    assert.equal(initializer.statusCode, 200);
    assert.match(initializer.body, /json/, 'the page reads the document from this server');
    for (const asset of ['/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-ui.css']) {
      const response = await fx.app.inject({ method: 'GET', url: asset });
      assert.equal(response.statusCode, 200, asset);
      assert.ok(response.body.length > 1000, `${asset} has content`);
    }
    const json = await fx.app.inject({ method: 'GET', url: '/docs/json' });
    assert.deepEqual(json.json(), document);
  });
});
