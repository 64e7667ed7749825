/**
 * `userplane export` and `userplane import` (docs/behaviour.md §11), in-process
 * on an embedded SQLite file: an export of one site imported into another
 * reproduces it; YAML and JSON; --site; errors that name paths and apply nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { SeedFile } from '../src/schemas/seed.ts';
import { cli as run } from './helpers/cli.ts';
import { failed, ok } from './helpers/process.ts';

const folder = () => mkdtempSync(join(tmpdir(), 'userplane-cli-export-'));

/** The document without what an import never carries over: the site's name, cloudId and base URL. */
function withoutIdentity(document: SeedFile): SeedFile {
  const { name: _name, cloudId: _cloudId, baseUrl: _baseUrl, ...settings } = document.site ?? {};
  return { ...document, site: settings };
}

test('export --site in JSON and YAML; import FILE --site reproduces the site elsewhere', async () => {
  const dir = folder();
  const database = `sqlite:${join(dir, 'u.db')}`;
  const cli = (...args: string[]) => run([...args, '--database', database]);
  const seed = join(dir, 'seed.yaml');
  writeFileSync(
    seed,
    `site: { adminGroups: [admins], canUseGroups: [users, admins] }
groups: [users, admins]
users:
  - { accountId: "712020:ada", email: ada@example.com, displayName: Ada, groups: [admins, users], apiTokens: [ada-token-0001] }
  - { accountId: "712020:bo", email: bo@example.com, displayName: Bo, groups: [users], username: bo }
spaces:
  - { key: ENG, name: Engineering, view: { groups: [users] } }
content:
  - { id: "7", space: ENG, title: Seven, labels: [release] }
apps:
  - { key: com.example.notes, name: Notes, clientKey: notes-client, sharedSecret: notes-shared-secret-of-at-least-32-chars }
watches:
  - { user: "712020:bo", content: "7" }
properties:
  - { product: confluence, app: com.example.notes, user: "712020:bo", key: theme, value: { dark: true } }
`,
  );
  ok(await cli('sites', 'create', 'acme', '--seed', seed));
  ok(await cli('sites', 'create', 'copy'));

  const json = ok(await cli('export', '--site', 'acme')) as SeedFile;
  assert.equal(json.site?.name, 'acme');
  assert.deepEqual(
    json.users?.map((u) => u.accountId),
    ['712020:ada', '712020:bo'],
  );
  assert.deepEqual(json.omitted, ['apps[].clientSecret', 'apps[].sharedSecret', 'users[].apiTokens']);
  const yamlText = ok(await cli('export', '--site', 'acme', '--format', 'yaml')) as string;
  assert.match(yamlText, /^site:\n/);
  assert.deepEqual(parseYaml(yamlText), json, 'YAML and JSON say the same');

  const file = join(dir, 'acme.yaml');
  writeFileSync(file, yamlText);
  const imported = ok(await cli('import', file, '--site', 'copy')) as string;
  assert.match(imported, /^imported .*acme\.yaml into site copy$/m);
  assert.match(imported, /^users: 2 created, 0 updated$/m);
  assert.match(imported, /^properties: 1 created, 0 updated$/m);
  assert.match(imported, /^watches: 1 created, 0 updated$/m);

  // The copy holds what it was made with besides (its first-start admin, in the default
  // groups): an import never deletes. Everything else is the same.
  const copied = ok(await cli('export', '--site', 'copy')) as SeedFile;
  assert.equal(copied.site?.name, 'copy');
  const firstStartAdmin = copied.users?.find((u) => u.email.endsWith('@userplane.local'));
  assert.ok(firstStartAdmin, 'the new site made its admin at creation');
  const copiedWithoutAdmin = {
    ...copied,
    users: copied.users?.filter((u) => u !== firstStartAdmin),
  };
  const expected = { ...json, groups: ['admins', 'confluence-admins', 'confluence-users', 'users'] };
  assert.deepEqual(withoutIdentity(copiedWithoutAdmin), withoutIdentity(expected));

  // Without --site: the default site, untouched by all of this.
  const defaults = ok(await cli('export')) as SeedFile;
  assert.equal(defaults.site?.name, 'default');
  assert.ok(!defaults.users?.some((u) => u.email === 'ada@example.com'));
});

test('import errors: a bad document names its paths and applies nothing; usage errors exit 2', async () => {
  const dir = folder();
  const database = `sqlite:${join(dir, 'u.db')}`;
  const cli = (...args: string[]) => run([...args, '--database', database]);
  const before = ok(await cli('export')) as SeedFile;

  const bad = join(dir, 'bad.json');
  writeFileSync(
    bad,
    JSON.stringify({
      users: [
        { email: 'fine@example.com', displayName: 'Fine' },
        { email: 'lost@example.com', displayName: 'Lost', groups: ['nowhere'] },
      ],
    }),
  );
  failed(await cli('import', bad), 2, /users\[1\]\.groups\[0\]: group "nowhere" is not defined in groups/);
  assert.deepEqual(ok(await cli('export')), before, 'nothing was applied');

  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'users: [\n');
  failed(await cli('import', broken), 2, /not valid YAML/);
  failed(await cli('import'), 2, /name the file to import/);
  failed(await cli('import', join(dir, 'missing.yaml')), 2, /cannot read .*missing\.yaml: ENOENT/);
  failed(await cli('export', '--format', 'xml'), 2, /--format is yaml or json/);
  failed(await cli('export', '--site', 'nowhere'), 1, /no site named "nowhere"/);
});
