/**
 * The schema check every test response goes through (test/helpers/response-check.ts,
 * loaded by test/run.ts): it catches a wrong type, a missing required field
 * and a property Atlassian's schema does not have, passes a valid body, and
 * turns a bad body into a loud 500 and a failing process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { PROJECT_ROOT } from './helpers/process.ts';
import { checkResponse, OWN_ADDITIONS, OWN_BODIES, referencePathFor } from './helpers/reference-schemas.ts';
import { doNotRecord, takeViolations } from './helpers/response-check.ts';

const USER_ROUTE = '/ex/confluence/:cloudId/rest/api/user';
const PROPERTY_ROUTE = '/rest/api/user/:userId/property/:key';
const JIRA_PROPERTY_ROUTE = '/ex/jira/:cloudId/rest/api/3/user/properties/:propertyKey';

const validProperty = {
  key: 'theme',
  value: { dark: true },
  id: '1',
  createdDate: '2026-01-01T12:00:00.000Z',
  lastModifiedDate: '2026-01-02T12:00:00.000Z',
  _links: {
    self: 'http://userplane.test/wiki/rest/api/user/712020:mia/property/theme',
    base: 'http://userplane.test/wiki',
  },
};

const json = (body: unknown) => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) });

describe('routes map to the reference operations', () => {
  test('gateway prefixes go, /rest/api is /wiki/rest/api, parameters match by position', () => {
    assert.equal(referencePathFor(USER_ROUTE)?.path, '/wiki/rest/api/user');
    assert.equal(referencePathFor(PROPERTY_ROUTE)?.path, '/wiki/rest/api/user/{userId}/property/{key}');
    assert.equal(referencePathFor('/wiki/rest/api/user/bulk/migration')?.path, '/wiki/rest/api/user/bulk/migration');
    assert.equal(
      referencePathFor('/ex/confluence/:cloudId/wiki/rest/api/user/watch/label/:labelName')?.path,
      '/wiki/rest/api/user/watch/label/{labelName}',
    );
    assert.equal(referencePathFor(JIRA_PROPERTY_ROUTE)?.path, '/rest/api/3/user/properties/{propertyKey}');
    assert.equal(referencePathFor('/rest/api/2/user/properties/')?.path, '/rest/api/2/user/properties');
  });

  test('routes the references do not cover are not checked', () => {
    for (const route of [
      '/admin/api/users/:accountId',
      '/oauth2/token',
      '/healthz',
      '/wiki/aa-avatar/:accountId',
      '/_edge/tenant_info',
    ]) {
      assert.equal(referencePathFor(route), undefined, route);
      assert.deepEqual(checkResponse({ method: 'GET', route, status: 200, ...json({ anything: 1 }) }), { errors: [] });
    }
  });
});

describe('a response body is checked against its operation and status', () => {
  test('a valid body passes', () => {
    const result = checkResponse({ method: 'GET', route: PROPERTY_ROUTE, status: 200, ...json(validProperty) });
    assert.deepEqual(result, { operation: 'GET /wiki/rest/api/user/{userId}/property/{key} 200', errors: [] });
  });

  test('a wrong type is reported with its place', () => {
    const result = checkResponse({
      method: 'GET',
      route: '/wiki/rest/api/user/watch/space/:spaceKey',
      status: 200,
      ...json({ watching: 'yes' }),
    });
    assert.deepEqual(result.errors, ['/watching must be boolean']);
  });

  test('a missing required field is reported', () => {
    const { createdDate: _createdDate, ...incomplete } = validProperty;
    const result = checkResponse({ method: 'GET', route: PROPERTY_ROUTE, status: 200, ...json(incomplete) });
    assert.deepEqual(result.errors, ["(body) must have required property 'createdDate'"]);
  });

  test('a property the schema does not list is reported, nested ones too', () => {
    const result = checkResponse({
      method: 'GET',
      route: PROPERTY_ROUTE,
      status: 200,
      ...json({ ...validProperty, version: 1 }),
    });
    assert.deepEqual(result.errors, ['(body) must NOT have additional properties: version']);
    const list = { results: [{ key: 'a', id: '1' }], start: 0, limit: 5, size: 1, _links: {} };
    const listed = checkResponse({
      method: 'GET',
      route: '/wiki/rest/api/user/:userId/property',
      status: 200,
      ...json(list),
    });
    assert.deepEqual(listed.errors, ['/results/0 must NOT have additional properties: id']);
  });

  test('OAS 3.0: nullable fields take null, formats are checked, explicitly open objects take extras', () => {
    const user = {
      type: 'known',
      accountId: '712020:mia',
      email: null,
      displayName: null,
      timeZone: null,
      anything: 'User is open',
    };
    assert.deepEqual(checkResponse({ method: 'GET', route: USER_ROUTE, status: 200, ...json(user) }).errors, []);
    const badDate = checkResponse({
      method: 'GET',
      route: PROPERTY_ROUTE,
      status: 200,
      ...json({ ...validProperty, createdDate: 'yesterday' }),
    });
    assert.deepEqual(badDate.errors, ['/createdDate must match format "date-time"']);
    const badEnum = checkResponse({ method: 'GET', route: USER_ROUTE, status: 200, ...json({ type: 'robot' }) });
    assert.match(badEnum.errors.join('\n'), /\/type must be equal to one of the allowed values/);
  });

  test('Jira: closed objects, the empty schema of PUT, ErrorCollection on errors', () => {
    const ok = checkResponse({
      method: 'GET',
      route: JIRA_PROPERTY_ROUTE,
      status: 200,
      ...json({ key: 'k', value: [1, 'two'] }),
    });
    assert.deepEqual(ok.errors, []);
    const extra = checkResponse({
      method: 'GET',
      route: JIRA_PROPERTY_ROUTE,
      status: 200,
      ...json({ key: 'k', value: 1, version: 1 }),
    });
    assert.deepEqual(extra.errors, ['(body) must NOT have additional properties: version']);
    assert.deepEqual(checkResponse({ method: 'PUT', route: JIRA_PROPERTY_ROUTE, status: 201, body: '' }).errors, []);
    const error = checkResponse({
      method: 'GET',
      route: JIRA_PROPERTY_ROUTE,
      status: 404,
      ...json({ errorMessages: ['gone'], errors: {} }),
    });
    assert.deepEqual(error, { operation: 'GET /rest/api/3/user/properties/{propertyKey} 404', errors: [] });
    const badError = checkResponse({
      method: 'GET',
      route: JIRA_PROPERTY_ROUTE,
      status: 400,
      ...json({ errorMessages: 'gone' }),
    });
    assert.deepEqual(badError.errors, ['/errorMessages must be array']);
  });

  test('bodies: one where the reference has none is reported, a missing one too, and a non-JSON one', () => {
    const unexpected = checkResponse({
      method: 'POST',
      route: '/wiki/rest/api/user/watch/space/:spaceKey',
      status: 204,
      ...json({ watching: true }),
    });
    assert.deepEqual(unexpected.errors, [
      'the reference documents no body for POST /wiki/rest/api/user/watch/space/{spaceKey} 204, and this response has one',
    ]);
    assert.deepEqual(checkResponse({ method: 'GET', route: PROPERTY_ROUTE, status: 200, body: '' }).errors, [
      'the body is missing',
    ]);
    assert.deepEqual(
      checkResponse({ method: 'GET', route: PROPERTY_ROUTE, status: 200, contentType: 'text/plain', body: '{}' })
        .errors,
      ['Content-Type is "text/plain", not application/json'],
    );
  });

  test("Confluence error bodies are not the reference's business (docs/behaviour.md §4 sets their envelope)", () => {
    assert.deepEqual(
      checkResponse({ method: 'GET', route: PROPERTY_ROUTE, status: 404, ...json({ statusCode: 404 }) }).errors,
      [],
    );
  });

  test('every own addition and own body is listed in docs/compatibility.md', () => {
    const doc = readFileSync(new URL('../docs/compatibility.md', import.meta.url), 'utf8');
    const section = doc.split("## userplane's own additions")[1]?.split('\n## ')[0] ?? '';
    for (const addition of OWN_ADDITIONS)
      assert.ok(section.includes(`\`${addition.property}\``), `${addition.schema}.${addition.property}`);
    assert.ok(OWN_BODIES.every((own) => own.why.length > 0));
    assert.match(section, /POST 201 body/);
  });
});

describe('every Fastify instance in a test process has the check', () => {
  test('a bad body becomes a 500 that names the schema error; a good one passes untouched', async () => {
    const app = Fastify();
    doNotRecord(app);
    app.get('/wiki/rest/api/user/watch/content/:contentId', async (request) => ({
      watching: (request.params as { contentId: string }).contentId === '1' ? true : 'yes',
    }));
    try {
      const good = await app.inject({ method: 'GET', url: '/wiki/rest/api/user/watch/content/1' });
      assert.equal(good.statusCode, 200);
      assert.deepEqual(good.json(), { watching: true });
      assert.deepEqual(takeViolations(), []);

      const bad = await app.inject({ method: 'GET', url: '/wiki/rest/api/user/watch/content/2' });
      assert.equal(bad.statusCode, 500);
      assert.match(
        bad.json().message,
        /does not match GET \/wiki\/rest\/api\/user\/watch\/content\/\{contentId\} 200 in test\/reference\/: \/watching must be boolean/,
      );
      const violations = takeViolations();
      assert.equal(violations.length, 1);
      assert.deepEqual(violations[0]?.errors, ['/watching must be boolean']);
    } finally {
      await app.close();
    }
  });

  test('a process that produced a bad body exits non-zero, even when its tests pass', () => {
    const script = `
      import Fastify from 'fastify';
      const app = Fastify();
      app.get('/rest/api/3/user/properties/:propertyKey', async () => ({ key: 1 }));
      const response = await app.inject({ url: '/rest/api/3/user/properties/k' });
      console.log(response.statusCode);
    `;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', './test/helpers/response-check.ts', '--input-type=module', '-e', script],
      {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: { ...process.env, USERPLANE_TEST_REPORT_DIR: '' },
      },
    );
    assert.equal(child.stdout.trim(), '500');
    assert.match(
      child.stderr,
      /response does not match Atlassian's schema: GET \/rest\/api\/3\/user\/properties\/k → 200/,
    );
    assert.match(child.stderr, /\/key must be string/);
    assert.equal(child.status, 1);
  });
});
