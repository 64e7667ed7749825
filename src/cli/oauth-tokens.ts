/** `userplane oauth-tokens …`: the CLI face of the bearer-token routes of /admin/api (docs/behaviour.md §9). */
import { CliUsageError, type Invocation, PAGE_HELP, PAGE_OPTIONS, pageFrom } from './framework/fields.ts';
import { listFooter, table } from './framework/output.ts';
import { type Command, subcommand } from './framework/runner.ts';

const APP_OPTION = '  --app KEY    the app key (required)';

function appOption({ values }: Invocation): string {
  const app = values.app;
  if (typeof app !== 'string' || app === '') throw new CliUsageError('--app is required: an app key');
  return app;
}

export const oauthTokensCommand: Command = {
  name: 'oauth-tokens',
  summary: "List and revoke apps' bearer tokens (POST /oauth2/token).",
  subcommands: {
    list: subcommand({
      usage: 'list --app KEY [--start N] [--limit N]',
      summary: "List an app's bearer tokens: ids, users, scopes and lifetimes, never the tokens.",
      options: { app: { type: 'string' }, ...PAGE_OPTIONS },
      optionHelp: [APP_OPTION, ...PAGE_HELP],
      input: (invocation) => ({ app: appOption(invocation), page: pageFrom(invocation.values) }),
      async run(context, { app, page }) {
        const list = await context.admin.oauthTokens.list(app, page);
        if (context.json) return context.print(JSON.stringify(list, null, 2));
        const rows = list.results.map((t) => [
          t.id,
          t.accountId === null ? 'asApp' : `asUser ${t.accountId}`,
          t.scopes.join(' '),
          t.createdAt,
          t.expiresAt,
        ]);
        context.print(`${table(['ID', 'AS', 'SCOPES', 'CREATED', 'EXPIRES'], rows)}\n${listFooter(list)}`);
      },
    }),
    revoke: {
      usage: 'revoke ID',
      summary: 'Revoke a bearer token by id; it stops working within a second.',
      positionals: ['ID'],
      optionHelp: ['  ID           the token id, as "oauth-tokens list" shows it'],
      async run(context) {
        const id = context.args[0]!;
        await context.admin.oauthTokens.revoke(id);
        context.print(context.json ? JSON.stringify({ revoked: id }) : `revoked bearer token ${id}`);
      },
    },
    'revoke-all': subcommand({
      usage: 'revoke-all --app KEY',
      summary: 'Revoke every bearer token of an app, asApp and asUser; they stop working within a second.',
      options: { app: { type: 'string' } },
      optionHelp: [APP_OPTION],
      input: (invocation) => appOption(invocation),
      async run(context, app) {
        const count = await context.admin.oauthTokens.revokeAll(app);
        context.print(
          context.json
            ? JSON.stringify({ app, revoked: count })
            : `revoked ${count} bearer token${count === 1 ? '' : 's'} of app ${app}`,
        );
      },
    }),
  },
};
