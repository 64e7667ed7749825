/**
 * Production runs the compiled JavaScript (`npm run build` → dist/, which
 * bin/userplane.js and `npm start` run), while every other test runs the
 * TypeScript sources through tsx. This one builds with the project's own
 * tsconfig.build.json into a temporary directory and starts the result, so
 * a source the compiler cannot emit, or an import it leaves pointing at a
 * `.ts` file, fails here rather than in production.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { basicAuth } from './helpers/credentials.ts';
import { type CliProcess, cleanEnv, PROJECT_ROOT, parseBanner, startCli } from './helpers/process.ts';

const LISTENING = /userplane listening on (http:\/\/[^"\s]+)/;

test('the compiled server starts from dist/, prints the first-start banner and answers', async () => {
  // dist/ needs the package's package.json (ESM, and the version the OpenAPI document reads) and node_modules beside it.
  const root = mkdtempSync(join(tmpdir(), 'userplane-build-test-'));
  copyFileSync(join(PROJECT_ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  let server: CliProcess | undefined;
  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  // `npm test` type-checks already (tsc --noEmit); here only the emit is under test.
  const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const outDir = join(root, 'dist');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck', '--outDir', outDir], {
    cwd: PROJECT_ROOT,
  });

  server = startCli(
    ['serve', '--port', '0', '--host', '127.0.0.1', '--database', `sqlite:${join(root, 'userplane.db')}`],
    cleanEnv(),
    [join(root, 'dist', 'cli.js')],
  );
  const url = (await server.waitForStdout(LISTENING))[1]!;
  const banner = parseBanner(server.stdout);
  assert.ok(banner, `a banner in:\n${server.stdout}`);

  const health = await fetch(`${url}/healthz`);
  assert.equal(health.status, 200);
  await health.arrayBuffer();
  // The hot path too: the banner's token reads the admin's (empty) property list.
  const properties = await fetch(`${url}/wiki/rest/api/user/${encodeURIComponent(banner.accountId)}/property`, {
    headers: basicAuth(banner.email, banner.apiToken),
  });
  assert.equal(properties.status, 200);
  assert.deepEqual(((await properties.json()) as { results: unknown[] }).results, []);

  const stopped = await server.stop('SIGTERM');
  assert.equal(stopped.code, 0, `exit ${stopped.code}\nstderr:\n${stopped.stderr}`);
});
