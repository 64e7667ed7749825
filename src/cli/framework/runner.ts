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
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import { CONFIG_ARGS, configOptionsFrom, loadConfig } from '../../config.ts';
import { Administration } from '../../domain/admin/administration.ts';
import { ApiError } from '../../domain/errors.ts';
import { openRuntime } from '../../runtime.ts';
import type { Database } from '../../store/schema.ts';
import { ensureDefaultSite, findSiteByName, type StoredSite } from '../../store/site.ts';
import { CliUsageError, type Invocation, type OptionSpec } from './fields.ts';

/** Where a command prints and what environment it reads: the process's, or a test's. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** The environment settings are read from; config.ts reads the process's when absent. */
  env?: Record<string, string | undefined>;
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
  '  --secret-key KEY    USERPLANE_SECRET_KEY   required with PostgreSQL; visible to local users in ps, so prefer',
  '  --secret-key-file PATH  USERPLANE_SECRET_KEY_FILE   the key from a file, or "-" for standard input',
  '  --site NAME         act on that site (docs/behaviour.md §10); the default site when absent',
  '  --json              print the result as JSON, as /admin/api answers it',
  '  -h, --help          show this help',
];

function configOptions(): Record<string, OptionSpec> {
  return CONFIG_ARGS;
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
export async function runCommand(command: Command, argv: string[], io: CliIo): Promise<number> {
  const name = firstPositional(argv);
  const sub = name === undefined ? undefined : command.subcommands[name];
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (!sub) {
    if (name === undefined && wantsHelp) {
      io.stdout.write(commandUsage(command));
      return 0;
    }
    const problem =
      name === undefined ? `${command.name}: name a subcommand` : `${command.name}: unknown subcommand "${name}"`;
    io.stderr.write(`userplane: ${problem}\n\n${commandUsage(command)}`);
    return 2;
  }
  if (wantsHelp) {
    io.stdout.write(subcommandUsage(command, name!, sub));
    return 0;
  }

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...configOptions(),
        site: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...sub.options,
      },
    });
  } catch (error) {
    // parseArgs appends advice about '--' that does not apply here.
    return usageFailure(io, command, name!, (error as Error).message.split('. To specify')[0]!);
  }
  const args = parsed.positionals.slice(1);
  const expected = sub.positionals ?? [];
  if (args.length < expected.length)
    return usageFailure(io, command, name!, `missing ${expected.slice(args.length).join(' ')}`);
  if (args.length > expected.length)
    return usageFailure(io, command, name!, `unexpected argument "${args[expected.length]}"`);

  const invocation: Invocation = { values: parsed.values as Invocation['values'], args };
  let input: unknown;
  try {
    input = sub.input?.(invocation);
  } catch (error) {
    if (error instanceof CliUsageError) return usageFailure(io, command, name!, error.message);
    throw error;
  }

  const options = configOptionsFrom(parsed.values);
  const { store, secrets } = await openRuntime(loadConfig(options, io.env));
  try {
    const site = await siteNamed(store.db, parsed.values.site as string | undefined);
    const admin = new Administration(store.db, secrets, site.id);
    await admin.site.ensure();
    const print = (text: string) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    await sub.run({ ...invocation, admin, json: parsed.values.json === true, print }, input);
    return 0;
  } catch (error) {
    if (error instanceof CliUsageError) return usageFailure(io, command, name!, error.message);
    if (error instanceof ApiError) {
      io.stderr.write(`userplane: ${command.name} ${name}: ${error.message}\n`);
      return error.code === 'bad_request' ? 2 : 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}

/** `--site NAME`: that site; without it the default site, created on a new database (docs/behaviour.md §10). */
export async function siteNamed(db: Kysely<Database>, name: string | undefined): Promise<StoredSite> {
  if (name === undefined) return ensureDefaultSite(db);
  const site = await findSiteByName(db, name);
  if (!site) throw new ApiError('not_found', `no site named "${name}" (see "userplane sites list")`);
  return site;
}

function usageFailure(io: CliIo, command: Command, name: string, message: string): number {
  io.stderr.write(
    `userplane: ${command.name} ${name}: ${message}\nRun "userplane ${command.name} ${name} --help" for its options.\n`,
  );
  return 2;
}
