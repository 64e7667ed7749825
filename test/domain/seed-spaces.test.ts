/**
 * The seed file's `labels`, `spaces`, `content` and `watches` sections
 * (docs/behaviour.md §8), on both stores: what loads, upserts by key and id, add-only
 * labels and insert-only watches, references to earlier loads, and the
 * problems a bad file is refused with (nothing of it kept).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { parse as parseYaml } from 'yaml';
import { Secrets } from '../../src/domain/secrets.ts';
import { checkSeed, loadSeed, SeedError } from '../../src/domain/seed.ts';
import { findContent } from '../../src/store/content.ts';
import type { Store } from '../../src/store/database.ts';
import type { Database } from '../../src/store/schema.ts';
import { findSpaceByKey } from '../../src/store/spaces.ts';
import { isWatching } from '../../src/store/watches.ts';
import { DEFAULT_SITE, freshStore, STORE_KINDS } from '../helpers/stores.ts';

const secrets = new Secrets('seed-spaces-secret-key-of-at-least-32-chars');
const MIA = '712020:mia';
const NOAH = '712020:noah';

const BASE = `
groups: [confluence-users, confluence-admins, qa]
users:
  - { accountId: "712020:mia", email: mia@example.com, displayName: Mia, groups: [confluence-users] }
  - { accountId: "712020:noah", email: noah@example.com, displayName: Noah, groups: [confluence-users] }
apps:
  - { key: com.example.notes, name: Notes, accountId: "557058:notes-bot", clientKey: notes-client, sharedSecret: a-shared-secret-of-at-least-32-characters }
labels: [release, Onboarding]
spaces:
  - key: ENG
    name: Engineering
    type: global
    view: { groups: [confluence-users], users: ["712020:noah"], anonymous: false }
  - { key: "~mia", name: Mia, type: personal, owner: "712020:mia" }
  - { key: PUB, name: Public, view: { anonymous: true } }
content:
  - { id: "1001", type: page, space: ENG, title: Release plan, labels: [Release, plan], restrictions: { users: [], groups: [] } }
  - { id: "1002", type: blogpost, space: ENG, title: Secret, restrictions: { users: ["712020:mia"], groups: [qa] } }
  - { id: "1003", space: "~mia", title: Diary }
watches:
  - { user: "712020:mia", content: "1001" }
  - { user: "712020:mia", space: ENG }
  - { user: "712020:mia", label: RELEASE }
  - { user: "712020:noah", label: onboarding }
`;

const load = (db: Kysely<Database>, text: string) => loadSeed(db, secrets, checkSeed(parseYaml(text) ?? {}));

async function problemsOf(db: Kysely<Database>, text: string): Promise<string[]> {
  try {
    await load(db, text);
  } catch (error) {
    assert.ok(error instanceof SeedError, String(error));
    return error.problems;
  }
  assert.fail('expected the seed to be refused');
}

const contentTarget = (contentId: string) => ({ kind: 'content' as const, contentId });
const labelTarget = (label: string) => ({ kind: 'label' as const, label });

for (const kind of STORE_KINDS) {
  describe(`seed: spaces, content, labels and watches on ${kind}`, () => {
    const stores: Store[] = [];
    after(() => Promise.all(stores.map((s) => s.close())));
    const fresh = async () => {
      const store = await freshStore(kind);
      stores.push(store);
      return store.db;
    };

    test('the sections load: view permissions, owners, labels lower-cased, restrictions, watches', async () => {
      const db = await fresh();
      const summary = await load(db, BASE);
      assert.deepEqual(
        {
          spaces: summary.spaces,
          content: summary.content,
          labels: summary.labels,
          watchesAdded: summary.watchesAdded,
        },
        { spaces: 3, content: 3, labels: 3, watchesAdded: 4 },
      );
      const eng = (await findSpaceByKey(db, DEFAULT_SITE, 'ENG'))!;
      assert.deepEqual(
        { ...eng, id: 0 },
        {
          id: 0,
          key: 'ENG',
          name: 'Engineering',
          type: 'global',
          owner: null,
          view: { groups: ['confluence-users'], users: [NOAH], anonymous: false },
        },
      );
      assert.equal(typeof eng.id, 'number');
      const mine = (await findSpaceByKey(db, DEFAULT_SITE, '~mia'))!;
      assert.deepEqual(
        [mine.type, mine.owner, mine.view],
        ['personal', MIA, { groups: [], users: [], anonymous: false }],
      );
      assert.deepEqual((await findSpaceByKey(db, DEFAULT_SITE, 'PUB'))!.view, {
        groups: [],
        users: [],
        anonymous: true,
      });

      assert.deepEqual(await findContent(db, DEFAULT_SITE, '1001'), {
        id: '1001',
        type: 'page',
        title: 'Release plan',
        space: 'ENG',
        labels: ['plan', 'release'],
        restricted: false,
        restrictions: { users: [], groups: [] },
      });
      const secret = (await findContent(db, DEFAULT_SITE, '1002'))!;
      assert.deepEqual(
        [secret.type, secret.restricted, secret.restrictions],
        ['blogpost', true, { users: [MIA], groups: ['qa'] }],
      );
      assert.equal((await findContent(db, DEFAULT_SITE, '1003'))!.type, 'page', 'type defaults to page');

      const labels = await db.selectFrom('labels').select('name').orderBy('name').execute();
      assert.deepEqual(
        labels.map((l) => l.name),
        ['onboarding', 'plan', 'release'],
      );
      assert.equal(await isWatching(db, DEFAULT_SITE, MIA, contentTarget('1001')), true);
      assert.equal(await isWatching(db, DEFAULT_SITE, MIA, { kind: 'space', spaceId: eng.id }), true);
      assert.equal(await isWatching(db, DEFAULT_SITE, MIA, labelTarget('release')), true);
      assert.equal(await isWatching(db, DEFAULT_SITE, NOAH, labelTarget('onboarding')), true);
      assert.equal(await isWatching(db, DEFAULT_SITE, NOAH, contentTarget('1001')), false);
    });

    test('a second load upserts by key and id; view and restrictions given replace, left out keep; labels and watches are only added', async () => {
      const db = await fresh();
      await load(db, BASE);
      // Live changes since: mia unwatches 1001; a label is added to 1001.
      await db.deleteFrom('content_watches').where('account_id', '=', MIA).execute();
      await db
        .insertInto('labels')
        .values({ site_id: DEFAULT_SITE, name: 'live', created_at: new Date().toISOString() })
        .execute();
      await db
        .insertInto('content_labels')
        .values({ site_id: DEFAULT_SITE, content_id: '1001', label: 'live' })
        .execute();

      const summary = await load(
        db,
        `
spaces:
  - { key: ENG, name: Engineering 2, view: { groups: [qa] } }
  - { key: PUB, name: Public 2 }
content:
  - { id: "1001", space: PUB, title: Moved, labels: [extra] }
  - { id: "1002", space: ENG, title: Secret, restrictions: { users: [] } }
watches:
  - { user: "712020:noah", content: "1001" }
  - { user: "712020:mia", content: "1001" }
  - { user: "712020:mia", label: release }
`,
      );
      assert.equal(summary.watchesAdded, 2, "noah's new watch, and mia's removed one again");
      assert.deepEqual((await findSpaceByKey(db, DEFAULT_SITE, 'ENG'))!.view, {
        groups: ['qa'],
        users: [],
        anonymous: false,
      });
      const pub = (await findSpaceByKey(db, DEFAULT_SITE, 'PUB'))!;
      assert.deepEqual([pub.name, pub.view], ['Public 2', { groups: [], users: [], anonymous: true }]);
      const moved = (await findContent(db, DEFAULT_SITE, '1001'))!;
      assert.deepEqual(
        [moved.space, moved.title, moved.labels, moved.type],
        ['PUB', 'Moved', ['extra', 'live', 'plan', 'release'], 'page'],
      );
      const secret = (await findContent(db, DEFAULT_SITE, '1002'))!;
      assert.deepEqual(
        [secret.type, secret.restricted, secret.restrictions],
        ['blogpost', false, { users: [], groups: [] }],
      );
      assert.equal(await isWatching(db, DEFAULT_SITE, NOAH, contentTarget('1001')), true);
      // Unlisted rows stay.
      assert.ok(await findSpaceByKey(db, DEFAULT_SITE, '~mia'));
      assert.ok(await findContent(db, DEFAULT_SITE, '1003'));
    });

    test('references may name what an earlier load stored', async () => {
      const db = await fresh();
      await load(db, BASE);
      const summary = await load(
        db,
        `
content:
  - { id: "2001", space: ENG, title: Later, labels: [onboarding] }
watches:
  - { user: "712020:noah", content: "1003" }
  - { user: "712020:noah", space: "~mia" }
  - { user: "712020:noah", label: Plan }
`,
      );
      assert.equal(summary.watchesAdded, 3);
      assert.deepEqual((await findContent(db, DEFAULT_SITE, '2001'))!.labels, ['onboarding']);
    });

    test("a personal space may be handed to its owner's new space in one file", async () => {
      const db = await fresh();
      await load(db, BASE);
      await load(
        db,
        `
spaces:
  - { key: "~mia", name: Old, type: global }
  - { key: "~mia2", name: New, type: personal, owner: "712020:mia" }
`,
      );
      assert.deepEqual(
        [
          (await findSpaceByKey(db, DEFAULT_SITE, '~mia'))!.owner,
          (await findSpaceByKey(db, DEFAULT_SITE, '~mia2'))!.owner,
        ],
        [null, MIA],
      );
    });

    test('a bad file names each problem and changes nothing', async () => {
      const db = await fresh();
      await load(db, BASE);
      const before = await Promise.all(
        ['spaces', 'content', 'labels', 'content_labels', 'content_watches'].map((t) =>
          db
            .selectFrom(t as 'spaces')
            .selectAll()
            .execute(),
        ),
      );
      const problems = await problemsOf(
        db,
        `
labels: [ok, "two words", "a&b"]
spaces:
  - { key: NEW, name: New }
  - { key: NEW, name: Again }
  - { key: "~noah", name: Noah, type: personal, owner: "712020:mia" }
  - { key: BOT, name: Bot, type: personal, owner: "557058:notes-bot" }
  - { key: BLANK, name: "   " }
content:
  - { id: "3001", space: NEW, title: One, labels: ["bad label"] }
  - { id: "3001", space: NEW, title: Two }
  - { id: "3002", space: NEW, title: "  " }
watches:
  - { user: "712020:mia", content: "3001" }
`,
      );
      for (const line of [
        'labels[1]: label "two words" must not contain white space or any of : ; , . ? & [ ] ( ) # ^ * @ ! (found "white space")',
        'labels[2]: label "a&b" must not contain white space or any of : ; , . ? & [ ] ( ) # ^ * @ ! (found "&")',
        'spaces[1].key: space "NEW" is already listed above',
        'spaces[2].owner: user "712020:mia" already owns the personal space "~mia"',
        'spaces[3].owner: user "557058:notes-bot" is an app\'s bot user, which owns no space',
        'spaces[4].name: must not be blank',
        'content[0].labels[0]: label "bad label" must not contain white space or any of : ; , . ? & [ ] ( ) # ^ * @ ! (found "white space")',
        'content[1].id: content "3001" is already listed above',
        'content[2].title: must not be blank',
      ]) {
        assert.ok(problems.includes(line), `missing "${line}" in:\n  ${problems.join('\n  ')}`);
      }
      const after = await Promise.all(
        ['spaces', 'content', 'labels', 'content_labels', 'content_watches'].map((t) =>
          db
            .selectFrom(t as 'spaces')
            .selectAll()
            .execute(),
        ),
      );
      assert.deepEqual(after, before);
    });
  });
}
