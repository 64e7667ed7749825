/** `userplane groups …`: the CLI face of /admin/api/groups (docs/behaviour.md §9). */
import { PAGE_HELP, PAGE_OPTIONS, pageFrom } from './framework/fields.ts';
import { listFooter, table } from './framework/output.ts';
import {
  type Command,
  type CommandContext,
  deleteSubcommand,
  resourceArgument,
  subcommand,
} from './framework/runner.ts';
import { printUsers, USER_ARGUMENT } from './users.ts';

const GROUP_ARGUMENT = resourceArgument('GROUP', 'the group name');
const ARGUMENTS = [GROUP_ARGUMENT.help, USER_ARGUMENT.help];

async function changeMembership(context: CommandContext, add: boolean): Promise<void> {
  const [group, ref] = context.args as [string, string];
  const { accountId } = await context.admin.users.findByRef(ref);
  if (add) await context.admin.groups.addMember(group, accountId);
  else await context.admin.groups.removeMember(group, accountId);
  const verb = add ? 'added' : 'removed';
  context.print(
    context.json
      ? JSON.stringify({ [verb]: accountId, group })
      : `${verb} ${accountId} ${add ? 'to' : 'from'} group ${group}`,
  );
}

export const groupsCommand: Command = {
  name: 'groups',
  summary: 'Create and delete groups; add and remove members.',
  subcommands: {
    list: subcommand({
      usage: 'list [--start N] [--limit N]',
      summary: 'List groups by name.',
      options: PAGE_OPTIONS,
      optionHelp: PAGE_HELP,
      input: ({ values }) => pageFrom(values),
      async run(context, page) {
        const list = await context.admin.groups.list(page);
        if (context.json) return context.print(JSON.stringify(list, null, 2));
        context.print(
          `${table(
            ['NAME', 'ID'],
            list.results.map((g) => [g.name, g.id]),
          )}\n${listFooter(list)}`,
        );
      },
    }),
    add: {
      usage: 'add GROUP',
      summary: 'Create a group.',
      positionals: ['GROUP'],
      optionHelp: [GROUP_ARGUMENT.help],
      async run(context) {
        const group = await context.admin.groups.create(context.args[0]!);
        context.print(context.json ? JSON.stringify(group, null, 2) : `created group ${group.name} (${group.id})`);
      },
    },
    delete: deleteSubcommand(GROUP_ARGUMENT, 'group', 'Delete a group and its memberships.', async (context, name) => {
      await context.admin.groups.delete(name);
      return name;
    }),
    members: subcommand({
      usage: 'members GROUP [--start N] [--limit N]',
      summary: "List a group's members.",
      positionals: ['GROUP'],
      options: PAGE_OPTIONS,
      optionHelp: [GROUP_ARGUMENT.help, ...PAGE_HELP],
      input: ({ values }) => pageFrom(values),
      async run(context, page) {
        printUsers(context, await context.admin.groups.listMembers(context.args[0]!, page));
      },
    }),
    'add-member': {
      usage: 'add-member GROUP USER',
      summary: 'Add a user to a group (nothing changes if they are a member already).',
      positionals: ['GROUP', 'USER'],
      optionHelp: ARGUMENTS,
      run: (context) => changeMembership(context, true),
    },
    'remove-member': {
      usage: 'remove-member GROUP USER',
      summary: 'Remove a user from a group (nothing changes if they are not a member).',
      positionals: ['GROUP', 'USER'],
      optionHelp: ARGUMENTS,
      run: (context) => changeMembership(context, false),
    },
  },
};
