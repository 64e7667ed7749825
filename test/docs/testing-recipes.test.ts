/**
 * docs/testing.md's recipes are tests (docs/behaviour.md §11): every fenced
 * block whose info string carries `recipe` is written, at its `path=`, into a
 * fresh project, and the node:test, Vitest and Jest recipes run there with
 * their real runners against the compiled package, as a user's project
 * would run them. A block marked `recipe` alone belongs to every project;
 * `recipe=node-test|vitest|jest` to that runner's only.
 *
 * The package is compiled here with the project's tsconfig.build.json into a
 * temporary `userplane` directory (package.json, dist/, node_modules linked
 * to this repository's), as test/build.test.ts does: the repository's own
 * dist/ is neither needed nor touched, so no other test races with this one.
 * The recipe project's node_modules links `userplane` to it, and the
 * runners (vitest, @jest/globals) to this repository's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, PROJECT_ROOT } from '../helpers/process.ts';

const run = promisify(execFile);
const RUN_TIMEOUT_MS = 120_000;
const RUNNERS = ['node-test', 'vitest', 'jest'] as const;
type Runner = (typeof RUNNERS)[number];

interface Recipe {
  runner: Runner | null;
  path: string;
  code: string;
}

/** The fenced blocks of docs/testing.md marked `recipe`: ```js recipe=vitest path=test/x.test.js */
function recipes(markdown: string): Recipe[] {
  const found: Recipe[] = [];
  for (const match of markdown.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const info = match[2]!;
    const marker = /(?:^|\s)recipe(?:=([\w-]+))?(?=\s|$)/.exec(info);
    if (marker === null) continue;
    const path = /(?:^|\s)path=(\S+)/.exec(info)?.[1];
    assert.ok(path, `a recipe block names its file: ${match[1]}${info}`);
    const runner = marker[1] ?? null;
    assert.ok(runner === null || (RUNNERS as readonly string[]).includes(runner), `a known runner: ${runner}`);
    found.push({ runner: runner as Runner | null, path, code: match[3]! });
  }
  return found;
}

const ALL = recipes(readFileSync(join(PROJECT_ROOT, 'docs', 'testing.md'), 'utf8'));
const root = mkdtempSync(join(tmpdir(), 'userplane-recipes-'));
const packageDir = join(root, 'userplane');

/** A user's project for one runner: its recipe files, `userplane` and the runners in node_modules. */
function project(runner: Runner): string {
  const dir = join(root, runner);
  const files = ALL.filter((recipe) => recipe.runner === null || recipe.runner === runner);
  mkdirSync(dir);
  if (!files.some((recipe) => recipe.path === 'package.json'))
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const recipe of files) {
    mkdirSync(dirname(join(dir, recipe.path)), { recursive: true });
    writeFileSync(join(dir, recipe.path), recipe.code);
  }
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@jest'), { recursive: true });
  symlinkSync(packageDir, join(modules, 'userplane'), 'dir');
  symlinkSync(join(PROJECT_ROOT, 'node_modules', 'vitest'), join(modules, 'vitest'), 'dir');
  symlinkSync(join(PROJECT_ROOT, 'node_modules', '@jest', 'globals'), join(modules, '@jest', 'globals'), 'dir');
  symlinkSync(join(PROJECT_ROOT, 'node_modules', 'yaml'), join(modules, 'yaml'), 'dir');
  return dir;
}

/** How many tests the runner's recipes declare (top-level `test(` calls): the run must pass exactly these. */
function testCount(runner: Runner): number {
  return ALL.filter((recipe) => recipe.runner === runner)
    .map((recipe) => recipe.code.match(/^test\(/gm)?.length ?? 0)
    .reduce((sum, count) => sum + count, 0);
}

/** Runs a runner's command in its project; the output of both streams, for the assertions and a failure's message. */
async function runIn(dir: string, command: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout, stderr } = await run(process.execPath, command, {
      cwd: dir,
      env: cleanEnv({ CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', ...env }),
      timeout: RUN_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    return `${stdout}\n${stderr}`;
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    assert.fail(`${command.join(' ')} exited ${String(failed.code)}\n${failed.stdout}\n${failed.stderr}`);
  }
}

describe('docs/testing.md recipes', { concurrency: 3 }, () => {
  before(async () => {
    mkdirSync(packageDir);
    copyFileSync(join(PROJECT_ROOT, 'package.json'), join(packageDir, 'package.json'));
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(packageDir, 'node_modules'), 'dir');
    const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck', '--outDir', join(packageDir, 'dist')], {
      cwd: PROJECT_ROOT,
    });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('the document marks a shared code block and a test for each runner', () => {
    assert.ok(ALL.some((recipe) => recipe.runner === null && recipe.path.startsWith('src/')));
    for (const runner of RUNNERS) assert.ok(testCount(runner) > 0, `a ${runner} recipe with tests`);
  });

  test('node:test: node --test runs the recipe and every test passes', async () => {
    const dir = project('node-test');
    const output = await runIn(dir, ['--test', '--test-reporter=tap']);
    assert.match(output, new RegExp(`^# pass ${testCount('node-test')}$`, 'm'), output);
    assert.match(output, /^# fail 0$/m, output);
  });

  test('Vitest: vitest run runs the recipe and every test passes', async () => {
    const dir = project('vitest');
    const vitest = join(PROJECT_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const output = await runIn(dir, [vitest, 'run', '--root', dir]);
    const count = testCount('vitest');
    assert.match(output, new RegExp(`Tests\\s+${count} passed \\(${count}\\)`), output);
    assert.doesNotMatch(output, /\d+ failed/, output);
  });

  test('Jest: jest runs the recipe (ES modules) and every test passes', async () => {
    const dir = project('jest');
    const jest = join(PROJECT_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    const output = await runIn(dir, [jest, '--rootDir', dir, '--ci'], {
      NODE_OPTIONS: '--experimental-vm-modules --no-warnings',
    });
    const count = testCount('jest');
    assert.match(output, new RegExp(`Tests:\\s+${count} passed, ${count} total`), output);
    assert.doesNotMatch(output, /\d+ failed/, output);
  });
});
