/**
 * `userplane spaces …` and `userplane content …`, in-process with captured
 * output (docs/behaviour.md §9), on an embedded SQLite file no server has started on,
 * then the app on the same file honours what they made: a watch on the
 * content. Usage errors exit 2 naming the option, failures 1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { appOn, cli as run } from './helpers/cli.ts';
import { basicAuth, failed, ok } from './helpers/process.ts';

describe('userplane spaces and content commands', () => {
  test('spaces and content on a file no server has started on; the server then serves watches on them', async () => {
    const database = `sqlite:${join(mkdtempSync(join(tmpdir(), 'userplane-cli-spaces-')), 'userplane.db')}`;
    const cli = (...args: string[]) => run([...args, '--database', database]);

    ok(
      await cli(
        'users',
        'add',
        '--email',
        'boss@example.com',
        '--display-name',
        'Boss',
        '--group',
        'confluence-admins',
      ),
    );
    ok(
      await cli(
        'users',
        'add',
        '--email',
        'mia@example.com',
        '--display-name',
        'Mia',
        '--account-id',
        '712020:mia',
        '--group',
        'confluence-users',
      ),
    );
    const token = ok(await cli('tokens', 'create', '--user', 'mia@example.com', '--json')).token as string;

    const eng = ok(
      await cli(
        'spaces',
        'add',
        '--key',
        'ENG',
        '--name',
        'Engineering',
        '--view-groups',
        'confluence-users',
        '--json',
      ),
    );
    assert.deepEqual(
      { ...eng, id: 0 },
      {
        id: 0,
        key: 'ENG',
        name: 'Engineering',
        type: 'global',
        owner: null,
        view: { groups: ['confluence-users'], users: [], anonymous: false },
      },
    );
    const personal = ok(
      await cli(
        'spaces',
        'add',
        '--key',
        '~mia',
        '--name',
        'Mia',
        '--type',
        'personal',
        '--owner',
        'mia@example.com',
        '--json',
      ),
    );
    assert.deepEqual([personal.type, personal.owner], ['personal', '712020:mia']);
    assert.match(
      ok(await cli('spaces', 'add', '--key', 'PUB', '--name', 'Public', '--view-anonymous', 'true')),
      /^created space PUB\n/,
    );
    const listed = ok(await cli('spaces', 'list'));
    assert.match(listed, /^KEY\s+TYPE\s+OWNER\s+VIEWERS\s+NAME\n/);
    assert.match(listed, /^ENG\s+global\s+-\s+confluence-users\s+Engineering$/m);
    assert.match(listed, /^PUB\s+global\s+-\s+anyone\s+Public$/m);
    assert.match(listed, /^~mia\s+personal\s+712020:mia\s+-\s+Mia$/m);
    assert.match(ok(await cli('spaces', 'show', 'ENG')), /^view groups:\s+confluence-users$/m);
    const renamed = ok(await cli('spaces', 'update', 'ENG', '--name', 'Eng', '--view-users', '712020:mia', '--json'));
    assert.deepEqual(
      [renamed.name, renamed.view],
      ['Eng', { groups: ['confluence-users'], users: ['712020:mia'], anonymous: false }],
    );

    const page = ok(
      await cli(
        'content',
        'add',
        '--id',
        '1001',
        '--space',
        'ENG',
        '--title',
        'Plan',
        '--labels',
        'Release,plan',
        '--restrict-users',
        '712020:mia',
        '--json',
      ),
    );
    assert.deepEqual(page, {
      id: '1001',
      type: 'page',
      title: 'Plan',
      space: 'ENG',
      labels: ['plan', 'release'],
      restricted: true,
      restrictions: { users: ['712020:mia'], groups: [] },
    });
    assert.match(
      ok(await cli('content', 'add', '--space', 'PUB', '--title', 'News', '--type', 'blogpost')),
      /^created content 1002\n/,
    );
    assert.match(
      ok(await cli('content', 'list', '--space', 'ENG')),
      /^1001\s+page\s+ENG\s+restricted\s+plan,release\s+Plan$/m,
    );
    const lifted = ok(await cli('content', 'update', '1001', '--restrict-users', '', '--labels', 'release', '--json'));
    assert.deepEqual([lifted.restricted, lifted.labels], [false, ['release']]);
    assert.equal(ok(await cli('content', 'delete', '1002')), 'deleted content 1002\n');
    assert.equal(ok(await cli('spaces', 'delete', 'PUB')), 'deleted space PUB\n');

    // Usage errors (exit 2) name the option; failures (exit 1) say what is wrong.
    failed(
      await cli('spaces', 'add', '--key', 'X', '--name', 'X', '--view-anonymous', 'maybe'),
      2,
      /--view-anonymous: must be a boolean/,
    );
    failed(await cli('spaces', 'add', '--name', 'X'), 2, /--key is required/);
    failed(await cli('spaces', 'add', '--key', 'A-B', '--name', 'X'), 2, /key "A-B" is not a valid space key/);
    failed(
      await cli('spaces', 'add', '--key', 'ENG', '--name', 'Again'),
      1,
      /^userplane: spaces add: A space with key ENG already exists\n$/,
    );
    failed(await cli('spaces', 'show', 'NOPE'), 1, /No space with key NOPE/);
    failed(await cli('content', 'add', '--space', 'NOPE', '--title', 'x'), 2, /space: no space with key NOPE/);
    failed(
      await cli('content', 'add', '--space', 'ENG', '--title', 'x', '--labels', 'a b'),
      2,
      /labels\[0\] "a b" is not a valid label name/,
    );
    failed(await cli('content', 'update', '1001', '--colour', 'blue'), 2, /Unknown option '--colour'/);
    failed(await cli('content', 'show', '9999'), 1, /No content with id 9999/);

    const server = await appOn(database);
    try {
      const mia = basicAuth('mia@example.com', token);
      const get = async (url: string) => (await server.app.inject({ method: 'GET', url, headers: mia })).json();
      const watch = await server.app.inject({
        method: 'POST',
        url: '/wiki/rest/api/user/watch/content/1001',
        headers: { ...mia, 'x-atlassian-token': 'no-check' },
      });
      assert.equal(watch.statusCode, 204);
      assert.deepEqual(await get('/wiki/rest/api/user/watch/label/RELEASE'), { watching: false });
      assert.deepEqual(await get('/wiki/rest/api/user/watch/content/1001'), { watching: true });
      const expanded = (await get('/wiki/rest/api/user?accountId=712020:mia&expand=personalSpace')) as {
        personalSpace?: { key: string };
      };
      assert.equal(expanded.personalSpace?.key, '~mia');
    } finally {
      await server.close();
    }
  });
});
