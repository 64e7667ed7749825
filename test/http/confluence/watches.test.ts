/**
 * Contract tests for content, label and space watches (docs/behaviour.md §1, §3
 * "Watches"), on both stores: the target user, the admin rule, XSRF, the
 * view permission model, missing targets, idempotence and cleanup. Each
 * test makes its own content, spaces or labels where it changes watches.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CONFLUENCE_API, CONFLUENCE_API_ALIAS } from '../../../src/http/paths.ts';
import { adminCaller } from '../../helpers/admin.ts';
import { basicAuth, bearer, connectJwt } from '../../helpers/credentials.ts';
import {
  APPS,
  basic,
  bearerToken,
  cloudIdOf,
  DIRECTORY_USERS,
  type Fixture,
  loadDirectoryFixture,
  loadOAuthFixture,
  loadWatchFixture,
  startFixture,
  USERS,
  WATCH_CONTENT,
} from '../../helpers/fixture.ts';
import { assertConfluenceError, type Reply } from '../../helpers/security.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

const API = CONFLUENCE_API;
const MIA = USERS.mia.accountId;
const NOAH = USERS.noah.accountId;
const ADMIN = USERS.admin.accountId;
const XSRF = { 'x-atlassian-token': 'no-check' };
const DEPRECATED = '299 - "Deprecated API"';

type Kind = 'content' | 'label' | 'space';
type Method = 'GET' | 'POST' | 'DELETE';

for (const kind of STORE_KINDS) {
  describe(`Confluence watches on ${kind}`, () => {
    let fx: Fixture;
    before(async () => {
      fx = await startFixture(kind);
      await loadWatchFixture(fx);
      await loadDirectoryFixture(fx);
      await loadOAuthFixture(fx);
    });
    after(() => fx.close());
    const admin = adminCaller(() => fx);

    const url = (what: Kind, target: string, query = '', prefix = API) =>
      `${prefix}/user/watch/${what}/${encodeURIComponent(target)}${query}`;
    /** POST and DELETE carry the XSRF header unless `headers` says otherwise. */
    const send = (method: Method, target: string, headers: Record<string, string> = basic('mia')) =>
      fx.app.inject({ method, url: target, headers: method === 'GET' ? headers : { ...XSRF, ...headers } });
    const watching = async (what: Kind, target: string, headers: Record<string, string> = basic('mia'), query = '') => {
      const response = await send('GET', url(what, target, query), headers);
      assert.equal(response.statusCode, 200, response.body);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const body = response.json();
      assert.deepEqual(Object.keys(body), ['watching']);
      return body.watching as boolean;
    };
    const noContent = (response: Reply) => {
      assert.equal(response.statusCode, 204, response.body);
      assert.equal(response.body, '');
    };

    let counter = 0;
    /** New content in a space (ENG by default), made through the administration API. */
    async function freshContent(extra: Record<string, unknown> = {}): Promise<string> {
      const id = String(900000 + ++counter);
      const created = await admin('POST', '/content', { id, space: 'ENG', title: `Fresh ${id}`, ...extra });
      assert.equal(created.statusCode, 201, created.body);
      return id;
    }
    async function freshSpace(extra: Record<string, unknown> = {}): Promise<string> {
      const key = `FRESH${++counter}`;
      const created = await admin('POST', '/spaces', {
        key,
        name: `Fresh ${key}`,
        view: { groups: ['confluence-users'] },
        ...extra,
      });
      assert.equal(created.statusCode, 201, created.body);
      return key;
    }
    async function freshLabel(): Promise<string> {
      const label = `fresh-${++counter}`;
      await freshContent({ labels: [label] });
      return label;
    }

    describe('GET, POST and DELETE', () => {
      for (const [what, make] of [
        ['content', () => freshContent()],
        ['label', () => freshLabel()],
        ['space', () => freshSpace()],
      ] as Array<[Kind, () => Promise<string>]>) {
        test(`${what}: {"watching": false}, 204 to watch (twice), true, 204 to unwatch (twice), false`, async () => {
          const target = await make();
          assert.equal(await watching(what, target), false);
          noContent(await send('POST', url(what, target)));
          assert.equal(await watching(what, target), true);
          noContent(await send('POST', url(what, target)));
          assert.equal(await watching(what, target), true);
          // Another user's status is their own.
          assert.equal(await watching(what, target, basic('noah')), false);
          noContent(await send('DELETE', url(what, target)));
          assert.equal(await watching(what, target), false);
          noContent(await send('DELETE', url(what, target)));
          assert.equal(await watching(what, target), false);
        });
      }

      test('the /rest/api alias and the gateway forms serve the same watches', async () => {
        const id = await freshContent();
        const cloudId = await cloudIdOf(fx);
        noContent(await send('POST', url('content', id, '', '/rest/api')));
        assert.equal(await watching('content', id), true);
        assert.equal(
          (await send('GET', url('content', id, '', `/ex/confluence/${cloudId}/wiki/rest/api`))).json().watching,
          true,
        );
        noContent(await send('DELETE', url('content', id, '', `/ex/confluence/${cloudId}/rest/api`)));
        assert.equal(await watching('content', id, basic('mia'), ''), false);
        assertConfluenceError(
          await send(
            'GET',
            url('content', id, '', '/ex/confluence/00000000-0000-0000-0000-000000000000/wiki/rest/api'),
          ),
          404,
          /is not this site's cloudId/,
        );
      });

      test('label names are case-insensitive: stored and watched lower-cased', async () => {
        const label = await freshLabel();
        noContent(await send('POST', url('label', label.toUpperCase())));
        assert.equal(await watching('label', label), true);
        assert.equal(await watching('label', `Fresh-${label.slice('fresh-'.length)}`), true);
        // "Planning" was seeded on 1001 and is stored as "planning".
        assert.equal(await watching('label', 'PLANNING'), false);
      });
    });

    describe('the target user', () => {
      test('no user named: the caller; accountId of oneself needs no admin; empty values count as absent', async () => {
        const id = await freshContent();
        noContent(await send('POST', url('content', id, `?accountId=${MIA}`)));
        assert.equal(await watching('content', id), true);
        assert.equal(await watching('content', id, basic('mia'), '?accountId=&key=&username='), true);
        noContent(await send('DELETE', url('content', id, '?accountId=')));
        assert.equal(await watching('content', id), false);
      });

      test('403: naming another user needs admin, for GET, POST and DELETE, known or unknown', async () => {
        const id = await freshContent();
        const refused = /Only site admins and apps may manage another user's watches: you may not name user 712020:mia/;
        for (const method of ['GET', 'POST', 'DELETE'] as const) {
          assertConfluenceError(
            await send(method, url('content', id, `?accountId=${MIA}`), basic('noah')),
            403,
            refused,
          );
          // Not 404: nothing tells a non-admin which accounts exist (docs/behaviour.md §3).
          assertConfluenceError(
            await send(method, url('content', id, '?accountId=712020:nobody'), basic('noah')),
            403,
            /you may not name user 712020:nobody/,
          );
        }
        assert.equal(await watching('content', id), false, 'noah changed nothing');
      });

      test("an admin names anyone; the watch is the named user's", async () => {
        const id = await freshContent();
        noContent(await send('POST', url('content', id, `?accountId=${MIA}`), basic('admin')));
        assert.equal(await watching('content', id), true);
        // The admin cannot view ENG content (not in confluence-users), yet names mia, who can.
        assert.equal(await watching('content', id, basic('admin'), `?accountId=${MIA}`), true);
        noContent(await send('DELETE', url('content', id, `?accountId=${MIA}`), basic('admin')));
        assert.equal(await watching('content', id), false);
        // A deactivated user's watches may still be managed by an admin (docs/behaviour.md §2: data is kept).
        noContent(await send('POST', url('content', id, `?accountId=${USERS.gone.accountId}`), basic('admin')));
        assert.equal(await watching('content', id, basic('admin'), `?accountId=${USERS.gone.accountId}`), true);
      });

      test('404: an admin naming a user who does not exist', async () => {
        const id = await freshContent();
        for (const method of ['GET', 'POST', 'DELETE'] as const) {
          assertConfluenceError(
            await send(method, url('content', id, '?accountId=712020:nobody'), basic('admin')),
            404,
            /^No user with accountId 712020:nobody$/,
          );
        }
      });

      test('an app acting as itself counts as admin, and watches as its bot user when it names nobody', async () => {
        const id = await freshContent();
        const target = url('content', id, `?accountId=${MIA}`);
        noContent(await send('POST', target, connectJwt(APPS.notes, 'POST', target)));
        assert.equal(await watching('content', id), true);
        const own = url('content', id);
        noContent(await send('POST', own, connectJwt(APPS.notes, 'POST', own)));
        const status = await send('GET', own, connectJwt(APPS.notes, 'GET', own));
        assert.deepEqual(status.json(), { watching: true });
        assert.equal(
          await watching('content', id, basic('admin'), `?accountId=${encodeURIComponent(APPS.notes.accountId)}`),
          true,
          'the bot watches',
        );
        // Another app's bot does not.
        const tasks = await send('GET', own, connectJwt(APPS.tasks, 'GET', own));
        assert.deepEqual(tasks.json(), { watching: false });
      });

      test('bearer tokens: asUser counts as admin only when the impersonated user is one; asApp always does', async () => {
        const id = await freshContent();
        const asMia = bearer(await bearerToken(fx, 'oauth', { asUser: MIA }));
        const asAdmin = bearer(await bearerToken(fx, 'oauth', { asUser: ADMIN }));
        const asApp = bearer(await bearerToken(fx, 'oauth'));
        // asUser without a named user: the impersonated user's own watch.
        noContent(await send('POST', url('content', id), asMia));
        assert.equal(await watching('content', id), true);
        assertConfluenceError(
          await send('GET', url('content', id, `?accountId=${NOAH}`), asMia),
          403,
          /you may not name user 712020:noah/,
        );
        noContent(await send('POST', url('content', id, `?accountId=${NOAH}`), asAdmin));
        assert.equal(await watching('content', id, basic('noah')), true);
        noContent(await send('DELETE', url('content', id, `?accountId=${NOAH}`), asApp));
        assert.equal(await watching('content', id, basic('noah')), false);
        // The view check is the target's: the admin may not view ENG content for herself.
        assertConfluenceError(
          await send('POST', url('content', id), asAdmin),
          403,
          new RegExp(`^Content ${id} does not exist, or user ${ADMIN} may not view it$`),
        );
        // The impersonated user must be allowed to use the site.
        const asOutsider = bearer(await bearerToken(fx, 'oauth', { asUser: USERS.outsider.accountId }));
        assertConfluenceError(await send('GET', url('space', 'QA'), asOutsider), 403, /may not use this site/);
      });

      test('legacy key and username name the user, with the deprecation Warning; accountId wins over both', async () => {
        const id = await freshContent();
        const { ada } = DIRECTORY_USERS;
        const byKey = await send('POST', url('content', id, `?key=${ada.userKey}`), basic('admin'));
        noContent(byKey);
        assert.equal(byKey.headers.warning, DEPRECATED);
        const byName = await send('GET', url('content', id, `?username=${ada.username}`), basic('admin'));
        assert.deepEqual(byName.json(), { watching: true });
        assert.equal(byName.headers.warning, DEPRECATED);
        assert.equal(await watching('content', id, basicAuth(ada.email, ada.token)), true);
        // key beats username; accountId beats both.
        assert.deepEqual(
          (await send('GET', url('content', id, `?key=${ada.userKey}&username=grace`), basic('admin'))).json(),
          { watching: true },
        );
        const both = await send('GET', url('content', id, `?accountId=${NOAH}&key=${ada.userKey}`), basic('admin'));
        assert.deepEqual(both.json(), { watching: false });
        assert.equal(both.headers.warning, DEPRECATED);
        // No warning without a legacy parameter.
        assert.equal(
          (await send('GET', url('content', id, `?accountId=${NOAH}`), basic('admin'))).headers.warning,
          undefined,
        );
      });

      test('legacy identifiers that match nobody: 404 for admins, 403 for everyone else, both with the Warning', async () => {
        const id = await freshContent();
        const unknown = await send('GET', url('content', id, '?key=nokey'), basic('admin'));
        assertConfluenceError(unknown, 404, /^No user with key nokey$/);
        assert.equal(unknown.headers.warning, DEPRECATED);
        assertConfluenceError(
          await send('POST', url('content', id, '?username=nobody'), basic('admin')),
          404,
          /^No user with username nobody$/,
        );
        const refused = await send('GET', url('content', id, '?username=nobody'), basic('noah'));
        assertConfluenceError(refused, 403, /you may not name user username "nobody"/);
        assert.equal(refused.headers.warning, DEPRECATED);
        // A legacy name of oneself needs no admin.
        const own = await send(
          'GET',
          url('content', id, `?username=${DIRECTORY_USERS.ada.username}`),
          basicAuth(DIRECTORY_USERS.ada.email, DIRECTORY_USERS.ada.token),
        );
        assert.deepEqual(own.json(), { watching: false });
      });

      test('400: a malformed accountId, or one given twice; before the admin rule', async () => {
        const id = await freshContent();
        assertConfluenceError(
          await send('GET', url('content', id, '?accountId=bad%20id'), basic('noah')),
          400,
          /accountId "bad id" is not a well-formed accountId/,
        );
        assertConfluenceError(
          await send('POST', url('content', id, `?accountId=${MIA}&accountId=${NOAH}`), basic('admin')),
          400,
          /query parameter accountId: must be a string/,
        );
      });
    });

    describe('XSRF', () => {
      test('403 for POST and DELETE without X-Atlassian-Token: no-check; GET needs none', async () => {
        const id = await freshContent();
        for (const method of ['POST', 'DELETE'] as const) {
          const response = await fx.app.inject({ method, url: url('content', id), headers: basic('mia') });
          assertConfluenceError(
            response,
            403,
            new RegExp(`^XSRF check failed: ${method} needs the header X-Atlassian-Token: no-check`),
          );
          for (const value of ['check', 'yes', '']) {
            const wrong = await fx.app.inject({
              method,
              url: url('content', id),
              headers: { ...basic('mia'), 'x-atlassian-token': value },
            });
            assertConfluenceError(wrong, 403, /XSRF check failed: X-Atlassian-Token must be no-check/);
          }
        }
        assert.equal(await watching('content', id), false, 'a refused POST watches nothing');
        // nocheck and any case are accepted.
        for (const value of ['nocheck', 'No-Check', 'NOCHECK']) {
          noContent(
            await fx.app.inject({
              method: 'POST',
              url: url('content', id),
              headers: { ...basic('mia'), 'x-atlassian-token': value },
            }),
          );
        }
        assert.equal(await watching('content', id), true);
      });

      test('the order of checks: 401 before XSRF, can-use and scope before XSRF, XSRF before a bad parameter or a missing target', async () => {
        const bare = (method: Method, target: string, headers: Record<string, string>) =>
          fx.app.inject({ method, url: target, headers });
        assertConfluenceError(await bare('POST', url('content', '1001'), {}), 401, /does not allow anonymous access/);
        assertConfluenceError(
          await bare('POST', url('content', '1001'), basic('outsider')),
          403,
          /may not use this site/,
        );
        const scoped = url('content', '1001');
        assertConfluenceError(
          await bare('POST', scoped, connectJwt(APPS.reader, 'POST', scoped)),
          403,
          /App com\.example\.reader lacks the scope for this operation: it needs WRITE/,
        );
        assertConfluenceError(
          await bare('POST', url('content', 'not-a-number'), basic('mia')),
          403,
          /XSRF check failed/,
        );
        assertConfluenceError(await bare('DELETE', url('space', 'NOPE'), basic('mia')), 403, /XSRF check failed/);
        assertConfluenceError(
          await bare('POST', url('content', '1001', `?accountId=${NOAH}`), basic('mia')),
          403,
          /XSRF check failed/,
        );
      });

      test('a site with xsrfCheck off needs no header', async () => {
        const open = await startFixture(kind, { xsrfCheck: false });
        try {
          await loadWatchFixture(open);
          const target = url('space', 'ENG');
          noContent(await open.app.inject({ method: 'POST', url: target, headers: basic('mia') }));
          assert.deepEqual((await open.app.inject({ method: 'GET', url: target, headers: basic('mia') })).json(), {
            watching: true,
          });
          noContent(await open.app.inject({ method: 'DELETE', url: target, headers: basic('mia') }));
          // The header is still accepted.
          noContent(await open.app.inject({ method: 'POST', url: target, headers: { ...basic('mia'), ...XSRF } }));
        } finally {
          await open.close();
        }
      });

      test('turning xsrfCheck off through the administration API takes effect at once on this instance', async () => {
        const id = await freshContent();
        try {
          assert.equal((await admin('PATCH', '/site', { xsrfCheck: false })).statusCode, 200);
          noContent(await fx.app.inject({ method: 'POST', url: url('content', id), headers: basic('mia') }));
        } finally {
          assert.equal((await admin('PATCH', '/site', { xsrfCheck: true })).statusCode, 200);
        }
        assertConfluenceError(
          await fx.app.inject({ method: 'DELETE', url: url('content', id), headers: basic('mia') }),
          403,
          /XSRF check failed/,
        );
      });
    });

    describe("visibility: the space permission plus the content's restrictions, for the target user", () => {
      const hidden = (what: string, who: string) =>
        new RegExp(`^${what} does not exist, or user ${who} may not view it$`);

      test('content: each user may watch exactly what they may view', async () => {
        // [content, users who may view it]
        const table: Array<[keyof typeof WATCH_CONTENT, Array<'mia' | 'noah' | 'admin'>]> = [
          ['plan', ['mia', 'noah']],
          ['miaOnly', ['mia']],
          // Restricted to confluence-admins, but no admin may view ENG.
          ['adminsOnly', []],
          ['noahOrAdmins', ['noah']],
          ['secret', ['admin']],
          ['open', ['mia', 'noah', 'admin']],
          ['diary', ['mia']],
        ];
        for (const [name, viewers] of table) {
          const { id } = WATCH_CONTENT[name];
          for (const user of ['mia', 'noah', 'admin'] as const) {
            const accountId = USERS[user].accountId;
            for (const method of ['GET', 'POST', 'DELETE'] as const) {
              const response = await send(method, url('content', id), basic(user));
              if (viewers.includes(user))
                assert.equal(
                  response.statusCode,
                  method === 'GET' ? 200 : 204,
                  `${user} ${method} ${name}: ${response.body}`,
                );
              else assertConfluenceError(response, 403, hidden(`Content ${id}`, accountId));
            }
          }
        }
      });

      test("spaces: the view groups and users, anonymous viewers, and a personal space's owner", async () => {
        const table: Array<[string, Array<'mia' | 'noah' | 'admin'>]> = [
          ['ENG', ['mia', 'noah']],
          ['SEC', ['admin']],
          ['PUB', ['mia', 'noah', 'admin']],
          ['QA', []],
          ['~mia', ['mia']],
        ];
        for (const [key, viewers] of table) {
          for (const user of ['mia', 'noah', 'admin'] as const) {
            for (const method of ['GET', 'POST', 'DELETE'] as const) {
              const response = await send(method, url('space', key), basic(user));
              if (viewers.includes(user))
                assert.equal(
                  response.statusCode,
                  method === 'GET' ? 200 : 204,
                  `${user} ${method} ${key}: ${response.body}`,
                );
              else assertConfluenceError(response, 403, hidden(`Space ${key}`, USERS[user].accountId));
            }
          }
        }
      });

      test("the TARGET user's view counts, not the caller's: an admin may not make mia watch SEC, but may make outsider watch QA", async () => {
        assertConfluenceError(
          await send('POST', url('space', 'SEC', `?accountId=${MIA}`), basic('admin')),
          403,
          hidden('Space SEC', MIA),
        );
        assertConfluenceError(
          await send('POST', url('content', '2001', `?accountId=${MIA}`), basic('admin')),
          403,
          hidden('Content 2001', MIA),
        );
        // The outsider may not use the site, but is in qa: the view permission is all that counts here.
        const outsider = USERS.outsider.accountId;
        noContent(await send('POST', url('space', 'QA', `?accountId=${outsider}`), basic('admin')));
        noContent(await send('POST', url('content', '4001', `?accountId=${outsider}`), basic('admin')));
        assert.equal(await watching('space', 'QA', basic('admin'), `?accountId=${outsider}`), true);
        // An app naming mia is held to mia's view too.
        const sec = url('space', 'SEC', `?accountId=${MIA}`);
        assertConfluenceError(
          await send('GET', sec, connectJwt(APPS.notes, 'GET', sec)),
          403,
          hidden('Space SEC', MIA),
        );
      });

      test('an app acting as itself views every space and content item', async () => {
        for (const target of [
          url('space', 'SEC'),
          url('space', '~mia'),
          url('content', '1003'),
          url('content', '2001'),
          url('content', '5001'),
        ]) {
          noContent(await send('POST', target, connectJwt(APPS.notes, 'POST', target)));
          assert.deepEqual(
            (await send('GET', target, connectJwt(APPS.notes, 'GET', target))).json(),
            { watching: true },
            target,
          );
          noContent(await send('DELETE', target, connectJwt(APPS.notes, 'DELETE', target)));
        }
      });

      test('a restriction applies in addition to the space permission, and changes apply at once', async () => {
        const id = await freshContent({ restrictions: { users: [NOAH] } });
        assertConfluenceError(await send('POST', url('content', id)), 403, hidden(`Content ${id}`, MIA));
        noContent(await send('POST', url('content', id), basic('noah')));
        // Lifting the restriction opens it to the space's viewers.
        assert.equal((await admin('PATCH', `/content/${id}`, { restrictions: { users: [] } })).statusCode, 200);
        noContent(await send('POST', url('content', id)));
        // Restricting to a group mia is in.
        assert.equal(
          (await admin('PATCH', `/content/${id}`, { restrictions: { groups: ['confluence-users'] } })).statusCode,
          200,
        );
        assert.equal(await watching('content', id), true);
        // Removing mia's group from the space hides it again: she can no longer even unwatch.
        const key = await freshSpace({ view: { users: [MIA] } });
        const inSpace = await freshContent({ space: key });
        noContent(await send('POST', url('content', inSpace)));
        assert.equal((await admin('PATCH', `/spaces/${key}`, { view: { users: [] } })).statusCode, 200);
        assertConfluenceError(await send('DELETE', url('content', inSpace)), 403, hidden(`Content ${inSpace}`, MIA));
        assertConfluenceError(
          await send('GET', url('space', key, `?accountId=${NOAH}`), basic('admin')),
          403,
          hidden(`Space ${key}`, NOAH),
        );
      });

      test('a restriction whose only user was deleted stays a restriction: the content does not open up', async () => {
        const created = await admin('POST', '/users', {
          email: `temp-${++counter}@example.com`,
          displayName: 'Temp',
          groups: ['confluence-users'],
        });
        const temp = created.json().accountId as string;
        const id = await freshContent({ restrictions: { users: [temp] } });
        assert.equal((await admin('DELETE', `/users/${encodeURIComponent(temp)}`)).statusCode, 204);
        const content = (await admin('GET', `/content/${id}`)).json();
        assert.deepEqual([content.restricted, content.restrictions], [true, { users: [], groups: [] }]);
        assertConfluenceError(await send('POST', url('content', id)), 403, hidden(`Content ${id}`, MIA));
      });

      test('labels have no view check', async () => {
        // "release" is on 1001 only, in ENG, which the admin cannot view.
        noContent(await send('POST', url('label', 'release'), basic('admin')));
        assert.equal(await watching('label', 'release', basic('admin')), true);
        noContent(await send('DELETE', url('label', 'release'), basic('admin')));
        // A seeded label on no content at all.
        noContent(await send('POST', url('label', 'onboarding'), basic('noah')));
      });
    });

    describe('missing targets and bad paths', () => {
      test('403: content, a space or a label that does not exist, worded as for hidden ones', async () => {
        for (const method of ['GET', 'POST', 'DELETE'] as const) {
          assertConfluenceError(
            await send(method, url('content', '999999999')),
            403,
            /^Content 999999999 does not exist, or user 712020:mia may not view it$/,
          );
          assertConfluenceError(
            await send(method, url('space', 'NOPE')),
            403,
            /^Space NOPE does not exist, or user 712020:mia may not view it$/,
          );
          assertConfluenceError(
            await send(method, url('label', 'no-such-label')),
            403,
            /^No label named "no-such-label" exists$/,
          );
          // Also for admins and apps, who could view it were it there.
          assertConfluenceError(
            await send(method, url('space', 'NOPE'), basic('admin')),
            403,
            /^Space NOPE does not exist/,
          );
          const target = url('content', '999999999');
          assertConfluenceError(
            await send(method, target, connectJwt(APPS.notes, method, target)),
            403,
            /^Content 999999999 does not exist/,
          );
        }
      });

      test('404: an empty path segment, before credentials', async () => {
        for (const what of ['content', 'label', 'space'] as const) {
          for (const method of ['GET', 'POST', 'DELETE'] as const) {
            for (const prefix of [CONFLUENCE_API, CONFLUENCE_API_ALIAS]) {
              for (const headers of [{}, basic('mia'), { authorization: 'Digest x' }]) {
                const response = await fx.app.inject({ method, url: `${prefix}/user/watch/${what}/`, headers });
                assertConfluenceError(
                  response,
                  404,
                  new RegExp(`No resource at ${method} ${prefix}/user/watch/${what}/: the \\w+ is missing`),
                );
              }
            }
            assertConfluenceError(
              await fx.app.inject({ method, url: `${API}/user/watch/${what}`, headers: basic('mia') }),
              404,
              /No resource at/,
            );
          }
        }
      });

      test('405 with Allow for other methods', async () => {
        const response = await fx.app.inject({ method: 'PUT', url: url('content', '1001'), headers: basic('mia') });
        assertConfluenceError(response, 405, /Method PUT is not allowed/);
        assert.equal(response.headers.allow, 'DELETE, GET, HEAD, POST');
      });

      test('400: a content id, space key or label name that cannot exist', async () => {
        for (const method of ['GET', 'POST', 'DELETE'] as const) {
          assertConfluenceError(
            await send(method, url('content', 'abc')),
            400,
            /^contentId "abc" is not a content id: use 1 to 18 digits$/,
          );
          assertConfluenceError(await send(method, url('content', '1234567890123456789')), 400, /is not a content id/);
          assertConfluenceError(
            await send(method, url('space', 'EN-G')),
            400,
            /^spaceKey "EN-G" is not a valid space key/,
          );
          assertConfluenceError(
            await send(method, url('label', 'two words')),
            400,
            /^labelName "two words" is not a valid label name: it must not contain white space/,
          );
          assertConfluenceError(await send(method, url('label', 'a:b')), 400, /is not a valid label name: .*found ":"/);
          assertConfluenceError(
            await send(method, url('label', 'x'.repeat(256))),
            400,
            /must be 1 to 255 characters long/,
          );
        }
        // A NUL anywhere is a 400 (docs/behaviour.md §4).
        assert.equal((await send('GET', `${API}/user/watch/label/a%00b`)).statusCode, 400);
      });

      test('bodies: none is needed; an empty one of any type is none; one with content must be JSON', async () => {
        const id = await freshContent();
        const post = (headers: Record<string, string>, payload?: string) =>
          fx.app.inject({
            method: 'POST',
            url: url('content', id),
            headers: { ...basic('mia'), ...XSRF, ...headers },
            payload,
          });
        // confluence.js (axios) labels its body-less POSTs as a form.
        noContent(await post({ 'content-type': 'application/x-www-form-urlencoded' }, ''));
        noContent(await post({ 'content-type': 'application/json' }, ''));
        noContent(await post({ 'content-type': 'application/json' }, '{"ignored":true}'));
        assertConfluenceError(
          await post({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=b'),
          400,
          /^Content-Type "application\/x-www-form-urlencoded" is not supported: this operation takes no request body$/,
        );
        assertConfluenceError(
          await post({ 'content-type': 'text/plain' }, 'hello'),
          400,
          /Content-Type "text\/plain" is not supported/,
        );
        assertConfluenceError(await post({ 'content-type': 'application/json' }, '{'), 400, /not valid JSON/);
        assert.equal(await watching('content', id), true);
      });

      test('anonymous callers are never allowed, even on a site open to them', async () => {
        const open = await startFixture(kind, { anonymousAccess: true });
        try {
          await loadWatchFixture(open);
          for (const method of ['GET', 'POST', 'DELETE'] as const) {
            const response = await open.app.inject({ method, url: url('space', 'PUB'), headers: XSRF });
            assertConfluenceError(response, 401, /anonymous callers may only read users and groups/);
          }
        } finally {
          await open.close();
        }
      });
    });

    describe('cleanup: removing a user, space or content removes its watches', () => {
      const countWatches = async (
        table: 'content_watches' | 'space_watches' | 'label_watches',
        column: string,
        value: string | number,
      ) =>
        Number(
          (
            await fx.store.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number | string>().as('n'))
              .where(column as never, '=', value as never)
              .executeTakeFirstOrThrow()
          ).n,
        );

      test('deleting a user removes all their watches; a personal space they own stays, with no owner', async () => {
        const created = await admin('POST', '/users', {
          email: `leaver-${++counter}@example.com`,
          displayName: 'Leaver',
          groups: ['confluence-users'],
        });
        const leaver = created.json().accountId as string;
        const key = `~leaver${counter}`;
        assert.equal(
          (await admin('POST', '/spaces', { key, name: 'Leaver', type: 'personal', owner: leaver })).statusCode,
          201,
        );
        const id = await freshContent();
        for (const target of [
          url('content', id, `?accountId=${leaver}`),
          url('space', key, `?accountId=${leaver}`),
          url('label', 'release', `?accountId=${leaver}`),
        ]) {
          noContent(await send('POST', target, basic('admin')));
        }
        const before = await Promise.all([
          countWatches('content_watches', 'account_id', leaver),
          countWatches('space_watches', 'account_id', leaver),
          countWatches('label_watches', 'account_id', leaver),
        ]);
        assert.deepEqual(before, [1, 1, 1]);
        assert.equal((await admin('DELETE', `/users/${encodeURIComponent(leaver)}`)).statusCode, 204);
        const after = await Promise.all([
          countWatches('content_watches', 'account_id', leaver),
          countWatches('space_watches', 'account_id', leaver),
          countWatches('label_watches', 'account_id', leaver),
        ]);
        assert.deepEqual(after, [0, 0, 0]);
        const space = await admin('GET', `/spaces/${encodeURIComponent(key)}`);
        assert.equal(space.statusCode, 200);
        assert.equal(space.json().owner, null);
        assert.equal(space.json().type, 'personal');
      });

      test('deleting content removes its watches; its labels stay, and so do theirs', async () => {
        const label = `kept-${++counter}`;
        const id = await freshContent({ labels: [label] });
        noContent(await send('POST', url('content', id)));
        noContent(await send('POST', url('label', label)));
        assert.equal((await admin('DELETE', `/content/${id}`)).statusCode, 204);
        assert.equal(await countWatches('content_watches', 'content_id', id), 0);
        assert.equal(await watching('label', label), true, 'the label and its watch stay');
        assertConfluenceError(await send('GET', url('content', id)), 403, /does not exist/);
      });

      test('deleting a space removes its watches, its content and their watches', async () => {
        const key = await freshSpace();
        const id = await freshContent({ space: key });
        noContent(await send('POST', url('space', key)));
        noContent(await send('POST', url('content', id)));
        noContent(await send('POST', url('content', id), basic('noah')));
        const spaceId = (await admin('GET', `/spaces/${key}`)).json().id as number;
        assert.equal((await admin('DELETE', `/spaces/${key}`)).statusCode, 204);
        assert.equal(await countWatches('space_watches', 'space_id', spaceId), 0);
        assert.equal(await countWatches('content_watches', 'content_id', id), 0);
        assert.equal((await admin('GET', `/content/${id}`)).statusCode, 404);
        assertConfluenceError(await send('GET', url('space', key)), 403, /does not exist/);
      });

      test("deleting an app removes its bot user's watches", async () => {
        const created = await admin('POST', '/apps', {
          key: `com.example.watcher${++counter}`,
          name: 'Watcher',
          clientKey: `watcher-${counter}`,
          sharedSecret: 'watcher-shared-secret-of-at-least-32-chars',
        });
        assert.equal(created.statusCode, 201, created.body);
        const bot = created.json().accountId as string;
        noContent(await send('POST', url('space', 'SEC', `?accountId=${encodeURIComponent(bot)}`), basic('admin')));
        assert.equal(await countWatches('space_watches', 'account_id', bot), 1);
        assert.equal((await admin('DELETE', `/apps/${created.json().key}`)).statusCode, 204);
        assert.equal(await countWatches('space_watches', 'account_id', bot), 0);
      });
    });
  });
}
