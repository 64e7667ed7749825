/**
 * `userplane sites …`, `--site NAME` on the administration commands, and
 * `userplane operator-token rotate` (docs/behaviour.md §10), in-process on an
 * embedded SQLite file, with what they made checked through the server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { appOn, cli as run, serveInProcess } from './helpers/cli.ts';
import { basicAuth, bearer } from './helpers/credentials.ts';
import { failed, ok } from './helpers/process.ts';

const freshDatabase = (label: string) => `sqlite:${join(mkdtempSync(join(tmpdir(), `userplane-${label}-`)), 'u.db')}`;

test('sites create|list|delete, and --site on the administration commands', async () => {
  const database = freshDatabase('cli-sites');
  const cli = (...args: string[]) => run([...args, '--database', database]);
  const seed = join(mkdtempSync(join(tmpdir(), 'userplane-cli-sites-seed-')), 'seed.json');
  writeFileSync(
    seed,
    JSON.stringify({
      users: [
        { email: 'mia@example.com', displayName: 'Mia', groups: ['confluence-users'], apiTokens: ['mia-token-00001'] },
      ],
    }),
  );

  const created = ok(await cli('sites', 'create', 'acme', '--seed', seed)) as string;
  assert.match(created, /^name: acme$/m);
  assert.match(created, /^baseUrl: http:\/\/127\.0\.0\.1:8080\/sites\/acme$/m);
  const token = /^admin API token: (\S+)$/m.exec(created)?.[1];
  const email = /^admin email: (\S+)$/m.exec(created)?.[1];
  assert.ok(token && email, 'the new site has an admin, shown once');

  const listed = ok(await cli('sites', 'list')) as string;
  assert.match(listed, /^default\t/m);
  assert.match(listed, /^acme\t[0-9a-f-]{36}\t/m);

  // --site: the administration commands act on that site only.
  const users = ok(await cli('users', 'list', '--site', 'acme', '--json'));
  assert.deepEqual(users.results.map((u: { email: string }) => u.email).sort(), [email, 'mia@example.com'].sort());
  const defaults = ok(await cli('users', 'list', '--json'));
  assert.ok(!defaults.results.some((u: { email: string }) => u.email === 'mia@example.com'));
  failed(await cli('users', 'list', '--site', 'nowhere'), 1, /no site named "nowhere"/);
  failed(await cli('sites', 'create', 'acme'), 1, /A site named "acme" exists/);
  failed(await cli('sites', 'delete', 'default'), 1, /default site/);

  const server = await appOn(database);
  try {
    const current = await server.app.inject({
      method: 'GET',
      url: '/sites/acme/wiki/rest/api/user/current',
      headers: basicAuth('mia@example.com', 'mia-token-00001'),
    });
    assert.equal(current.statusCode, 200, current.body);
  } finally {
    await server.close();
  }

  assert.match(ok(await cli('sites', 'delete', 'acme')) as string, /deleted site acme/);
  assert.doesNotMatch(ok(await cli('sites', 'list')) as string, /^acme\t/m);
});

test('operator-token rotate: a new token works and the old one ends; refused while the token is given', async () => {
  const database = freshDatabase('cli-operator');
  const first = await serveInProcess(['--database', database]);
  const old = /operator token: (\S+)/.exec(first.stdout)?.[1];
  assert.ok(old, `the first start prints the operator token:\n${first.stdout}`);
  await first.server?.close();

  const rotated = (ok(await run(['operator-token', 'rotate', '--database', database])) as string).trim();
  assert.match(rotated, /^upo_[A-Za-z0-9_-]{43}$/);
  const again = await serveInProcess(['--database', database]);
  assert.doesNotMatch(again.stdout, /operator token/, 'a token is printed only when it is made');
  try {
    const url = `${again.server!.url}/admin/api/sites`;
    assert.equal((await fetch(url, { headers: bearer(rotated) })).status, 200);
    assert.equal((await fetch(url, { headers: bearer(old) })).status, 401);
  } finally {
    await again.server?.close();
  }
  failed(
    await run(['operator-token', 'rotate', '--database', database], {
      USERPLANE_OPERATOR_TOKEN: 'a-given-operator-token-of-32-characters',
    }),
    2,
    /change that value instead/,
  );
});
