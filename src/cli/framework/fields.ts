/**
 * From what was typed to what the domain takes: options named after body
 * fields (`--display-name` → `displayName`), converted where unambiguous and
 * checked against the same TypeBox schema as the HTTP route, so a usage error
 * names the option; and the paging options every list shares.
 */
import type { ParseArgsConfig } from 'node:util';
import type { TSchema } from 'typebox';
import Type from 'typebox';
import type { PageRequest } from '../../domain/paging.ts';
import { schemaProblems } from '../../lib/schema-errors.ts';

/** Invalid input, found before anything changes: exit 2 with the subcommand's usage hint. */
export class CliUsageError extends Error {}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string];

/** What was typed: option values by name, and the positional arguments after the subcommand. */
export interface Invocation {
  values: Record<string, string | boolean | string[] | undefined>;
  args: string[];
}

/** `word-or-json`: a word as it is, or a JSON object when the value starts with `{` (`--rate-limits '{"burst": false}'`). */
export type FieldKind = 'string' | 'nullable-string' | 'boolean' | 'integer' | 'list' | 'word-or-json';

export interface FieldOption {
  /** The option, without dashes: `display-name`. */
  flag: string;
  /** The body field: `displayName`. */
  field: string;
  kind: FieldKind;
  help: string;
}

/** The parseArgs declaration of some field options. */
export function fieldOptions(fields: readonly FieldOption[]): Record<string, OptionSpec> {
  return Object.fromEntries(fields.map((f) => [f.flag, { type: 'string' as const }]));
}

/** Aligned help lines for field options, plus `extra` [label, help] pairs. */
export function fieldHelp(fields: readonly FieldOption[], extra: Array<[string, string]> = []): string[] {
  const label = (f: FieldOption) =>
    `--${f.flag} ${f.kind === 'boolean' ? 'true|false' : f.kind === 'integer' ? 'N' : f.kind === 'list' ? 'A,B' : 'VALUE'}`;
  const lines: Array<[string, string]> = [...fields.map((f): [string, string] => [label(f), f.help]), ...extra];
  const width = Math.max(...lines.map(([l]) => l.length));
  return lines.map(([l, help]) => `  ${l.padEnd(width)}  ${help}`);
}

/**
 * The request body the given options describe, checked against the same
 * TypeBox schema as the HTTP route. Values are converted only when they are
 * unambiguous; anything else stays a string and the schema names it.
 */
export function bodyFrom<T>(
  values: Invocation['values'],
  fields: readonly FieldOption[],
  schema: TSchema,
  extra: Record<string, unknown> = {},
): T {
  const body: Record<string, unknown> = { ...extra };
  for (const f of fields) {
    const raw = values[f.flag];
    if (typeof raw !== 'string') continue;
    body[f.field] = convert(f.kind, raw);
  }
  const flagOf = (field: string) => {
    const f = fields.find((candidate) => candidate.field === field);
    return f ? `--${f.flag}` : field;
  };
  const problems = schemaProblems(schema, body).map((line) => {
    const missing = /^is missing (.*)$/.exec(line);
    if (missing) return `${missing[1]!.split(', ').map(flagOf).join(', ')} is required`;
    const f = fields.find(
      (candidate) => line.startsWith(`${candidate.field}:`) || line.startsWith(`${candidate.field}[`),
    );
    return f ? `--${f.flag}${line.slice(f.field.length)}` : line;
  });
  if (problems.length > 0) throw new CliUsageError(problems.join('; '));
  return body as T;
}

function convert(kind: FieldKind, raw: string): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'nullable-string':
      // An empty value removes the field: --username ''.
      return raw === '' ? null : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'integer':
      return /^-?\d{1,15}$/.test(raw) ? Number(raw) : raw;
    case 'list':
      return raw === '' ? [] : raw.split(',').map((item) => item.trim());
    case 'word-or-json':
      if (!raw.trimStart().startsWith('{')) return raw;
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
  }
}

const ANY_OBJECT = Type.Object({}, { additionalProperties: true });

/**
 * Like `bodyFrom`, for bodies with nested objects: a field named
 * `view.groups` fills `{view: {groups}}`. Checked against the route's
 * schema; problems name the option (`--view-anonymous: must be a boolean`).
 */
export function nestedBodyFrom<T>(values: Invocation['values'], fields: readonly FieldOption[], schema: TSchema): T {
  const flat = bodyFrom<Record<string, unknown>>(values, fields, ANY_OBJECT);
  const body: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(flat)) {
    const [head, tail] = field.split('.') as [string, string | undefined];
    if (tail === undefined) body[head] = value;
    else {
      body[head] ??= {};
      (body[head] as Record<string, unknown>)[tail] = value;
    }
  }
  const flagOf = (field: string) => fields.find((f) => f.field === field)?.flag;
  const problems = schemaProblems(schema, body).map((line) => {
    const missing = /^is missing (.*)$/.exec(line);
    if (missing)
      return `${missing[1]!
        .split(', ')
        .map((name) => (flagOf(name) ? `--${flagOf(name)}` : name))
        .join(', ')} is required`;
    const f = [...fields]
      .sort((a, b) => b.field.length - a.field.length)
      .find((c) => line.startsWith(`${c.field}:`) || line.startsWith(`${c.field}[`));
    return f ? `--${f.flag}${line.slice(f.field.length)}` : line;
  });
  if (problems.length > 0) throw new CliUsageError(problems.join('; '));
  return body as T;
}

// ---------------------------------------------------------------- paging

export const PAGE_OPTIONS: Record<string, OptionSpec> = { start: { type: 'string' }, limit: { type: 'string' } };
export const PAGE_HELP = [
  '  --start N    index of the first result (default 0)',
  '  --limit N    results per page (default 100, at most 1000)',
];

export function pageFrom(values: Invocation['values']): PageRequest {
  const page: PageRequest = {};
  for (const name of ['start', 'limit'] as const) {
    const raw = values[name];
    if (raw === undefined) continue;
    if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw))
      throw new CliUsageError(`--${name}: must be a non-negative integer`);
    page[name] = Number(raw);
  }
  return page;
}
