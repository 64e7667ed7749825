/**
 * `userplane export [--site NAME] [--format yaml|json]` and
 * `userplane import FILE [--site NAME]` (docs/behaviour.md §11), on --database
 * directly, through the same domain code as `/admin/api/export` and
 * `/admin/api/import`. The export goes to standard output; the import
 * prints its counts. Without --site, the default site.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CONFIG_ARGS, configOptionsFrom, loadConfig } from '../config.ts';
import { Administration } from '../domain/admin/administration.ts';
import { ApiError } from '../domain/errors.ts';
import { type DocumentFormat, formatDocument, parseDocument } from '../domain/export.ts';
import { openRuntime } from '../runtime.ts';
import { IMPORT_SECTIONS } from '../schemas/transfer.ts';
import { type CliIo, siteNamed } from './framework/runner.ts';

export const TRANSFER_COMMANDS = ['export', 'import'] as const;
type TransferCommand = (typeof TRANSFER_COMMANDS)[number];

const USAGE: Record<TransferCommand, string> = {
  export:
    'usage: userplane export [--site NAME] [--format yaml|json] [options]\n  writes the site as a seed document to standard output (JSON by default)\n',
  import:
    'usage: userplane import FILE [--site NAME] [options]\n  loads a YAML or JSON seed document into the site: upsert, never delete, all or nothing\n',
};

/** Runs `userplane export|import …`; `argv` is without the command's name. Answers the exit code. */
export async function runTransferCommand(command: TransferCommand, argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...CONFIG_ARGS,
        site: { type: 'string' },
        ...(command === 'export' && { format: { type: 'string' } }),
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage(io, command, (error as Error).message.split('. To specify')[0]!);
  }
  if (parsed.values.help) {
    io.stdout.write(USAGE[command]);
    return 0;
  }
  const format = (parsed.values.format as string | undefined) ?? 'json';
  if (format !== 'json' && format !== 'yaml') return usage(io, command, `--format is yaml or json, not "${format}"`);
  const expected = command === 'import' ? 1 : 0;
  if (parsed.positionals.length < expected) return usage(io, command, 'name the file to import');
  if (parsed.positionals.length > expected)
    return usage(io, command, `unexpected argument "${parsed.positionals[expected]}"`);

  let document: unknown;
  const file = parsed.positionals[0];
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      return usage(io, command, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    try {
      document = parseDocument(text);
    } catch (error) {
      if (error instanceof ApiError) return usage(io, command, `${file}: ${error.message}`);
      throw error;
    }
  }

  const { store, secrets } = await openRuntime(loadConfig(configOptionsFrom(parsed.values), io.env));
  try {
    const site = await siteNamed(store.db, parsed.values.site as string | undefined);
    const transfer = new Administration(store.db, secrets, site.id).transfer;
    if (command === 'export') {
      io.stdout.write(formatDocument(await transfer.export(), format as DocumentFormat));
    } else {
      const summary = await transfer.import(document);
      const counts = IMPORT_SECTIONS.map(
        (section) => `${section}: ${summary[section].created} created, ${summary[section].updated} updated`,
      );
      io.stdout.write(`imported ${file} into site ${site.name}\n${counts.join('\n')}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ApiError) {
      io.stderr.write(`userplane: ${command}: ${error.message}\n`);
      return error.code === 'bad_request' ? 2 : 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}

function usage(io: CliIo, command: TransferCommand, message: string): number {
  io.stderr.write(`userplane: ${command}: ${message}\n\n${USAGE[command]}`);
  return 2;
}
