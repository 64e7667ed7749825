/**
 * The seed loader (SPEC §8). A file is read, checked whole — schema, then
 * references — and loaded in one transaction, so a bad file changes nothing.
 * Rows are upserted by natural key; memberships, tokens and properties are
 * only ever added, so loading a file twice, or restarting with --seed,
 * never overwrites live data.
 */
import { readFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { parse as parseYaml } from 'yaml';
import { SeedFileSchema, type SeedFile } from '../schemas/seed.ts';
import { takenAppField, upsertApp } from '../store/apps.ts';
import { addGroupMember, ensureGroup, groupExists } from '../store/groups.ts';
import { insertProperty, propertyExists } from '../store/properties.ts';
import type { Database } from '../store/schema.ts';
import { ensureSite, readSite, updateSite } from '../store/site.ts';
import { ensureApiToken } from '../store/tokens.ts';
import { findUser, findUserByEmail, takenUserField, upsertUser } from '../store/users.ts';
import { botAccountId, type App } from './apps.ts';
import { ApiError } from './errors.ts';
import type { Secrets } from './secrets.ts';
import { serializeValue } from './user-properties.ts';
import { newAccountId, type User } from './users.ts';
import { schemaProblems } from './validation.ts';

export class SeedError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'SeedError';
  }
}

export interface SeedSummary {
  users: number;
  groups: number;
  apps: number;
  propertiesAdded: number;
}

/** Reads and checks a YAML or JSON seed file (YAML is a superset of JSON). */
export async function readSeedFile(path: string): Promise<SeedFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SeedError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  let document: unknown;
  try {
    document = parseYaml(text) ?? {};
  } catch (error) {
    throw new SeedError(path, [`not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  return checkSeed(document, path);
}

export function checkSeed(document: unknown, source = 'seed'): SeedFile {
  const problems = schemaProblems(SeedFileSchema, document);
  if (problems.length > 0) throw new SeedError(source, problems);
  return document as SeedFile;
}

export async function loadSeed(db: Kysely<Database>, secrets: Secrets, seed: SeedFile, source = 'seed'): Promise<SeedSummary> {
  const problems: string[] = [];
  const summary = await db.transaction().execute(async (trx) => {
    const summary: SeedSummary = { users: 0, groups: 0, apps: 0, propertiesAdded: 0 };
    const { site: siteSection, ...rest } = seed;
    await ensureSite(trx, siteSection?.cloudId);
    if (siteSection) {
      const { cloudId, baseUrl, ...settings } = siteSection;
      await updateSite(trx, { cloudId, baseUrl, settings });
    }
    const site = (await readSite(trx))!;

    // Groups named by the site, the file, or an earlier load may be referenced.
    const groupNames = new Set([...site.settings.canUseGroups, ...site.settings.adminGroups, ...(rest.groups ?? [])]);
    for (const name of groupNames) await ensureGroup(trx, name);
    summary.groups = groupNames.size;
    const knownGroup = async (name: string) => groupNames.has(name) || (await groupExists(trx, name));

    const seededUsers = new Set<string>();
    const knownUser = async (accountId: string) => seededUsers.has(accountId) || (await findUser(trx, accountId)) !== undefined;

    for (const [i, user] of (rest.users ?? []).entries()) {
      const path = `users[${i}]`;
      const accountId = user.accountId ?? (await findUserByEmail(trx, user.email))?.accountId ?? newAccountId();
      const knownGroups: string[] = [];
      for (const [g, group] of (user.groups ?? []).entries()) {
        if (await knownGroup(group)) knownGroups.push(group);
        else problems.push(`${path}.groups[${g}]: group "${group}" is not defined in groups`);
      }
      // Fields the file leaves out keep their stored values: a restart with
      // --seed does not reactivate a deactivated user or undo a rename.
      const existing = await findUser(trx, accountId);
      const record: User = {
        accountId,
        accountType: 'atlassian',
        email: user.email,
        displayName: user.displayName,
        publicName: user.publicName ?? existing?.publicName ?? user.displayName,
        timeZone: user.timeZone ?? existing?.timeZone ?? 'UTC',
        emailVisibility: user.emailVisibility ?? existing?.emailVisibility ?? 'admins',
        username: user.username ?? existing?.username ?? null,
        userKey: user.userKey ?? existing?.userKey ?? null,
        externalCollaborator: user.externalCollaborator ?? existing?.externalCollaborator ?? false,
        active: user.active ?? existing?.active ?? true,
      };
      // One row per accountId: neither a second entry for it nor an app's bot may overwrite a user.
      if (seededUsers.has(accountId)) {
        problems.push(`${path}.${user.accountId === undefined ? 'email' : 'accountId'}: this user is already listed above`);
        continue;
      }
      if (existing?.accountType === 'app') {
        problems.push(`${path}.accountId: already belongs to an app's bot user`);
        continue;
      }
      const taken = await takenUserField(trx, record);
      if (taken) {
        problems.push(`${path}.${taken}: already belongs to another user`);
        continue;
      }
      await upsertUser(trx, record);
      seededUsers.add(accountId);
      for (const group of knownGroups) await addGroupMember(trx, group, accountId);
      for (const token of user.apiTokens ?? []) {
        await ensureApiToken(trx, { accountId, name: 'seed', digest: secrets.digest(token) });
      }
      summary.users++;
    }

    const appKeys = new Set<string>();
    for (const [i, app] of (rest.apps ?? []).entries()) {
      if (appKeys.has(app.key)) {
        problems.push(`apps[${i}].key: app "${app.key}" is already listed above`);
        continue;
      }
      const record: App = {
        key: app.key,
        name: app.name,
        clientKey: app.clientKey,
        sharedSecret: app.sharedSecret,
        oauthClientId: app.oauthClientId ?? null,
        scopes: app.scopes ?? ['READ'],
        emailAccess: app.emailAccess ?? false,
        accountId: app.accountId ?? botAccountId(app.key),
      };
      // The bot's accountId must not be a person's: upserting the bot would overwrite them.
      const person = seededUsers.has(record.accountId) || (await findUser(trx, record.accountId))?.accountType === 'atlassian';
      const taken = (await takenAppField(trx, record)) ?? (person ? 'accountId' : undefined);
      if (taken) {
        problems.push(`apps[${i}].${taken}: already belongs to another app or user`);
        continue;
      }
      await upsertUser(trx, {
        accountId: record.accountId,
        accountType: 'app',
        email: '',
        displayName: app.name,
        publicName: app.name,
        timeZone: 'UTC',
        emailVisibility: 'private',
        username: null,
        userKey: null,
        externalCollaborator: false,
        active: true,
      });
      await upsertApp(trx, secrets, { ...record, clientSecret: app.clientSecret ?? null });
      appKeys.add(app.key);
      summary.apps++;
    }
    const knownApp = async (key: string) =>
      appKeys.has(key) || (await trx.selectFrom('apps').select('key').where('key', '=', key).executeTakeFirst()) !== undefined;

    await checkContentReferences(rest, knownGroup, knownUser, problems);

    for (const [i, property] of (rest.properties ?? []).entries()) {
      const path = `properties[${i}]`;
      if (!(await knownUser(property.user))) problems.push(`${path}.user: no user with accountId "${property.user}"`);
      if (property.app !== undefined && !(await knownApp(property.app))) problems.push(`${path}.app: no app with key "${property.app}"`);
      if (property.app !== undefined && property.product === 'jira') {
        problems.push(`${path}.app: Jira properties are not app-isolated; leave app out`);
      }
      let value: string;
      try {
        value = property.product === 'confluence' ? serializeValue(property, site.settings) : serializeJiraValue(property.value);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        problems.push(`${path}.value: ${error.message}`);
        continue;
      }
      if (problems.length > 0) continue;
      const at = { product: property.product, namespace: property.app ?? '', accountId: property.user, key: property.key };
      if (!(await propertyExists(trx, at))) {
        await insertProperty(trx, at, value);
        summary.propertiesAdded++;
      }
    }

    // Nothing of a file with problems is kept.
    if (problems.length > 0) throw new SeedError(source, problems);
    return summary;
  });
  return summary;
}

function serializeJiraValue(value: unknown): string {
  if (value === undefined || value === null) throw new ApiError('bad_request', 'value is empty');
  return JSON.stringify(value);
}

/**
 * Spaces, content, labels and watches are checked for consistency here;
 * loading them arrives with the watch model. Labels are lower-cased names.
 */
async function checkContentReferences(
  seed: SeedFile,
  knownGroup: (name: string) => Promise<boolean>,
  knownUser: (accountId: string) => Promise<boolean>,
  problems: string[],
): Promise<void> {
  const spaces = new Set((seed.spaces ?? []).map((s) => s.key));
  const content = new Set((seed.content ?? []).map((c) => c.id));
  const labels = new Set([
    ...(seed.labels ?? []).map((l) => l.toLowerCase()),
    ...(seed.content ?? []).flatMap((c) => (c.labels ?? []).map((l) => l.toLowerCase())),
  ]);
  const checkUsers = async (path: string, ids: readonly string[] | undefined) => {
    for (const [i, id] of (ids ?? []).entries()) if (!(await knownUser(id))) problems.push(`${path}[${i}]: no user with accountId "${id}"`);
  };
  const checkGroups = async (path: string, names: readonly string[] | undefined) => {
    for (const [i, name] of (names ?? []).entries()) {
      if (!(await knownGroup(name))) problems.push(`${path}[${i}]: group "${name}" is not defined in groups`);
    }
  };

  for (const [i, space] of (seed.spaces ?? []).entries()) {
    const path = `spaces[${i}]`;
    if (space.type === 'personal' && space.owner === undefined) problems.push(`${path}.owner: a personal space needs an owner`);
    if (space.type !== 'personal' && space.owner !== undefined) problems.push(`${path}.owner: only a personal space has an owner`);
    if (space.owner !== undefined && !(await knownUser(space.owner))) problems.push(`${path}.owner: no user with accountId "${space.owner}"`);
    await checkUsers(`${path}.view.users`, space.view?.users);
    await checkGroups(`${path}.view.groups`, space.view?.groups);
  }
  for (const [i, item] of (seed.content ?? []).entries()) {
    const path = `content[${i}]`;
    if (!spaces.has(item.space)) problems.push(`${path}.space: space "${item.space}" is not defined in spaces`);
    await checkUsers(`${path}.restrictions.users`, item.restrictions?.users);
    await checkGroups(`${path}.restrictions.groups`, item.restrictions?.groups);
  }
  for (const [i, watch] of (seed.watches ?? []).entries()) {
    const path = `watches[${i}]`;
    const targets = [watch.content, watch.space, watch.label].filter((t) => t !== undefined);
    if (targets.length !== 1) problems.push(`${path}: name exactly one of content, space or label`);
    if (!(await knownUser(watch.user))) problems.push(`${path}.user: no user with accountId "${watch.user}"`);
    if (watch.content !== undefined && !content.has(watch.content)) problems.push(`${path}.content: content "${watch.content}" is not defined in content`);
    if (watch.space !== undefined && !spaces.has(watch.space)) problems.push(`${path}.space: space "${watch.space}" is not defined in spaces`);
    if (watch.label !== undefined && !labels.has(watch.label.toLowerCase())) problems.push(`${path}.label: label "${watch.label}" is not defined in labels`);
  }
}
