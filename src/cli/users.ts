/** `userplane users …`: the CLI face of /admin/api/users (docs/behaviour.md §9). */
import {
  type AdminUser,
  type AdminUserCreate,
  AdminUserCreateSchema,
  type AdminUserPatch,
  AdminUserPatchSchema,
} from '../schemas/admin.ts';
import {
  bodyFrom,
  type FieldOption,
  fieldHelp,
  fieldOptions,
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

const PROFILE_FIELDS: FieldOption[] = [
  { flag: 'email', field: 'email', kind: 'string', help: 'email address; unique, case-insensitively' },
  { flag: 'display-name', field: 'displayName', kind: 'string', help: 'full name' },
  { flag: 'public-name', field: 'publicName', kind: 'string', help: 'public name; default: the display name' },
  { flag: 'time-zone', field: 'timeZone', kind: 'string', help: 'IANA time zone; default UTC' },
  {
    flag: 'email-visibility',
    field: 'emailVisibility',
    kind: 'string',
    help: 'anyone | admins | private; default admins',
  },
  { flag: 'username', field: 'username', kind: 'nullable-string', help: 'legacy username; "" removes it' },
  { flag: 'user-key', field: 'userKey', kind: 'nullable-string', help: 'legacy user key; "" removes it' },
  {
    flag: 'external-collaborator',
    field: 'externalCollaborator',
    kind: 'boolean',
    help: 'true for an external collaborator',
  },
  {
    flag: 'active',
    field: 'active',
    kind: 'boolean',
    help: 'false deactivates: the user keeps their data and cannot authenticate',
  },
];

const CREATE_FIELDS: FieldOption[] = [
  { flag: 'account-id', field: 'accountId', kind: 'string', help: 'accountId; default 712020:<uuid>' },
  ...PROFILE_FIELDS,
];

export function printUser(context: CommandContext, user: AdminUser): void {
  context.print(context.json ? JSON.stringify(user, null, 2) : record(user));
}

export function printUsers(
  context: CommandContext,
  list: { results: AdminUser[]; start: number; limit: number; size: number },
): void {
  if (context.json) {
    context.print(JSON.stringify(list, null, 2));
    return;
  }
  const rows = list.results.map((u) => [
    u.accountId,
    u.email || '-',
    u.displayName,
    u.active ? 'active' : 'deactivated',
    u.groups.join(',') || '-',
  ]);
  context.print(`${table(['ACCOUNT ID', 'EMAIL', 'DISPLAY NAME', 'STATUS', 'GROUPS'], rows)}\n${listFooter(list)}`);
}

export const USER_ARGUMENT = resourceArgument('USER', 'an accountId or an email address');

async function setActive(context: CommandContext, active: boolean): Promise<void> {
  const user = await context.admin.users.findByRef(context.args[0]!);
  printUser(context, await context.admin.users.update(user.accountId, { active }));
}

export const usersCommand: Command = {
  name: 'users',
  summary: 'Create, change, deactivate and delete users.',
  subcommands: {
    list: subcommand({
      usage: 'list [--query TEXT] [--start N] [--limit N]',
      summary: 'List users by display name.',
      options: { query: { type: 'string' }, ...PAGE_OPTIONS },
      optionHelp: ['  --query TEXT  only users whose name or email contains TEXT, case-insensitively', ...PAGE_HELP],
      input: ({ values }) => ({
        ...pageFrom(values),
        query: typeof values.query === 'string' ? values.query : undefined,
      }),
      async run(context, request) {
        printUsers(context, await context.admin.users.list(request));
      },
    }),
    show: showSubcommand(
      USER_ARGUMENT,
      'Show one user, with their groups.',
      (context, ref) => context.admin.users.findByRef(ref),
      printUser,
    ),
    add: subcommand({
      usage: 'add --email EMAIL --display-name NAME [--group GROUP]… [options]',
      summary: 'Create a user.',
      options: { ...fieldOptions(CREATE_FIELDS), group: { type: 'string', multiple: true } },
      optionHelp: fieldHelp(CREATE_FIELDS, [['--group GROUP', 'add the user to this existing group; repeat for more']]),
      input: ({ values }) => {
        const groups = values.group as string[] | undefined;
        return bodyFrom<AdminUserCreate>(values, CREATE_FIELDS, AdminUserCreateSchema, groups ? { groups } : {});
      },
      async run(context, body) {
        const user = await context.admin.users.create(body);
        if (!context.json) context.print(`created user ${user.accountId}`);
        printUser(context, user);
      },
    }),
    update: subcommand({
      usage: 'update USER [options]',
      summary: "Change a user's profile fields.",
      positionals: ['USER'],
      options: fieldOptions(PROFILE_FIELDS),
      optionHelp: [USER_ARGUMENT.help, ...fieldHelp(PROFILE_FIELDS)],
      input: ({ values }) => bodyFrom<AdminUserPatch>(values, PROFILE_FIELDS, AdminUserPatchSchema),
      async run(context, patch) {
        const user = await context.admin.users.findByRef(context.args[0]!);
        printUser(context, await context.admin.users.update(user.accountId, patch));
      },
    }),
    deactivate: {
      usage: 'deactivate USER',
      summary: 'Deactivate a user: their data stays, they can no longer authenticate.',
      positionals: ['USER'],
      optionHelp: [USER_ARGUMENT.help],
      run: (context) => setActive(context, false),
    },
    activate: {
      usage: 'activate USER',
      summary: 'Reactivate a deactivated user.',
      positionals: ['USER'],
      optionHelp: [USER_ARGUMENT.help],
      run: (context) => setActive(context, true),
    },
    delete: deleteSubcommand(
      USER_ARGUMENT,
      'user',
      'Delete a user with their memberships, API tokens and properties.',
      async (context, ref) => {
        const user = await context.admin.users.findByRef(ref);
        await context.admin.users.delete(user.accountId);
        return user.accountId;
      },
    ),
  },
};
