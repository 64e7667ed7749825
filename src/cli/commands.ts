/** The administration commands `userplane` dispatches to cli/framework/runner.ts (docs/behaviour.md §9). */
import { parseArgs } from 'node:util';
import { CONFIG_ARGS } from '../config.ts';
import { appsCommand } from './apps.ts';
import { contentCommand } from './content.ts';
import type { Command } from './framework/runner.ts';
import { groupsCommand } from './groups.ts';
import { oauthTokensCommand } from './oauth-tokens.ts';
import { siteCommand } from './site.ts';
import { spacesCommand } from './spaces.ts';
import { tokensCommand } from './tokens.ts';
import { usersCommand } from './users.ts';

export const ADMIN_COMMANDS: readonly Command[] = [
  usersCommand,
  groupsCommand,
  tokensCommand,
  appsCommand,
  oauthTokensCommand,
  spacesCommand,
  contentCommand,
  siteCommand,
];

export const ADMIN_USAGE = ADMIN_COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n');

/**
 * When the first positional argument names an administration command: that
 * command and the arguments around it. Options that take values are skipped
 * over, so `--database x users list` finds `users`.
 */
export function findAdminCommand(argv: string[]): { command: Command; argv: string[] } | undefined {
  const { tokens } = parseArgs({
    args: argv,
    options: CONFIG_ARGS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const first = tokens.find((t) => t.kind === 'positional');
  const command = first && ADMIN_COMMANDS.find((c) => c.name === first.value);
  if (!first || !command) return undefined;
  return { command, argv: [...argv.slice(0, first.index), ...argv.slice(first.index + 1)] };
}
