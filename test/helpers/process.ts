/**
 * The real CLI as a child process (`node --import tsx src/cli.ts …`), for
 * tests that need a process boundary: the first-start banner, exit codes,
 * a killed server. Every wait is bounded; every child is killed by whoever
 * started it (`stop()` in an `after` hook).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The project root, so `src/cli.ts` resolves wherever the tests run from. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Generous: a cold `tsx` start plus migrations, on a loaded CI machine. */
export const STARTUP_TIMEOUT_MS = 60_000;

/**
 * The parent's environment minus everything userplane reads, so a
 * developer's PORT or DATABASE_URL never leaks into a test. `extra` adds
 * exactly what a test means to set.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'PORT',
    'HOST',
    'DATABASE_URL',
    'BASE_URL',
    'SEED',
    'USERPLANE_SECRET_KEY',
    'LOG_LEVEL',
    'USERPLANE_REQUEST_TIMEOUT',
    'USERPLANE_SHUTDOWN_TIMEOUT',
    'USERPLANE_DATABASE_WAIT',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_SERVICE_NAME',
    'NODE_TEST_CONTEXT',
    'NODE_OPTIONS',
  ]) {
    delete env[name];
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** How a child runs the CLI unless told otherwise: the TypeScript sources through tsx. */
const SOURCE_CLI = ['--import', 'tsx', '--import', './test/helpers/response-check.ts', 'src/cli.ts'];

export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  readonly #child: ChildProcess;

  /** `cli`: node's arguments before the command's (default: the sources, with the same schema check as test/run.ts). */
  constructor(args: string[], env: NodeJS.ProcessEnv, cli: string[] = SOURCE_CLI) {
    this.#child = spawn(process.execPath, [...cli, ...args], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.#child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = once(this.#child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      stdout: this.stdout,
      stderr: this.stderr,
    }));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Resolves once stdout matches; rejects on exit or after `timeoutMs`, with what was printed. */
  async waitForStdout(pattern: RegExp, timeoutMs = STARTUP_TIMEOUT_MS): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.stdout.match(pattern);
      if (match) return match;
      if (!this.running)
        throw new Error(
          `the process exited before printing ${pattern}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${pattern}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Sends the signal (to this child only) and waits, bounded, for it to go. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<CliResult> {
    if (this.running) this.#child.kill(signal);
    const timer = setTimeout(() => this.running && this.#child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), cli?: string[]): CliProcess {
  return new CliProcess(args, env, cli);
}

/** Runs a command that should exit by itself; kills it and fails if it does not within `timeoutMs`. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  timeoutMs = STARTUP_TIMEOUT_MS,
): Promise<CliResult> {
  const child = new CliProcess(args, env);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.stop('SIGKILL');
  }, timeoutMs);
  try {
    const result = await child.exited;
    if (timedOut)
      throw new Error(
        `userplane ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
      );
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** The first-start banner's fields (server.ts `firstStartBanner`). */
export interface Banner {
  email: string;
  accountId: string;
  apiToken: string;
  cloudId: string;
}

export const BANNER_PATTERN = /email:\s+(\S+)\n\s+accountId:\s+(\S+)\n\s+API token:\s+(\S+)\n\s+cloudId:\s+(\S+)\n/;

export function parseBanner(stdout: string): Banner | undefined {
  const match = stdout.match(BANNER_PATTERN);
  return match ? { email: match[1]!, accountId: match[2]!, apiToken: match[3]!, cloudId: match[4]! } : undefined;
}

/** Exit 0, nothing on stderr, and the JSON it printed (or its text). */
export function ok(result: CliResult): any {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  assert.equal(result.stderr, '');
  return result.stdout.trim().startsWith('{') ? JSON.parse(result.stdout) : result.stdout;
}

/** The exit code, nothing on stdout, a message matching `pattern`, and no stack trace. */
export function failed(result: CliResult, code: 1 | 2, pattern: RegExp): void {
  assert.equal(
    result.code,
    code,
    `expected exit ${code}, got ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
  );
  assert.equal(result.stdout, '');
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

export { basicAuth } from './credentials.ts';
