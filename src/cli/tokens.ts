/** `userplane tokens …`: the CLI face of the API-token routes of /admin/api (docs/behaviour.md §9). */
import { type AdminTokenCreate, AdminTokenCreateSchema } from '../schemas/admin.ts';
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
import { listFooter, table } from './framework/output.ts';
import { type Command, subcommand } from './framework/runner.ts';

const CREATE_FIELDS: FieldOption[] = [
  { flag: 'name', field: 'name', kind: 'string', help: 'a label for the token; default "API token"' },
  {
    flag: 'expires-at',
    field: 'expiresAt',
    kind: 'string',
    help: 'ISO-8601 date-time when it stops working; default never',
  },
];
const USER_OPTION = '  --user USER  an accountId or an email address (required)';

function userOption({ values }: Invocation): string {
  const user = values.user;
  if (typeof user !== 'string' || user === '')
    throw new CliUsageError('--user is required: an accountId or an email address');
  return user;
}

export const tokensCommand: Command = {
  name: 'tokens',
  summary: "Issue, list and revoke users' API tokens.",
  subcommands: {
    create: subcommand({
      usage: 'create --user USER [--name NAME] [--expires-at DATE]',
      summary: 'Issue an API token. It is printed only this once; only its digest is stored.',
      options: { user: { type: 'string' }, ...fieldOptions(CREATE_FIELDS) },
      optionHelp: [USER_OPTION, ...fieldHelp(CREATE_FIELDS)],
      input: (invocation) => ({
        user: userOption(invocation),
        body: bodyFrom<AdminTokenCreate>(invocation.values, CREATE_FIELDS, AdminTokenCreateSchema),
      }),
      async run(context, { user: ref, body }) {
        const user = await context.admin.users.findByRef(ref);
        const created = await context.admin.tokens.create(user.accountId, body);
        if (context.json) return context.print(JSON.stringify(created, null, 2));
        context.print(
          [
            `API token for ${user.email || user.accountId}, shown only this once:`,
            `  ${created.token}`,
            `id ${created.id}, name "${created.name}", ${created.expiresAt ? `expires ${created.expiresAt}` : 'never expires'}`,
            `Use it as Basic credentials: ${user.email}:<token>`,
          ].join('\n'),
        );
      },
    }),
    list: subcommand({
      usage: 'list --user USER [--start N] [--limit N]',
      summary: "List a user's API tokens: ids and names, never the tokens.",
      options: { user: { type: 'string' }, ...PAGE_OPTIONS },
      optionHelp: [USER_OPTION, ...PAGE_HELP],
      input: (invocation) => ({ user: userOption(invocation), page: pageFrom(invocation.values) }),
      async run(context, { user: ref, page }) {
        const user = await context.admin.users.findByRef(ref);
        const list = await context.admin.tokens.list(user.accountId, page);
        if (context.json) return context.print(JSON.stringify(list, null, 2));
        const rows = list.results.map((t) => [t.id, t.name, t.createdAt, t.expiresAt ?? 'never']);
        context.print(`${table(['ID', 'NAME', 'CREATED', 'EXPIRES'], rows)}\n${listFooter(list)}`);
      },
    }),
    revoke: {
      usage: 'revoke ID',
      summary: 'Revoke an API token by id; it stops working within a second.',
      positionals: ['ID'],
      optionHelp: ['  ID           the token id, as "tokens list" shows it'],
      async run(context) {
        await context.admin.tokens.revoke(context.args[0]!);
        context.print(context.json ? JSON.stringify({ revoked: context.args[0] }) : `revoked token ${context.args[0]}`);
      },
    },
  },
};
