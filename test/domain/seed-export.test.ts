/**
 * What the seed loader accepts so that an export (docs/behaviour.md §11) loads
 * back, on both stores: `omitted`, apps without secrets, personal spaces
 * whose owner was deleted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secrets } from '../../src/domain/secrets.ts';
import { checkSeed, loadSeed, SeedError } from '../../src/domain/seed.ts';
import { findSealedAppByKey } from '../../src/store/apps.ts';
import type { Store } from '../../src/store/database.ts';
import { findDefaultSite } from '../../src/store/site.ts';
import { findSpaceByKey } from '../../src/store/spaces.ts';
import { freshStore, STORE_KINDS } from '../helpers/stores.ts';

const secrets = new Secrets('seed-export-test-secret-key-of-32-chars');
const APP = {
  key: 'com.example.notes',
  name: 'Notes',
  clientKey: 'notes-client',
  sharedSecret: 'notes-shared-secret-of-at-least-32-chars',
  oauthClientId: 'notes-oauth',
  clientSecret: 'notes-client-secret',
};
const { sharedSecret: _shared, clientSecret: _client, ...WITHOUT_SECRETS } = APP;

for (const kind of STORE_KINDS) {
  describe(`seed documents from exports on ${kind}`, () => {
    let store: Store;
    let siteId: number;
    const load = (document: unknown) => loadSeed(store.db, secrets, checkSeed(document));
    const stored = async (key = APP.key) => {
      const app = (await findSealedAppByKey(store.db, siteId, key))!;
      return { shared: secrets.decrypt(app.sharedSecretSealed), client: app.clientSecretDigest };
    };

    before(async () => {
      store = await freshStore(kind);
      await load({ apps: [APP], omitted: ['apps[].sharedSecret', 'users[].apiTokens'] });
      siteId = (await findDefaultSite(store.db))!.id;
    });
    after(() => store.close());

    test('omitted is accepted and ignored', async () => {
      const summary = await load({ omitted: ['anything at all'] });
      assert.equal(summary.users, 0);
      assert.throws(() => checkSeed({ omitted: 'users[].apiTokens' }), SeedError);
    });

    test('an app without secrets keeps both; a clientSecret given with it replaces only that one', async () => {
      await load({ apps: [{ ...WITHOUT_SECRETS, name: 'Renamed' }] });
      assert.deepEqual(await stored(), { shared: APP.sharedSecret, client: secrets.digest(APP.clientSecret) });
      await load({ apps: [{ ...WITHOUT_SECRETS, clientSecret: 'another-client-secret' }] });
      assert.deepEqual(await stored(), { shared: APP.sharedSecret, client: secrets.digest('another-client-secret') });
      // With its sharedSecret, an app is as described, as before: no clientSecret, none kept.
      await load({ apps: [{ ...WITHOUT_SECRETS, sharedSecret: APP.sharedSecret }] });
      assert.deepEqual(await stored(), { shared: APP.sharedSecret, client: null });
    });

    test('a new app without secrets gets a random shared secret of its own and no client secret', async () => {
      await load({
        apps: [
          { key: 'one', name: 'One', clientKey: 'one-client' },
          { key: 'two', name: 'Two', clientKey: 'two-client' },
        ],
      });
      const [one, two] = [await stored('one'), await stored('two')];
      assert.ok(one.shared.length >= 32, 'as long as any shared secret');
      assert.notEqual(one.shared, two.shared);
      assert.equal(one.client, null);
    });

    test('a personal space may have owner null; any other space may not name one, and a personal one needs the field', async () => {
      await load({ spaces: [{ key: '~gone', name: 'Gone', type: 'personal', owner: null }] });
      const space = await findSpaceByKey(store.db, siteId, '~gone');
      assert.equal(space?.type, 'personal');
      assert.equal(space?.owner, null);
      await assert.rejects(
        load({
          spaces: [
            { key: 'G', name: 'Global', owner: null },
            { key: '~x', name: 'X', type: 'personal' },
          ],
        }),
        (error: SeedError) => {
          assert.deepEqual(error.problems, [
            'spaces[0].owner: only a personal space has an owner',
            'spaces[1].owner: a personal space needs an owner',
          ]);
          return true;
        },
      );
    });
  });
}
