/**
 * Which database errors mean "cannot serve right now" (store/unavailable.ts,
 * docs/operations.md "Losing the database"): SQLite's, from real
 * better-sqlite3 connections, by code; and the 503 they become.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { databaseUnavailable } from '../../src/domain/unavailable.ts';
import { isDatabaseUnavailable, isDatabaseUnreachable } from '../../src/store/unavailable.ts';

type SqliteError = InstanceType<typeof SQLite.SqliteError>;

function sqliteFailure(run: () => unknown): SqliteError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof SQLite.SqliteError, `expected a SqliteError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the statement to fail');
}

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'userplane-unavailable-')), 'test.db');

describe('SQLite errors that mean the database cannot serve right now', () => {
  test('SQLITE_BUSY: another connection holds the file exclusively', () => {
    const file = freshFile();
    const holder = new SQLite(file);
    holder.exec('create table t (x integer)');
    holder.exec('BEGIN EXCLUSIVE');
    const waiting = new SQLite(file, { timeout: 0 });
    try {
      const error = sqliteFailure(() => waiting.prepare('select x from t').all());
      assert.equal(error.code, 'SQLITE_BUSY');
      assert.equal(isDatabaseUnavailable(error), true);
      // Start-up does not wait for it: another process holds the file (server.ts).
      assert.equal(isDatabaseUnreachable(error), false);
      // Wrapped, as a migration or a service may wrap it, it still counts.
      assert.equal(isDatabaseUnavailable(new Error('migration failed', { cause: error })), true);
      const answer = databaseUnavailable(error);
      assert.equal(answer?.code, 'unavailable');
      assert.deepEqual(answer?.headers, { 'Retry-After': '1' });
    } finally {
      waiting.close();
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  test('SQLITE_FULL: the database may not grow', () => {
    const database = new SQLite(freshFile());
    try {
      database.exec('create table t (x text)');
      database.pragma(`max_page_count = ${database.pragma('page_count', { simple: true })}`);
      const error = sqliteFailure(() => database.prepare('insert into t (x) values (?)').run('x'.repeat(100_000)));
      assert.equal(error.code, 'SQLITE_FULL');
      assert.equal(isDatabaseUnavailable(error), true);
    } finally {
      database.close();
    }
  });

  test('I/O errors and locked tables count, by code; a constraint, a syntax error or a corrupt file does not', () => {
    for (const code of [
      'SQLITE_IOERR',
      'SQLITE_IOERR_WRITE',
      'SQLITE_IOERR_FSYNC',
      'SQLITE_LOCKED',
      'SQLITE_BUSY_SNAPSHOT',
    ]) {
      assert.equal(isDatabaseUnavailable(new SQLite.SqliteError('disk I/O error', code)), true, code);
    }
    for (const code of [
      'SQLITE_CONSTRAINT_UNIQUE',
      'SQLITE_ERROR',
      'SQLITE_CORRUPT',
      'SQLITE_READONLY',
      'SQLITE_MISMATCH',
    ]) {
      assert.equal(isDatabaseUnavailable(new SQLite.SqliteError('no', code)), false, code);
    }
    const database = new SQLite(':memory:');
    try {
      database.exec('create table t (x integer primary key)');
      database.exec('insert into t values (1)');
      const duplicate = sqliteFailure(() => database.exec('insert into t values (1)'));
      assert.equal(isDatabaseUnavailable(duplicate), false);
      const syntax = sqliteFailure(() => database.exec('select from'));
      assert.equal(isDatabaseUnavailable(syntax), false);
      // The same code on an error of another class is not SQLite's word.
      assert.equal(isDatabaseUnavailable(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })), false);
    } finally {
      database.close();
    }
  });
});
