/** `userplane site …`: the CLI face of /admin/api/site (docs/behaviour.md §9). */
import { type AdminSitePatch, AdminSitePatchSchema } from '../schemas/admin.ts';
import { bodyFrom, type FieldOption, fieldHelp, fieldOptions } from './framework/fields.ts';
import { record } from './framework/output.ts';
import { type Command, type CommandContext, subcommand } from './framework/runner.ts';

const SETTING_FIELDS: FieldOption[] = [
  {
    flag: 'anonymous-access',
    field: 'anonymousAccess',
    kind: 'boolean',
    help: 'whether anonymous callers may read users and groups',
  },
  { flag: 'email-api', field: 'emailApi', kind: 'string', help: 'enabled | disabled' },
  {
    flag: 'xsrf-check',
    field: 'xsrfCheck',
    kind: 'boolean',
    help: 'whether watch changes need X-Atlassian-Token: no-check',
  },
  { flag: 'can-use-groups', field: 'canUseGroups', kind: 'list', help: 'groups whose members may use the site' },
  { flag: 'admin-groups', field: 'adminGroups', kind: 'list', help: 'groups whose active members are site admins' },
  { flag: 'max-property-key-length', field: 'maxPropertyKeyLength', kind: 'integer', help: '1..255' },
  { flag: 'max-property-value-bytes', field: 'maxPropertyValueBytes', kind: 'integer', help: '2..1048576' },
  { flag: 'max-properties-per-user', field: 'maxPropertiesPerUser', kind: 'integer', help: 'per user and namespace' },
  {
    flag: 'oauth-token-lifetime-seconds',
    field: 'oauthTokenLifetimeSeconds',
    kind: 'integer',
    help: 'bearer tokens from POST /oauth2/token, 60..86400',
  },
  {
    flag: 'failed-credentials-per-identity',
    field: 'failedCredentialsPerIdentity',
    kind: 'integer',
    help: 'failed credentials a minute naming one email, app or client_id before 429',
  },
  {
    flag: 'failed-credentials-per-address',
    field: 'failedCredentialsPerAddress',
    kind: 'integer',
    help: 'failed credentials a minute from one client address before 429',
  },
  {
    flag: 'journal-size',
    field: 'journalSize',
    kind: 'integer',
    help: 'requests each server instance keeps in the journal, 0..100000; 0 turns it off',
  },
  {
    flag: 'rate-limits',
    field: 'rateLimits',
    kind: 'word-or-json',
    help: 'off | atlassian | a JSON object overriding atlassian\'s numbers: {"burst": {"GET": 5}}',
  },
];
// --base-url is also the server's option; here it sets the stored base URL, which --base-url/BASE_URL override at serve time.
const BASE_URL_FIELD: FieldOption = {
  flag: 'base-url',
  field: 'baseUrl',
  kind: 'string',
  help: 'the stored base URL (serve --base-url overrides it)',
};

async function show(context: CommandContext): Promise<void> {
  const site = await context.admin.site.get();
  context.print(context.json ? JSON.stringify(site, null, 2) : record(site));
}

export const siteCommand: Command = {
  name: 'site',
  summary: "Show and change the site's settings.",
  subcommands: {
    show: { usage: 'show', summary: 'Show the cloudId and settings.', run: show },
    set: subcommand({
      usage: 'set [options]',
      summary: 'Change settings; the ones not given keep their values.',
      options: fieldOptions(SETTING_FIELDS),
      optionHelp: fieldHelp([BASE_URL_FIELD, ...SETTING_FIELDS]),
      input: ({ values }) =>
        bodyFrom<AdminSitePatch>(values, [BASE_URL_FIELD, ...SETTING_FIELDS], AdminSitePatchSchema),
      async run(context, patch) {
        await context.admin.site.update(patch);
        await show(context);
      },
    }),
  },
};
