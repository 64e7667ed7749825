/**
 * The journal's ring (domain/journal.ts, docs/behaviour.md §11) on its own, with no
 * database: wrapping, resizing when `journalSize` changes, `since` across
 * both, filters, and what reading makes of a record (the `jwt` parameter
 * taken out, the principal named, the step). The HTTP side is
 * test/http/journal.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { App } from '../../src/domain/apps.ts';
import { type ApiError, atStep, forbidden, notFound, oauthError } from '../../src/domain/errors.ts';
import { Journal, JournalRecord } from '../../src/domain/journal.ts';
import type { Principal } from '../../src/domain/principal.ts';
import type { Site } from '../../src/domain/site.ts';
import { DEFAULT_SITE_SETTINGS } from '../../src/schemas/site.ts';

const siteOf = (id: number, journalSize: number): Site => ({
  id,
  name: `site-${id}`,
  cloudId: '00000000-0000-4000-8000-000000000000',
  baseUrl: 'http://userplane.test',
  settings: { ...DEFAULT_SITE_SETTINGS, journalSize },
  isDefault: false,
});

const request = (url: string, status = 200, principal: Principal | null = null, failure: ApiError | null = null) =>
  new JournalRecord('GET', url, status, 1.23456, 'confluence.getCurrentUser', 'none', principal, failure);

const queries = (journal: Journal, site: Site, filter = {}) => journal.list(site, filter).map((e) => e.query);

describe('request journal ring', () => {
  test('keeps the latest journalSize, newest first, and resizes to the setting, keeping the newest', () => {
    const journal = new Journal(() => Date.parse('2026-12-01T12:00:00.000Z'));
    let site = siteOf(1, 3);
    for (let i = 1; i <= 5; i++) journal.record(site, request(`/a?n=${i}`));
    assert.deepEqual(queries(journal, site), ['n=5', 'n=4', 'n=3']);

    site = siteOf(1, 5);
    assert.deepEqual(queries(journal, site), ['n=5', 'n=4', 'n=3'], 'a larger size keeps what there was');
    for (let i = 6; i <= 8; i++) journal.record(site, request(`/a?n=${i}`));
    assert.deepEqual(queries(journal, site), ['n=8', 'n=7', 'n=6', 'n=5', 'n=4']);

    site = siteOf(1, 2);
    assert.deepEqual(queries(journal, site), ['n=8', 'n=7']);
    site = siteOf(1, 0);
    journal.record(site, request('/a?n=9'));
    assert.deepEqual(queries(journal, site), []);
    site = siteOf(1, 2);
    assert.deepEqual(queries(journal, site), [], '0 forgot what was kept');
  });

  test('since, limit and the filters; sites apart; clear', () => {
    const journal = new Journal();
    const one = siteOf(1, 10);
    const two = siteOf(2, 10);
    const app = { key: 'com.example.notes', accountId: '557058:notes-bot' } as App;
    journal.record(one, request('/a?n=1'));
    journal.record(two, request('/b'));
    journal.record(one, request('/a?n=2', 404, { kind: 'app', app, scopes: [], via: 'jwt' }));
    journal.record(one, request('/a?n=3'));

    const [third, second, first] = journal.list(one);
    assert.ok(third && second && first);
    assert.deepEqual(queries(journal, one, { since: first.id }), ['n=3', 'n=2']);
    assert.deepEqual(queries(journal, one, { since: third.id }), []);
    assert.deepEqual(queries(journal, one, { limit: 1 }), ['n=3']);
    assert.deepEqual(queries(journal, one, { status: 404 }), ['n=2']);
    assert.deepEqual(queries(journal, one, { app: app.key }), ['n=2']);
    assert.deepEqual(queries(journal, one, { accountId: app.accountId }), ['n=2']);
    assert.deepEqual(queries(journal, one, { operation: 'confluence.getUser' }), []);
    assert.deepEqual(
      journal.list(two).map((e) => e.path),
      ['/b'],
    );

    journal.clear(one.id);
    assert.deepEqual(journal.list(one), []);
    journal.record(one, request('/a?n=4'));
    const [fourth] = journal.list(one);
    assert.ok(fourth && fourth.id > third.id, 'ids keep growing after a clear');
    assert.equal(journal.list(two).length, 1);
  });

  test('reading: path and query apart without jwt, the time of arrival, the principal, the step and reason', () => {
    const journal = new Journal(() => Date.parse('2026-12-01T12:00:00.000Z'));
    const site = siteOf(1, 10);
    const scoped = atStep('scope', forbidden('App x lacks the scope: it needs READ'), 'needs READ');
    journal.record(
      site,
      new JournalRecord('PUT', '/wiki/x?a=1&jwt=abc&%6Awt=def&b=jwt&jwt', 403, 2, 'op', 'jwt', null, scoped),
    );
    journal.record(site, request('/x', 404, null, notFound('No user')));
    journal.record(site, request('/oauth2/token', 401, null, oauthError('invalid_client', 'no such client')));
    const [token, missing, put] = journal.list(site);
    assert.deepEqual(put, {
      id: put!.id,
      time: '2026-12-01T11:59:59.998Z',
      method: 'PUT',
      path: '/wiki/x',
      query: 'a=1&b=jwt',
      status: 403,
      durationMs: 2,
      operation: 'op',
      authMode: 'jwt',
      principal: { kind: 'anonymous', accountId: null, app: null },
      decision: { step: 'scope', reason: 'needs READ' },
    });
    assert.deepEqual(missing!.decision, { step: 'existence', reason: 'No user' });
    assert.equal(missing!.durationMs, 1.235);
    assert.deepEqual(token!.decision, { step: 'credentials', reason: 'no such client' });
  });
});
