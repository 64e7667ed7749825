/**
 * The generated table of docs/compatibility.md: endpoint → the client
 * methods that called it in the compat suites → the statuses the test
 * suites produced. Rendered by test/run.ts after a full run from the
 * responses test/helpers/response-check.ts recorded; never edited by hand.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalPath } from '../../src/http/scope-table.ts';
import type { ResponseRecord } from './response-check.ts';

export const DOC_PATH = 'docs/compatibility.md';
export const DOC_FILE = fileURLToPath(new URL(`../../${DOC_PATH}`, import.meta.url));
export const BEGIN_MARKER = '<!-- generated:compat-table -->';
export const END_MARKER = '<!-- /generated -->';

/** Routes tests add to a built app to provoke errors (test/http/errors.test.ts), not served ones. */
const TEST_ONLY = /\/test-only(\/|$)/;

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Every recorded response in a report directory (one file per test process). */
export function readRecords(dir: string): ResponseRecord[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith('responses-') && name.endsWith('.jsonl'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as ResponseRecord);
}

interface Row {
  path: string;
  /** A served method, or the methods a path answered 405 to, joined. */
  method: string;
  unserved: Set<string>;
  statuses: Set<number>;
  clients: Map<string, Set<number>>;
}

const byNumber = (a: number, b: number) => a - b;
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const methodRank = (method: string) =>
  METHOD_ORDER.includes(method) ? METHOD_ORDER.indexOf(method) : METHOD_ORDER.length;

export function renderTable(records: ResponseRecord[]): string {
  const rows = new Map<string, Row>();
  for (const record of records) {
    const path = canonicalPath(record.route);
    if (TEST_ONLY.test(record.route)) continue;
    // A method a path does not serve (the not-found handler's 405): one row per path gathers them.
    const unserved = record.unrouted === true;
    const method = unserved ? 'other' : record.method;
    const key = `${path} ${method}`;
    let row = rows.get(key);
    if (!row) {
      row = { path, method, unserved: new Set(), statuses: new Set(), clients: new Map() };
      rows.set(key, row);
    }
    if (unserved) row.unserved.add(record.method);
    row.statuses.add(record.status);
    if (record.client) {
      const statuses = row.clients.get(record.client) ?? new Set<number>();
      statuses.add(record.status);
      row.clients.set(record.client, statuses);
    }
  }
  const sorted = [...rows.values()].sort(
    (a, b) =>
      byCodePoint(a.path, b.path) || methodRank(a.method) - methodRank(b.method) || byCodePoint(a.method, b.method),
  );
  const lines = [
    '| method | endpoint | client methods (statuses through them) | statuses tested |',
    '|---|---|---|---|',
  ];
  for (const row of sorted) {
    const method =
      row.method === 'other'
        ? `other: ${[...row.unserved].sort((a, b) => methodRank(a) - methodRank(b) || byCodePoint(a, b)).join(', ')}`
        : row.method;
    const clients = [...row.clients.entries()]
      .sort(([a], [b]) => byCodePoint(a, b))
      .map(([client, statuses]) => `\`${client}\` (${[...statuses].sort(byNumber).join(', ')})`)
      .join('<br>');
    lines.push(`| ${method} | \`${row.path}\` | ${clients} | ${[...row.statuses].sort(byNumber).join(', ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** The document with its generated section replaced, or undefined when the markers are missing. */
export function withTable(document: string, table: string): string | undefined {
  const begin = document.indexOf(BEGIN_MARKER);
  const end = document.indexOf(END_MARKER, begin);
  if (begin < 0 || end < 0) return undefined;
  return `${document.slice(0, begin + BEGIN_MARKER.length)}\n${table}${document.slice(end)}`;
}
