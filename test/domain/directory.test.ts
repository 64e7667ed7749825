/**
 * The directory's rules for the principals HTTP cannot produce yet: an app
 * acting as a user (asUser) needs a JWT-bearer token, which the OAuth issue
 * adds. Real stores, the real seed loader; only the principal is built by
 * hand, the way http/auth.ts builds one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { findAppByIssuer } from '../../src/domain/apps.ts';
import { DirectoryService, parseExpand, splitList, visibleEmail } from '../../src/domain/directory.ts';
import { EmailService } from '../../src/domain/email.ts';
import type { ApiError } from '../../src/domain/errors.ts';
import type { Member, Principal } from '../../src/domain/principal.ts';
import { Secrets } from '../../src/domain/secrets.ts';
import { loadSeed } from '../../src/domain/seed.ts';
import type { Site } from '../../src/domain/site.ts';
import type { Store } from '../../src/store/database.ts';
import { groupNamesOf } from '../../src/store/groups.ts';
import { findDefaultSite } from '../../src/store/site.ts';
import { findUser } from '../../src/store/users.ts';
import {
  APPS,
  BASE_URL,
  DIRECTORY_APPS,
  DIRECTORY_USERS,
  directorySeed,
  fixtureSeed,
  SECRET_KEY,
  USERS,
} from '../helpers/fixture.ts';
import { DEFAULT_SITE, freshStore, STORE_KINDS } from '../helpers/stores.ts';

const secrets = new Secrets(SECRET_KEY);

for (const kind of STORE_KINDS) {
  describe(`directory rules on ${kind}`, () => {
    let store: Store;
    let site: Site;
    before(async () => {
      store = await freshStore(kind);
      await loadSeed(store.db, secrets, fixtureSeed());
      await loadSeed(store.db, secrets, directorySeed());
      const stored = (await findDefaultSite(store.db))!;
      site = {
        id: stored.id,
        name: stored.name,
        cloudId: stored.cloudId,
        baseUrl: BASE_URL,
        settings: stored.settings,
        isDefault: true,
      };
    });
    after(() => store.close());

    async function member(accountId: string): Promise<Member> {
      const user = (await findUser(store.db, DEFAULT_SITE, accountId))!;
      return { ...user, groups: await groupNamesOf(store.db, DEFAULT_SITE, accountId) };
    }
    async function asUser(appKey: string, accountId: string): Promise<Principal> {
      const app = (await findAppByIssuer(store.db, DEFAULT_SITE, secrets, appKey))!;
      return { kind: 'asUser', app, user: await member(accountId), scopes: app.scopes };
    }
    const directory = () => new DirectoryService(store.db);
    const email = () => new EmailService(store.db);

    test('asUser: the impersonated user sees their own email; an impersonated admin is no Basic-auth admin', async () => {
      const grace = (await findUser(store.db, DEFAULT_SITE, DIRECTORY_USERS.grace.accountId))!;
      const mia = (await findUser(store.db, DEFAULT_SITE, USERS.mia.accountId))!;
      const asGrace = await asUser(APPS.notes.key, grace.accountId);
      const asAdmin = await asUser(APPS.notes.key, USERS.admin.accountId);
      assert.equal(visibleEmail(asGrace, site.settings, grace), grace.email);
      assert.equal(visibleEmail(asAdmin, site.settings, mia), '');
      assert.equal(
        visibleEmail({ kind: 'user', user: await member(USERS.admin.accountId) }, site.settings, mia),
        mia.email,
      );

      const entry = await directory().lookUpUser(
        asAdmin,
        site,
        { accountId: mia.accountId },
        parseExpand(['details.personal']),
      );
      assert.deepEqual(entry.details, { personal: {} });
    });

    test("asUser: /user/current is the impersonated user, not the app's bot", async () => {
      const current = await directory().currentUser(
        await asUser(APPS.notes.key, USERS.mia.accountId),
        site,
        parseExpand(undefined),
      );
      assert.notEqual(current, 'anonymous');
      if (current === 'anonymous') return;
      assert.equal(current.user.accountId, USERS.mia.accountId);
      assert.equal(current.email, USERS.mia.email);
    });

    test('asUser: the email API refuses it with 400, even for an approved app', async () => {
      const principal = await asUser(DIRECTORY_APPS.mailer.key, USERS.mia.accountId);
      for (const call of [
        () => email().emailOf(principal, site, USERS.mia.accountId),
        () => email().emailsOf(principal, site, [USERS.mia.accountId]),
      ]) {
        await assert.rejects(call(), (error: ApiError) => {
          assert.equal(error.code, 'bad_request');
          assert.match(
            error.message,
            /^Only apps acting as themselves may read email addresses: app com\.example\.mailer is acting as a user$/,
          );
          return true;
        });
      }
    });

    test('lists: comma-joined and repeated, trimmed, empty items dropped; unknown expansions ignored', () => {
      assert.deepEqual(splitList(['a,b', ' c ', ',,', 'd']), ['a', 'b', 'c', 'd']);
      assert.deepEqual(splitList(undefined), []);
      assert.deepEqual(
        [...parseExpand(['operations,history', 'details.personal', 'personalspace'])],
        ['operations', 'details.personal'],
      );
    });
  });
}
