/** `userplane spaces …`: the CLI face of /admin/api/spaces (docs/behaviour.md §9). */

import {
  type AdminSpace,
  type AdminSpaceCreate,
  AdminSpaceCreateSchema,
  type AdminSpacePatch,
  AdminSpacePatchSchema,
} from '../schemas/admin-spaces.ts';
import {
  type FieldOption,
  fieldHelp,
  fieldOptions,
  nestedBodyFrom,
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

const VIEW_FIELDS: FieldOption[] = [
  {
    flag: 'view-groups',
    field: 'view.groups',
    kind: 'list',
    help: 'groups whose members may view it; replaces them; "" for none',
  },
  {
    flag: 'view-users',
    field: 'view.users',
    kind: 'list',
    help: 'accountIds of users who may view it; replaces them; "" for none',
  },
  {
    flag: 'view-anonymous',
    field: 'view.anonymous',
    kind: 'boolean',
    help: 'true: anyone may view it, anonymous callers included',
  },
];
const CREATE_FIELDS: FieldOption[] = [
  {
    flag: 'key',
    field: 'key',
    kind: 'string',
    help: 'the space key: letters and digits, optionally after a leading ~',
  },
  { flag: 'name', field: 'name', kind: 'string', help: 'the space name' },
  { flag: 'type', field: 'type', kind: 'string', help: 'global | personal; default global' },
  { flag: 'owner', field: 'owner', kind: 'string', help: "a personal space's owner: an accountId or email" },
  ...VIEW_FIELDS,
];
const CHANGE_FIELDS: FieldOption[] = [
  { flag: 'name', field: 'name', kind: 'string', help: 'the space name' },
  {
    flag: 'owner',
    field: 'owner',
    kind: 'nullable-string',
    help: 'a personal space\'s new owner (accountId or email); "" leaves it without one',
  },
  ...VIEW_FIELDS,
];
const KEY_ARGUMENT = resourceArgument('KEY', 'the space key');

function printSpace(context: CommandContext, space: AdminSpace): void {
  if (context.json) {
    context.print(JSON.stringify(space, null, 2));
    return;
  }
  const { view, ...rest } = space;
  context.print(
    record({ ...rest, 'view groups': view.groups, 'view users': view.users, 'view anonymous': view.anonymous }),
  );
}

/** `--owner` may name the user by email, as every user argument of the CLI. */
async function ownerId(context: CommandContext, owner: string | null | undefined): Promise<string | null | undefined> {
  if (typeof owner !== 'string' || !owner.includes('@')) return owner;
  return (await context.admin.users.findByRef(owner)).accountId;
}

export const spacesCommand: Command = {
  name: 'spaces',
  summary: 'Create, change and delete spaces and who may view them.',
  subcommands: {
    list: subcommand({
      usage: 'list [--start N] [--limit N]',
      summary: 'List spaces by key.',
      options: PAGE_OPTIONS,
      optionHelp: PAGE_HELP,
      input: ({ values }) => pageFrom(values),
      async run(context, page) {
        const list = await context.admin.spaces.list(page);
        if (context.json) {
          context.print(JSON.stringify(list, null, 2));
          return;
        }
        const rows = list.results.map((s) => [
          s.key,
          s.type,
          s.owner ?? '-',
          s.view.anonymous ? 'anyone' : [...s.view.groups, ...s.view.users].join(',') || '-',
          s.name,
        ]);
        context.print(`${table(['KEY', 'TYPE', 'OWNER', 'VIEWERS', 'NAME'], rows)}\n${listFooter(list)}`);
      },
    }),
    show: showSubcommand(
      KEY_ARGUMENT,
      'Show one space with its view permission.',
      (context, key) => context.admin.spaces.get(key),
      printSpace,
    ),
    add: subcommand({
      usage: 'add --key KEY --name NAME [--type personal --owner USER] [options]',
      summary: 'Create a space; without view options nobody but its owner may view it.',
      options: fieldOptions(CREATE_FIELDS),
      optionHelp: fieldHelp(CREATE_FIELDS),
      input: ({ values }) => nestedBodyFrom<AdminSpaceCreate>(values, CREATE_FIELDS, AdminSpaceCreateSchema),
      async run(context, body) {
        const owner = await ownerId(context, body.owner);
        const space = await context.admin.spaces.create({ ...body, ...(owner ? { owner } : {}) });
        if (!context.json) context.print(`created space ${space.key}`);
        printSpace(context, space);
      },
    }),
    update: subcommand({
      usage: 'update KEY [options]',
      summary: 'Change a space; options not given keep their values.',
      positionals: ['KEY'],
      options: fieldOptions(CHANGE_FIELDS),
      optionHelp: [KEY_ARGUMENT.help, ...fieldHelp(CHANGE_FIELDS)],
      input: ({ values }) => nestedBodyFrom<AdminSpacePatch>(values, CHANGE_FIELDS, AdminSpacePatchSchema),
      async run(context, patch) {
        const owner = await ownerId(context, patch.owner);
        printSpace(
          context,
          await context.admin.spaces.update(context.args[0]!, { ...patch, ...(owner === undefined ? {} : { owner }) }),
        );
      },
    }),
    delete: deleteSubcommand(
      KEY_ARGUMENT,
      'space',
      'Delete a space, its content, and every watch on them.',
      async (context, key) => {
        await context.admin.spaces.delete(key);
        return key;
      },
    ),
  },
};
