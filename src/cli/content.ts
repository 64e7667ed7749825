/** `userplane content …`: the CLI face of /admin/api/content (docs/behaviour.md §9). */
import {
  type AdminContent,
  type AdminContentCreate,
  AdminContentCreateSchema,
  type AdminContentPatch,
  AdminContentPatchSchema,
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

const CHANGE_FIELDS: FieldOption[] = [
  { flag: 'space', field: 'space', kind: 'string', help: 'the key of the space it is in' },
  { flag: 'title', field: 'title', kind: 'string', help: 'the title' },
  { flag: 'type', field: 'type', kind: 'string', help: 'page | blogpost; default page' },
  { flag: 'labels', field: 'labels', kind: 'list', help: 'label names, lower-cased; replaces them; "" for none' },
  {
    flag: 'restrict-users',
    field: 'restrictions.users',
    kind: 'list',
    help: 'only these accountIds (and restrict-groups) may view it; "" for none',
  },
  {
    flag: 'restrict-groups',
    field: 'restrictions.groups',
    kind: 'list',
    help: 'only members of these groups (and restrict-users) may view it; "" for none',
  },
];
const CREATE_FIELDS: FieldOption[] = [
  { flag: 'id', field: 'id', kind: 'string', help: 'a numeric id; default: one past the largest' },
  ...CHANGE_FIELDS,
];
const ID_ARGUMENT = resourceArgument('ID', 'the content id');

function printContent(context: CommandContext, content: AdminContent): void {
  if (context.json) {
    context.print(JSON.stringify(content, null, 2));
    return;
  }
  const { restrictions, ...rest } = content;
  context.print(
    record({ ...rest, 'restricted to users': restrictions.users, 'restricted to groups': restrictions.groups }),
  );
}

export const contentCommand: Command = {
  name: 'content',
  summary: 'Create, change and delete pages and blog posts, their labels and restrictions.',
  subcommands: {
    list: subcommand({
      usage: 'list [--space KEY] [--start N] [--limit N]',
      summary: 'List content by id.',
      options: { space: { type: 'string' }, ...PAGE_OPTIONS },
      optionHelp: ['  --space KEY  only the content of this space', ...PAGE_HELP],
      input: ({ values }) => ({
        ...pageFrom(values),
        space: typeof values.space === 'string' ? values.space : undefined,
      }),
      async run(context, request) {
        const list = await context.admin.content.list(request);
        if (context.json) {
          context.print(JSON.stringify(list, null, 2));
          return;
        }
        const rows = list.results.map((c) => [
          c.id,
          c.type,
          c.space,
          c.restricted ? 'restricted' : '-',
          c.labels.join(',') || '-',
          c.title,
        ]);
        context.print(`${table(['ID', 'TYPE', 'SPACE', 'VIEW', 'LABELS', 'TITLE'], rows)}\n${listFooter(list)}`);
      },
    }),
    show: showSubcommand(
      ID_ARGUMENT,
      'Show one page or blog post.',
      (context, id) => context.admin.content.get(id),
      printContent,
    ),
    add: subcommand({
      usage: 'add --space KEY --title TITLE [options]',
      summary: 'Create a page or blog post.',
      options: fieldOptions(CREATE_FIELDS),
      optionHelp: fieldHelp(CREATE_FIELDS),
      input: ({ values }) => nestedBodyFrom<AdminContentCreate>(values, CREATE_FIELDS, AdminContentCreateSchema),
      async run(context, body) {
        const content = await context.admin.content.create(body);
        if (!context.json) context.print(`created content ${content.id}`);
        printContent(context, content);
      },
    }),
    update: subcommand({
      usage: 'update ID [options]',
      summary: 'Change a page or blog post; options not given keep their values.',
      positionals: ['ID'],
      options: fieldOptions(CHANGE_FIELDS),
      optionHelp: [ID_ARGUMENT.help, ...fieldHelp(CHANGE_FIELDS)],
      input: ({ values }) => nestedBodyFrom<AdminContentPatch>(values, CHANGE_FIELDS, AdminContentPatchSchema),
      async run(context, patch) {
        printContent(context, await context.admin.content.update(context.args[0]!, patch));
      },
    }),
    delete: deleteSubcommand(
      ID_ARGUMENT,
      'content',
      'Delete a page or blog post and its watches; its labels stay.',
      async (context, id) => {
        await context.admin.content.delete(id);
        return id;
      },
    ),
  },
};
