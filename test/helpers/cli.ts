/**
 * The CLI in-process: `runCli` (src/cli/main.ts) with captured output and an
 * environment of the test's own, so a developer's PORT or DATABASE_URL never
 * leaks in. What it prints is asserted as a child process's would be
 * (`ok`, `failed` in test/helpers/process.ts).
 */
import { buildApp } from '../../src/app.ts';
import { runCli } from '../../src/cli/main.ts';
import { openRuntime } from '../../src/runtime.ts';
import type { RunningServer } from '../../src/server.ts';
import type { CliResult } from './process.ts';

export type Env = Record<string, string | undefined>;

/** `userplane …args`, in this process; `env` is all the environment it sees. */
export async function cli(args: string[], env: Env = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, signal: null, stdout, stderr };
}

/** `userplane serve …args` in this process: what it printed, and the server, which the caller closes. */
export async function serveInProcess(
  args: string[],
  env: Env = {},
): Promise<CliResult & { server: RunningServer | undefined }> {
  let server: RunningServer | undefined;
  let stdout = '';
  let stderr = '';
  const code = await runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    serving: (running) => {
      server = running;
    },
  });
  return { code, signal: null, stdout, stderr, server };
}

/** The app on a database the CLI made, as `serve` would build it (the same secret key file); call `close`. */
export async function appOn(database: string) {
  const { store, secrets } = await openRuntime({ database });
  const app = await buildApp({ db: store.db, secrets, logLevel: 'silent' });
  return {
    app,
    async close() {
      await app.close();
      await store.close();
    },
  };
}
