/** `userplane apps …`: the CLI face of /admin/api/apps (docs/behaviour.md §9). Secrets are never printed. */
import { readSecretFile } from '../config.ts';
import {
  type AdminApp,
  type AdminAppCreate,
  AdminAppCreateSchema,
  type AdminAppPatch,
  AdminAppPatchSchema,
} from '../schemas/admin.ts';
import {
  bodyFrom,
  CliUsageError,
  type FieldOption,
  fieldHelp,
  fieldOptions,
  type Invocation,
  PAGE_HELP,
  PAGE_OPTIONS,
  pageFrom,
} from './framework/fields.ts';
import { listFooter, record, table } from './framework/output.ts';
import {
  type Command,
  type CommandContext,
  deleteSubcommand,
  resourceArgument,
  showSubcommand,
  subcommand,
} from './framework/runner.ts';

const CHANGE_FIELDS: FieldOption[] = [
  { flag: 'name', field: 'name', kind: 'string', help: "the app's name, also its bot user's" },
  { flag: 'client-key', field: 'clientKey', kind: 'string', help: 'the Connect clientKey; unique' },
  { flag: 'shared-secret', field: 'sharedSecret', kind: 'string', help: 'at least 32 characters; stored encrypted' },
  {
    flag: 'oauth-client-id',
    field: 'oauthClientId',
    kind: 'nullable-string',
    help: 'the OAuth client_id; "" removes it',
  },
  {
    flag: 'client-secret',
    field: 'clientSecret',
    kind: 'nullable-string',
    help: 'the OAuth client secret; stored as a digest; "" removes it',
  },
  { flag: 'scopes', field: 'scopes', kind: 'list', help: 'e.g. READ,WRITE,ACT_AS_USER; default READ' },
  { flag: 'email-access', field: 'emailAccess', kind: 'boolean', help: 'whether the app may read email addresses' },
];
const CREATE_FIELDS: FieldOption[] = [
  {
    flag: 'key',
    field: 'key',
    kind: 'string',
    help: 'the app key: letters, digits, ".", "_", "-"; a Forge app: its id, ari:cloud:ecosystem::app/<uuid>',
  },
  {
    flag: 'kind',
    field: 'kind',
    kind: 'string',
    help: 'connect (default) or forge (docs/forge.md); a Forge app needs no --client-key',
  },
  {
    flag: 'account-id',
    field: 'accountId',
    kind: 'string',
    help: "the bot user's accountId; default 557058:<uuidv5 of the key>",
  },
  ...CHANGE_FIELDS.map((f) =>
    f.kind === 'nullable-string' ? { ...f, kind: 'string' as const, help: f.help.replace(/; "" removes it$/, '') } : f,
  ),
];
const KEY_ARGUMENT = resourceArgument('KEY', 'the app key');

/**
 * Secrets typed as options are visible to every local user in `ps`: each
 * may be read from a file instead, or from standard input with `-`.
 */
const SECRET_FILES = [
  { flag: 'shared-secret-file', instead: 'shared-secret' },
  { flag: 'client-secret-file', instead: 'client-secret' },
] as const;
const SECRET_FILE_OPTIONS = Object.fromEntries(SECRET_FILES.map((f) => [f.flag, { type: 'string' as const }]));
const SECRET_FILE_HELP: Array<[string, string]> = SECRET_FILES.map((f) => [
  `--${f.flag} PATH`,
  `read --${f.instead} from a file, or "-" for standard input (not shown in ps)`,
]);

/** The options with each secret file read into the option it stands for. */
function withSecretFiles(values: Invocation['values']): Invocation['values'] {
  const out = { ...values };
  for (const { flag, instead } of SECRET_FILES) {
    const path = values[flag];
    if (typeof path !== 'string') continue;
    if (values[instead] !== undefined) throw new CliUsageError(`--${flag} and --${instead}: give one, not both`);
    try {
      out[instead] = readSecretFile(path);
    } catch (error) {
      throw new CliUsageError(`--${flag}: ${(error as Error).message}`);
    }
    delete out[flag];
  }
  return out;
}

function printApp(context: CommandContext, app: AdminApp): void {
  context.print(context.json ? JSON.stringify(app, null, 2) : record(app));
}

export const appsCommand: Command = {
  name: 'apps',
  summary: 'Install, change and delete apps. Secrets are write-only.',
  subcommands: {
    list: subcommand({
      usage: 'list [--start N] [--limit N]',
      summary: 'List apps by key.',
      options: PAGE_OPTIONS,
      optionHelp: PAGE_HELP,
      input: ({ values }) => pageFrom(values),
      async run(context, page) {
        const list = await context.admin.apps.list(page);
        if (context.json) return context.print(JSON.stringify(list, null, 2));
        const rows = list.results.map((a) => [a.key, a.name, a.clientKey, a.accountId, a.scopes.join(',')]);
        context.print(`${table(['KEY', 'NAME', 'CLIENT KEY', 'BOT USER', 'SCOPES'], rows)}\n${listFooter(list)}`);
      },
    }),
    show: showSubcommand(
      KEY_ARGUMENT,
      'Show one app (never its secrets).',
      (context, key) => context.admin.apps.get(key),
      printApp,
    ),
    add: subcommand({
      usage:
        'add --key KEY --name NAME [--kind forge] --client-key KEY --shared-secret-file PATH|--shared-secret SECRET [options]',
      summary: 'Install an app and create its bot user.',
      options: { ...fieldOptions(CREATE_FIELDS), ...SECRET_FILE_OPTIONS },
      optionHelp: fieldHelp(CREATE_FIELDS, SECRET_FILE_HELP),
      input: ({ values }) => bodyFrom<AdminAppCreate>(withSecretFiles(values), CREATE_FIELDS, AdminAppCreateSchema),
      async run(context, body) {
        const app = await context.admin.apps.create(body);
        if (!context.json) context.print(`created app ${app.key} with bot user ${app.accountId}`);
        printApp(context, app);
      },
    }),
    update: subcommand({
      usage: 'update KEY [options]',
      summary: 'Change an app; options not given keep their values.',
      positionals: ['KEY'],
      options: { ...fieldOptions(CHANGE_FIELDS), ...SECRET_FILE_OPTIONS },
      optionHelp: [KEY_ARGUMENT.help, ...fieldHelp(CHANGE_FIELDS, SECRET_FILE_HELP)],
      input: ({ values }) => bodyFrom<AdminAppPatch>(withSecretFiles(values), CHANGE_FIELDS, AdminAppPatchSchema),
      async run(context, patch) {
        printApp(context, await context.admin.apps.update(context.args[0]!, patch));
      },
    }),
    delete: deleteSubcommand(
      KEY_ARGUMENT,
      'app',
      'Delete an app, its bot user and its Confluence properties.',
      async (context, key) => {
        await context.admin.apps.delete(key);
        return key;
      },
    ),
  },
};
