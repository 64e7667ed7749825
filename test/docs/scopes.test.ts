/**
 * docs/scopes.md is generated from the code (docs/behaviour.md §3): this fails when a
 * route or a scope changed and `npm run docs:scopes` was not run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { OPERATION_SCOPES } from '../../src/domain/scopes.ts';
import { canonicalPath, renderScopeTable } from '../../src/http/scope-table.ts';
import { type Fixture, startFixture } from '../helpers/fixture.ts';

describe('docs/scopes.md', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture('sqlite');
  });
  after(() => fx.close());

  test('is up to date: run `npm run docs:scopes` after changing a route or a scope', () => {
    const written = readFileSync(new URL('../../docs/scopes.md', import.meta.url), 'utf8');
    assert.equal(
      written,
      renderScopeTable(fx.app.routeAccess),
      'docs/scopes.md is out of date: run npm run docs:scopes',
    );
  });

  test('lists every served route and every operation with its scopes', () => {
    const table = renderScopeTable(fx.app.routeAccess);
    for (const { method, url, access } of fx.app.routeAccess) {
      if (method === 'HEAD') continue;
      const row = new RegExp(
        `^\\| ${method} \\| \`${canonicalPath(url).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\` \\|`,
        'm',
      );
      assert.match(table, row, `${method} ${url}`);
      if (access.kind === 'product') {
        const { connect, oauth } = OPERATION_SCOPES[access.operation];
        assert.ok(
          table.includes(`| \`${access.operation}\` | \`${connect}\` | ${oauth.map((s) => `\`${s}\``).join(', ')} |`),
          access.operation,
        );
      }
    }
  });

  test('folds the aliases and gateway forms of a route into one row', () => {
    assert.equal(
      canonicalPath('/ex/confluence/:cloudId/rest/api/user/:userId/property/:key'),
      '/wiki/rest/api/user/{userId}/property/{key}',
    );
    assert.equal(canonicalPath('/rest/api/user/current'), '/wiki/rest/api/user/current');
    assert.equal(
      canonicalPath('/ex/jira/:cloudId/rest/api/2/user/properties/:propertyKey'),
      '/rest/api/{2,3}/user/properties/{propertyKey}',
    );
    assert.equal(canonicalPath('/rest/api/3/user/properties'), '/rest/api/{2,3}/user/properties');
    assert.equal(canonicalPath('/admin/api/apps/:key'), '/admin/api/apps/{key}');
  });
});
