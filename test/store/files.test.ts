/**
 * Files the embedded store creates are for the server's user only
 * (docs/decisions.md, "Secrets"): the data folder 0700, the database and
 * its WAL 0600, the generated secret key 0600.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openRuntime } from '../../src/runtime.ts';
import { ensureDefaultSite } from '../../src/store/site.ts';
import { insertUser } from '../../src/store/users.ts';
import { DEFAULT_SITE, plainUser } from '../helpers/stores.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('files of the embedded store', () => {
  test('a new data folder is 0700; the database, its WAL and the secret key 0600', async () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'userplane-files-')), 'data', 'nested');
    const path = join(folder, 'userplane.db');
    const { store } = await openRuntime({ database: `sqlite:${path}` });
    try {
      await ensureDefaultSite(store.db);
      await insertUser(store.db, DEFAULT_SITE, plainUser('712020:files', 'Files'));
      assert.ok(existsSync(`${path}-wal`), 'the WAL exists while the store is open');
      assert.equal(mode(folder).toString(8), '700');
      assert.equal(mode(join(folder, '..')).toString(8), '700', 'every folder it creates');
      assert.equal(mode(path).toString(8), '600');
      assert.equal(mode(`${path}-wal`).toString(8), '600');
      assert.equal(mode(`${path}.secret-key`).toString(8), '600');
    } finally {
      await store.close();
    }
  });
});
