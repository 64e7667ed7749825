/**
 * The runner behind `userplane users|groups|tokens|apps|site …` (docs/behaviour.md §9):
 * each subcommand parses its options, opens --database like every other
 * command (runtime.ts), and calls the same domain code as /admin/api, so a
 * change made here obeys exactly the rules the HTTP API enforces. On the
 * embedded SQLite file this works while no server runs (the server holds
 * the file exclusively); on PostgreSQL, at any time.
 *
 * Exit codes: 0 done; 2 a usage error or invalid input (unknown option,
 * missing argument, a value the schema refuses); 1 anything else, such as
 * an unknown user or a conflict.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { TSchema } from 'typebox';
import { CONFIG_OPTIONS, type ConfigOptions, loadConfig } from '../config.ts';
import { Administration } from '../domain/admin/administration.ts';
import { ApiError } from '../domain/errors.ts';
import { schemaProblems } from '../lib/schema-errors.ts';
import { openRuntime } from '../runtime.ts';

export class CliUsageError extends Error {}

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string];

/** What was typed: option values by name, and the positional arguments after the subcommand. */
export interface Invocation {
  values: Record<string, string | boolean | string[] | undefined>;
  args: string[];
}

export interface CommandContext extends Invocation {
  /** The same services /admin/api calls, over --database. */
  admin: Administration;
  json: boolean;
  print(text: string): void;
}

export interface Subcommand<I = void> {
  /** e.g. `add --email EMAIL --display-name NAME [options]`. */
  usage: string;
  summary: string;
  /** One line per option, already formatted. */
  optionHelp?: string[];
  options?: Record<string, OptionSpec>;
  /** Names of the required positional arguments, e.g. ['USER']. */
  positionals?: string[];
  /** Checks and converts the options before the database is opened, so a usage error touches nothing. */
  input?(invocation: Invocation): I;
  run(context: CommandContext, input: I): Promise<void>;
}

/** Declares a subcommand, inferring its input type. */
export function subcommand<I = void>(spec: Subcommand<I>): Subcommand<I> {
  return spec;
}

/** The one positional argument that names a resource, e.g. `KEY`, with its help line. */
export interface ResourceArgument {
  name: string;
  help: string;
}

export function resourceArgument(name: string, help: string): ResourceArgument {
  return { name, help: `  ${name.padEnd(13)}${help}` };
}

/** `VERB ARG`: a subcommand on one resource, named by its one argument. */
function onOneResource(
  verb: string,
  argument: ResourceArgument,
  summary: string,
  run: (context: CommandContext, ref: string) => Promise<void>,
): Subcommand {
  return {
    usage: `${verb} ${argument.name}`,
    summary,
    positionals: [argument.name],
    optionHelp: [argument.help],
    run: (context) => run(context, context.args[0]!),
  };
}

/** `show ARG`: finds one resource and prints it. */
export function showSubcommand<T>(
  argument: ResourceArgument,
  summary: string,
  find: (context: CommandContext, ref: string) => Promise<T>,
  print: (context: CommandContext, found: T) => void,
): Subcommand {
  return onOneResource('show', argument, summary, async (context, ref) => print(context, await find(context, ref)));
}

/** `delete ARG`: deletes one resource and names it, as `deleted NOUN ID` or `{"deleted": ID}`. `remove` answers the id. */
export function deleteSubcommand(
  argument: ResourceArgument,
  noun: string,
  summary: string,
  remove: (context: CommandContext, ref: string) => Promise<string>,
): Subcommand {
  return onOneResource('delete', argument, summary, async (context, ref) => {
    const deleted = await remove(context, ref);
    context.print(context.json ? JSON.stringify({ deleted }) : `deleted ${noun} ${deleted}`);
  });
}

export interface Command {
  name: string;
  summary: string;
  // biome-ignore lint/suspicious/noExplicitAny: each subcommand has its own input type
  subcommands: Record<string, Subcommand<any>>;
}

const GLOBAL_HELP = [
  '  --database URL      DATABASE_URL   sqlite:PATH, sqlite::memory: or postgres://…; default sqlite:./data/userplane.db',
  '  --secret-key KEY    USERPLANE_SECRET_KEY   required with PostgreSQL',
  '  --json              print the result as JSON, as /admin/api answers it',
  '  -h, --help          show this help',
];

function configOptions(): Record<string, OptionSpec> {
  return Object.fromEntries(Object.values(CONFIG_OPTIONS).map((name) => [name, { type: 'string' as const }]));
}

export function commandUsage(command: Command): string {
  const width = Math.max(...Object.keys(command.subcommands).map((name) => name.length));
  const lines = Object.entries(command.subcommands).map(([name, sub]) => `  ${name.padEnd(width)}  ${sub.summary}`);
  return [
    `usage: userplane ${command.name} <subcommand> [options]`,
    '',
    command.summary,
    '',
    'subcommands:',
    ...lines,
    '',
    'options for every subcommand:',
    ...GLOBAL_HELP,
    '',
    `Run "userplane ${command.name} <subcommand> --help" for a subcommand's options.`,
    '',
  ].join('\n');
}

// biome-ignore lint/suspicious/noExplicitAny: each subcommand has its own input type
export function subcommandUsage(command: Command, _name: string, sub: Subcommand<any>): string {
  return [
    `usage: userplane ${command.name} ${sub.usage}`,
    '',
    sub.summary,
    '',
    ...(sub.optionHelp?.length ? ['options:', ...sub.optionHelp, ''] : []),
    'options for every subcommand:',
    ...GLOBAL_HELP,
    '',
  ].join('\n');
}

/** The first positional argument, with the options that take values skipped. */
function firstPositional(argv: string[]): string | undefined {
  const { tokens } = parseArgs({
    args: argv,
    options: configOptions(),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  return tokens.find((t) => t.kind === 'positional')?.value;
}

/** Runs `userplane <command> …argv`; answers the exit code. */
export async function runAdminCommand(command: Command, argv: string[]): Promise<number> {
  const name = firstPositional(argv);
  const sub = name === undefined ? undefined : command.subcommands[name];
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (!sub) {
    if (name === undefined && wantsHelp) {
      process.stdout.write(commandUsage(command));
      return 0;
    }
    const problem =
      name === undefined ? `${command.name}: name a subcommand` : `${command.name}: unknown subcommand "${name}"`;
    process.stderr.write(`userplane: ${problem}\n\n${commandUsage(command)}`);
    return 2;
  }
  if (wantsHelp) {
    process.stdout.write(subcommandUsage(command, name!, sub));
    return 0;
  }

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { ...configOptions(), json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...sub.options },
    });
  } catch (error) {
    // parseArgs appends advice about '--' that does not apply here.
    return usageFailure(command, name!, (error as Error).message.split('. To specify')[0]!);
  }
  const args = parsed.positionals.slice(1);
  const expected = sub.positionals ?? [];
  if (args.length < expected.length)
    return usageFailure(command, name!, `missing ${expected.slice(args.length).join(' ')}`);
  if (args.length > expected.length)
    return usageFailure(command, name!, `unexpected argument "${args[expected.length]}"`);

  const invocation: Invocation = { values: parsed.values as Invocation['values'], args };
  let input: unknown;
  try {
    input = sub.input?.(invocation);
  } catch (error) {
    if (error instanceof CliUsageError) return usageFailure(command, name!, error.message);
    throw error;
  }

  const options: ConfigOptions = {};
  for (const [setting, option] of Object.entries(CONFIG_OPTIONS) as Array<[keyof ConfigOptions, string]>) {
    const value = (parsed.values as Record<string, unknown>)[option];
    if (typeof value === 'string') options[setting] = value;
  }
  const { store, secrets } = await openRuntime(loadConfig(options));
  try {
    const admin = new Administration(store.db, secrets);
    await admin.site.ensure();
    const print = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    await sub.run({ ...invocation, admin, json: parsed.values.json === true, print }, input);
    return 0;
  } catch (error) {
    if (error instanceof CliUsageError) return usageFailure(command, name!, error.message);
    if (error instanceof ApiError) {
      process.stderr.write(`userplane: ${command.name} ${name}: ${error.message}\n`);
      return error.code === 'bad_request' ? 2 : 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}

function usageFailure(command: Command, name: string, message: string): number {
  process.stderr.write(
    `userplane: ${command.name} ${name}: ${message}\nRun "userplane ${command.name} ${name} --help" for its options.\n`,
  );
  return 2;
}

// ---------------------------------------------------------------- option → body

export type FieldKind = 'string' | 'nullable-string' | 'boolean' | 'integer' | 'list';

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
  }
}

// ---------------------------------------------------------------- output

/** Aligned columns, for lists. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `key: value` lines, for one record. */
export function record(fields: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  return Object.entries(fields)
    .map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${Array.isArray(v) ? v.join(', ') : v === null ? '-' : String(v)}`)
    .join('\n');
}

export function listFooter(list: { start: number; size: number; limit: number }): string {
  return list.size === list.limit
    ? `(${list.size} shown from ${list.start}; more may follow: use --start ${list.start + list.size})`
    : `(${list.size})`;
}

export const PAGE_OPTIONS: Record<string, OptionSpec> = { start: { type: 'string' }, limit: { type: 'string' } };
export const PAGE_HELP = [
  '  --start N    index of the first result (default 0)',
  '  --limit N    results per page (default 100, at most 1000)',
];

export function pageFrom(values: Invocation['values']): { start?: number; limit?: number } {
  const page: { start?: number; limit?: number } = {};
  for (const name of ['start', 'limit'] as const) {
    const raw = values[name];
    if (raw === undefined) continue;
    if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw))
      throw new CliUsageError(`--${name}: must be a non-negative integer`);
    page[name] = Number(raw);
  }
  return page;
}
