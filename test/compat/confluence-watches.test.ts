/**
 * Every confluence.js 2.1 `contentWatches.*` method userplane serves, against
 * a live server on a real port, on both stores: Basic-auth clients with and
 * without `noCheckAtlassianToken`, an admin naming another user, a Connect
 * JWT client (the client computes its own qsh, query included), and a site
 * whose `xsrfCheck` is off. The client builds its own URLs and headers.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, startServer } from '../../src/server.ts';
import { ConfluenceClient } from '../helpers/clients.ts';
import { APPS, fixtureSeed, SECRET_KEY, USERS, watchSeed } from '../helpers/fixture.ts';
import { databaseUrl, freshLocation, STORE_KINDS } from '../helpers/stores.ts';

const { mia, noah, admin } = USERS;
const { notes } = APPS;

/** The Confluence error envelope confluence.js rejects with (the response body). */
function rejectsWith(status: number, pattern: RegExp) {
  return (error: { statusCode?: number; message?: string }) => {
    assert.equal(error.statusCode, status, JSON.stringify(error));
    assert.match(error.message ?? '', pattern);
    return true;
  };
}

async function startSeeded(kind: (typeof STORE_KINDS)[number], site: Record<string, unknown>): Promise<RunningServer> {
  const { site: _site, ...base } = fixtureSeed();
  const file = join(
    tmpdir(),
    `userplane-confluence-watches-${process.pid}-${kind}-${Object.keys(site).join('-') || 'default'}.json`,
  );
  writeFileSync(file, JSON.stringify({ ...base, ...watchSeed(), site }));
  return startServer({
    port: 0,
    host: '127.0.0.1',
    database: databaseUrl(await freshLocation(kind)),
    seed: file,
    secretKey: SECRET_KEY,
    logLevel: 'silent',
  });
}

for (const kind of STORE_KINDS) {
  describe(`confluence.js contentWatches.* against a live server on ${kind}`, () => {
    let server: RunningServer;
    let relaxed: RunningServer;
    /** Basic clients: with the no-check header on every request, and without. */
    let asMia: ConfluenceClient;
    let asMiaChecked: ConfluenceClient;
    let asNoah: ConfluenceClient;
    let asAdmin: ConfluenceClient;
    let asNotes: ConfluenceClient;
    before(async () => {
      [server, relaxed] = await Promise.all([startSeeded(kind, {}), startSeeded(kind, { xsrfCheck: false })]);
      const basic = (user: { email: string; token: string }, extra: Record<string, unknown> = {}) =>
        new ConfluenceClient({
          host: server.url,
          authentication: { basic: { email: user.email, apiToken: user.token } },
          ...extra,
        });
      asMia = basic(mia, { noCheckAtlassianToken: true });
      asMiaChecked = basic(mia);
      asNoah = basic(noah, { noCheckAtlassianToken: true, apiPrefix: '/rest' });
      asAdmin = basic(admin, { noCheckAtlassianToken: true });
      asNotes = new ConfluenceClient({
        host: server.url,
        noCheckAtlassianToken: true,
        authentication: { jwt: { issuer: notes.key, secret: notes.sharedSecret } },
      });
    });
    after(() => Promise.all([server.close(), relaxed.close()]));

    test('content: getContentWatchStatus, addContentWatcher, removeContentWatcher with noCheckAtlassianToken', async () => {
      const params = { contentId: '1001', accountId: mia.accountId };
      assert.deepEqual(await asMia.contentWatches.getContentWatchStatus(params), { watching: false });
      assert.equal(await asMia.contentWatches.addContentWatcher(params), '');
      assert.deepEqual(await asMia.contentWatches.getContentWatchStatus(params), { watching: true });
      // Idempotent.
      await asMia.contentWatches.addContentWatcher(params);
      await asMia.contentWatches.removeContentWatcher({ ...params, 'X-Atlassian-Token': 'no-check' });
      await asMia.contentWatches.removeContentWatcher({ ...params, 'X-Atlassian-Token': 'no-check' });
      assert.deepEqual(await asMia.contentWatches.getContentWatchStatus(params), { watching: false });
    });

    test('labels: isWatchingLabel, addLabelWatcher, removeLabelWatcher', async () => {
      const params = { labelName: 'Release', accountId: mia.accountId, 'X-Atlassian-Token': 'no-check' };
      assert.deepEqual(await asMia.contentWatches.isWatchingLabel(params), { watching: false });
      await asMia.contentWatches.addLabelWatcher(params);
      assert.deepEqual(await asMia.contentWatches.isWatchingLabel({ labelName: 'release', accountId: mia.accountId }), {
        watching: true,
      });
      await asMia.contentWatches.removeLabelWatcher(params);
      assert.deepEqual(await asMia.contentWatches.isWatchingLabel(params), { watching: false });
      await assert.rejects(
        asMia.contentWatches.isWatchingLabel({ labelName: 'no-such-label', accountId: mia.accountId }),
        rejectsWith(403, /^No label named "no-such-label" exists$/),
      );
    });

    test('spaces: isWatchingSpace, addSpaceWatcher, removeSpaceWatch, under the /rest/api alias too', async () => {
      const params = { spaceKey: 'ENG', accountId: noah.accountId, 'X-Atlassian-Token': 'no-check' };
      assert.deepEqual(await asNoah.contentWatches.isWatchingSpace(params), { watching: false });
      await asNoah.contentWatches.addSpaceWatcher(params);
      assert.deepEqual(await asNoah.contentWatches.isWatchingSpace(params), { watching: true });
      await asNoah.contentWatches.removeSpaceWatch(params);
      assert.deepEqual(await asNoah.contentWatches.isWatchingSpace(params), { watching: false });
      // A space noah may not view.
      await assert.rejects(
        asNoah.contentWatches.addSpaceWatcher({ ...params, spaceKey: 'SEC' }),
        rejectsWith(403, /^Space SEC does not exist, or user 712020:noah may not view it$/),
      );
    });

    test('without noCheckAtlassianToken, POST and DELETE are refused unless the call passes the header itself', async () => {
      const xsrf = rejectsWith(403, /^XSRF check failed: (POST|DELETE) needs the header X-Atlassian-Token: no-check/);
      // These methods send no X-Atlassian-Token of their own.
      await assert.rejects(
        asMiaChecked.contentWatches.addContentWatcher({ contentId: '1001', accountId: mia.accountId }),
        xsrf,
      );
      await assert.rejects(
        asMiaChecked.contentWatches.removeLabelWatcher({ labelName: 'release', accountId: mia.accountId }),
        xsrf,
      );
      await assert.rejects(
        asMiaChecked.contentWatches.removeSpaceWatch({ spaceKey: 'ENG', accountId: mia.accountId }),
        xsrf,
      );
      assert.deepEqual(
        await asMiaChecked.contentWatches.getContentWatchStatus({ contentId: '1001', accountId: mia.accountId }),
        { watching: false },
      );
      // These take the header as a parameter.
      await asMiaChecked.contentWatches.addSpaceWatcher({
        spaceKey: 'PUB',
        accountId: mia.accountId,
        'X-Atlassian-Token': 'no-check',
      });
      await asMiaChecked.contentWatches.addLabelWatcher({
        labelName: 'onboarding',
        accountId: mia.accountId,
        'X-Atlassian-Token': 'no-check',
      });
      await asMiaChecked.contentWatches.removeContentWatcher({
        contentId: '1001',
        accountId: mia.accountId,
        'X-Atlassian-Token': 'no-check',
      });
      await assert.rejects(
        asMiaChecked.contentWatches.addSpaceWatcher({
          spaceKey: 'PUB',
          accountId: mia.accountId,
          'X-Atlassian-Token': 'check',
        }),
        rejectsWith(403, /X-Atlassian-Token must be no-check, not "check"/),
      );
      assert.deepEqual(
        await asMiaChecked.contentWatches.isWatchingSpace({ spaceKey: 'PUB', accountId: mia.accountId }),
        { watching: true },
      );
      assert.deepEqual(
        await asMiaChecked.contentWatches.isWatchingLabel({ labelName: 'onboarding', accountId: mia.accountId }),
        { watching: true },
      );
    });

    test('on a site with xsrfCheck off, clients without noCheckAtlassianToken watch and unwatch', async () => {
      const plain = new ConfluenceClient({
        host: relaxed.url,
        authentication: { basic: { email: mia.email, apiToken: mia.token } },
      });
      const params = { contentId: '1002', accountId: mia.accountId };
      await plain.contentWatches.addContentWatcher(params);
      assert.deepEqual(await plain.contentWatches.getContentWatchStatus(params), { watching: true });
      await plain.contentWatches.removeSpaceWatch({ spaceKey: 'ENG', accountId: mia.accountId });
      await plain.contentWatches.removeLabelWatcher({ labelName: 'release', accountId: mia.accountId });
      await plain.contentWatches.removeContentWatcher({ ...params, 'X-Atlassian-Token': undefined as never });
      assert.deepEqual(await plain.contentWatches.getContentWatchStatus(params), { watching: false });
    });

    test('the target user: the caller when accountId is empty; another user needs admin; legacy key and username', async () => {
      // confluence.js always sends accountId; an empty one counts as absent (docs/behaviour.md §4), naming the caller.
      await asMia.contentWatches.addContentWatcher({ contentId: '5001', accountId: '' });
      assert.deepEqual(
        await asMia.contentWatches.getContentWatchStatus({ contentId: '5001', accountId: mia.accountId }),
        { watching: true },
      );
      await assert.rejects(
        asNoah.contentWatches.getContentWatchStatus({ contentId: '1001', accountId: mia.accountId }),
        rejectsWith(403, /you may not name user 712020:mia/),
      );
      await asAdmin.contentWatches.addContentWatcher({ contentId: '1004', accountId: noah.accountId });
      assert.deepEqual(await asNoah.contentWatches.getContentWatchStatus({ contentId: '1004', accountId: '' }), {
        watching: true,
      });
      await assert.rejects(
        asAdmin.contentWatches.getContentWatchStatus({ contentId: '1001', accountId: '', key: 'no-such-key' }),
        rejectsWith(404, /^No user with key no-such-key$/),
      );
      await assert.rejects(
        asAdmin.contentWatches.getContentWatchStatus({ contentId: '1001', accountId: '712020:nobody' }),
        rejectsWith(404, /No user with accountId 712020:nobody/),
      );
    });

    test('a Connect JWT client: the app as itself and naming a user; the qsh covers the query', async () => {
      await asNotes.contentWatches.addContentWatcher({ contentId: '2001', accountId: '' });
      assert.deepEqual(await asNotes.contentWatches.getContentWatchStatus({ contentId: '2001', accountId: '' }), {
        watching: true,
      });
      await asNotes.contentWatches.addSpaceWatcher({
        spaceKey: 'ENG',
        accountId: mia.accountId,
        'X-Atlassian-Token': 'no-check',
      });
      assert.deepEqual(await asMia.contentWatches.isWatchingSpace({ spaceKey: 'ENG', accountId: mia.accountId }), {
        watching: true,
      });
      await asNotes.contentWatches.removeSpaceWatch({ spaceKey: 'ENG', accountId: mia.accountId });
      await asNotes.contentWatches.removeContentWatcher({
        contentId: '2001',
        accountId: '',
        'X-Atlassian-Token': 'no-check',
      });
      // The app names mia, whose view counts: she may not view SEC.
      await assert.rejects(
        asNotes.contentWatches.isWatchingSpace({ spaceKey: 'SEC', accountId: mia.accountId }),
        rejectsWith(403, /^Space SEC does not exist, or user 712020:mia may not view it$/),
      );
    });
  });
}
