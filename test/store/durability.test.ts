/**
 * SQLite durability (docs/behaviour.md §7, store/sqlite.ts): every write the server has
 * acknowledged survives the process being killed outright. The server runs
 * as a real child process; SIGKILL gives it no chance to flush or close.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { openStore } from '../../src/store/database.ts';
import { findProperty, type Product } from '../../src/store/properties.ts';
import { basicAuth } from '../helpers/credentials.ts';
import { type CliProcess, startCli } from '../helpers/process.ts';
import { DEFAULT_SITE } from '../helpers/stores.ts';

const MIA = '712020:mia';
const auth = basicAuth('mia@example.com', 'mia-durable-token');
const json = { ...auth, 'content-type': 'application/json' };

describe('SQLite durability', () => {
  const running: CliProcess[] = [];
  after(async () => {
    await Promise.all(running.map((child) => child.stop('SIGKILL')));
  });

  test('every acknowledged write survives a SIGKILL, and the database is in WAL mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'userplane-durability-'));
    const path = join(dir, 'userplane.db');
    const seed = join(dir, 'seed.yaml');
    writeFileSync(
      seed,
      `
groups: [confluence-users, confluence-admins]
users:
  - { accountId: "${MIA}", email: mia@example.com, displayName: Mia, groups: [confluence-users], apiTokens: [mia-durable-token] }
`,
    );

    const server = startCli(['serve', '--port', '0', '--database', `sqlite:${path}`, '--seed', seed]);
    running.push(server);
    const url = (await server.waitForStdout(/userplane listening on (http:\/\/[^"\s]+)/))[1]!;
    const property = (key: string) => `${url}/wiki/rest/api/user/${encodeURIComponent(MIA)}/property/${key}`;

    /** What must be in the database afterwards: key → [value, version], or null for deleted. */
    const expected = new Map<string, [unknown, number] | null>();

    // One at a time …
    for (let i = 0; i < 10; i++) {
      const value = { i, text: `value ${i}` };
      const response = await fetch(property(`seq-${i}`), {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ value }),
      });
      assert.equal(response.status, 201);
      expected.set(`seq-${i}`, [value, 1]);
    }
    // … side by side …
    const together = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const value = { together: i };
        const response = await fetch(property(`par-${i}`), {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ value }),
        });
        return { key: `par-${i}`, value, status: response.status };
      }),
    );
    for (const { key, value, status } of together) {
      assert.equal(status, 201);
      expected.set(key, [value, 1]);
    }
    // … updates and deletes …
    for (let i = 0; i < 10; i += 2) {
      const value = { i, updated: true };
      const response = await fetch(property(`seq-${i}`), {
        method: 'PUT',
        headers: json,
        body: JSON.stringify({ value }),
      });
      assert.equal(response.status, 204);
      expected.set(`seq-${i}`, [value, 2]);
    }
    for (let i = 1; i < 10; i += 4) {
      const response = await fetch(property(`seq-${i}`), { method: 'DELETE', headers: auth });
      assert.equal(response.status, 204);
      expected.set(`seq-${i}`, null);
    }
    // … and the last acknowledgement right before the kill.
    const last = await fetch(property('last'), {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ value: { last: true } }),
    });
    assert.equal(last.status, 201);
    expected.set('last', [{ last: true }, 1]);

    const killed = await server.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL', 'the server was killed, not stopped gracefully');

    // WAL mode is a property of the file: a plain connection sees it, not only ours.
    const raw = new SQLite(path);
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      raw.close();
    }

    const store = await openStore({ dialect: 'sqlite', path });
    try {
      const at = (key: string, product: Product = 'confluence') =>
        findProperty(store.db, { siteId: DEFAULT_SITE, product, namespace: '', accountId: MIA, key });
      for (const [key, want] of expected) {
        const found = await at(key);
        if (want === null) {
          assert.equal(found, undefined, `${key} stays deleted`);
        } else {
          assert.ok(found, `${key} survived`);
          assert.deepEqual([JSON.parse(found.valueJson), found.version], want, key);
        }
      }
      const count = await store.db
        .selectFrom('properties')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', MIA)
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), [...expected.values()].filter((v) => v !== null).length);
    } finally {
      await store.close();
    }
  });
});
