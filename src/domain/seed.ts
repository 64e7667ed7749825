/**
 * The seed loader (docs/behaviour.md §8). A file is read, checked whole — schema, then
 * references — and loaded in one transaction, so a bad file changes nothing.
 * Rows are upserted by natural key; memberships, tokens, labels on content,
 * properties and watches are only ever added, so loading a file twice, or
 * restarting with --seed, never overwrites live data. Spaces, content,
 * labels and watches are checked and loaded by domain/seed-content.ts.
 */
import { readFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';
import { schemaProblems } from '../lib/schema-errors.ts';
import { type SeedFile, SeedFileSchema } from '../schemas/seed.ts';
import { appExists, findSealedAppByKey, takenAppField, upsertApp } from '../store/apps.ts';
import type { Db } from '../store/database.ts';
import { addMembersById, ensureGroup, findGroup } from '../store/groups.ts';
import { countProperties, insertProperties, type PropertyAddress, propertyExists } from '../store/properties.ts';
import type { Database } from '../store/schema.ts';
import { ensureDefaultSite, findDefaultSite, findSiteById, updateSite } from '../store/site.ts';
import { ensureApiTokens } from '../store/tokens.ts';
import { findUser, findUserByEmail, takenUserField, upsertUser } from '../store/users.ts';
import {
  type App,
  appKeyProblem,
  botAccountId,
  botUser,
  clientKeyOf,
  defaultScopes,
  forgeScopeProblem,
  isForgeAppId,
  sealApp,
  whyTaken,
} from './apps.ts';
import { ApiError } from './errors.ts';
import { endTokensOnRotation } from './oauth.ts';
import { checkPropertyAllowance, checkPropertyKey, serializePropertyValue } from './property-rules.ts';
import { newSecretKey, type Secrets } from './secrets.ts';
import { type ContentSummary, checkContentSections, loadContentSections } from './seed-content.ts';
import { newAccountId, type User } from './users.ts';

export class SeedError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'SeedError';
  }
}

export interface SeedSummary extends ContentSummary {
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

/** Compiled once: most documents are valid, and a valid one then costs one compiled check. */
const validSeed = Compile(SeedFileSchema);

export function checkSeed(document: unknown, source = 'seed'): SeedFile {
  if (validSeed.Check(document)) return document as SeedFile;
  const problems = schemaProblems(SeedFileSchema, document);
  if (problems.length > 0) throw new SeedError(source, problems);
  return document as SeedFile;
}

/**
 * Loads a seed into the default site (created here on a new database, named
 * by the seed's `site.name`), all or nothing.
 */
export async function loadSeed(
  db: Kysely<Database>,
  secrets: Secrets,
  seed: SeedFile,
  source = 'seed',
): Promise<SeedSummary> {
  await ensureDefaultSite(db, seed.site?.name, seed.site?.cloudId);
  return db.transaction().execute(async (trx) => {
    const site = (await findDefaultSite(trx))!;
    return loadSeedInto(trx, site.id, secrets, seed, source);
  });
}

/**
 * Loads a seed into one site, in the caller's transaction; a seed with
 * problems throws a SeedError naming each, and the caller's transaction
 * keeps nothing of it.
 */
export async function loadSeedInto(
  trx: Db,
  siteId: number,
  secrets: Secrets,
  seed: SeedFile,
  source = 'seed',
): Promise<SeedSummary> {
  const problems: string[] = [];
  {
    const summary: SeedSummary = {
      users: 0,
      groups: 0,
      apps: 0,
      propertiesAdded: 0,
      spaces: 0,
      content: 0,
      labels: 0,
      watchesAdded: 0,
    };
    const { site: siteSection, ...rest } = seed;
    if (siteSection) {
      const { name, cloudId, baseUrl, ...settings } = siteSection;
      await updateSite(trx, siteId, { name, cloudId, baseUrl, settings });
    }
    const site = (await findSiteById(trx, siteId))!;

    // Groups named by the site, the file, or an earlier load may be referenced.
    const groupNames = new Set([...site.settings.canUseGroups, ...site.settings.adminGroups, ...(rest.groups ?? [])]);
    /** Ids of the groups known so far: those above, and those of earlier loads once looked up. */
    const groupIds = new Map<string, string>();
    for (const name of groupNames) groupIds.set(name, await ensureGroup(trx, siteId, name));
    summary.groups = groupNames.size;
    const knownGroup = async (name: string) => {
      if (groupIds.has(name)) return true;
      const stored = await findGroup(trx, siteId, name);
      if (stored) groupIds.set(name, stored.id);
      return stored !== undefined;
    };

    const seededUsers = new Set<string>();
    const knownUser = async (accountId: string) =>
      seededUsers.has(accountId) || (await findUser(trx, siteId, accountId)) !== undefined;

    // Memberships and tokens only ever add rows, and nothing below reads them: written together after the users.
    const members: Array<{ groupId: string; accountId: string }> = [];
    const tokens: Array<{ accountId: string; name: string; digest: string }> = [];
    for (const [i, user] of (rest.users ?? []).entries()) {
      const path = `users[${i}]`;
      const accountId = user.accountId ?? (await findUserByEmail(trx, siteId, user.email))?.accountId ?? newAccountId();
      const knownGroups: string[] = [];
      for (const [g, group] of (user.groups ?? []).entries()) {
        if (await knownGroup(group)) knownGroups.push(group);
        else problems.push(`${path}.groups[${g}]: group "${group}" is not defined in groups`);
      }
      // Fields the file leaves out keep their stored values: a restart with
      // --seed does not reactivate a deactivated user or undo a rename.
      const existing = await findUser(trx, siteId, accountId);
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
        problems.push(
          `${path}.${user.accountId === undefined ? 'email' : 'accountId'}: this user is already listed above`,
        );
        continue;
      }
      if (existing?.accountType === 'app') {
        problems.push(`${path}.accountId: already belongs to an app's bot user`);
        continue;
      }
      const taken = await takenUserField(trx, siteId, record);
      if (taken) {
        problems.push(`${path}.${taken}: already belongs to another user`);
        continue;
      }
      await upsertUser(trx, siteId, record);
      seededUsers.add(accountId);
      for (const group of knownGroups) members.push({ groupId: groupIds.get(group)!, accountId });
      for (const token of user.apiTokens ?? []) tokens.push({ accountId, name: 'seed', digest: secrets.digest(token) });
      summary.users++;
    }
    await addMembersById(trx, siteId, members);
    await ensureApiTokens(trx, siteId, tokens);

    const appKeys = new Set<string>();
    for (const [i, app] of (rest.apps ?? []).entries()) {
      if (appKeys.has(app.key)) {
        problems.push(`apps[${i}].key: app "${app.key}" is already listed above`);
        continue;
      }
      // docs/behaviour.md §11: an app without its secrets (as an export writes it) keeps the
      // stored ones; a new one gets a shared secret nobody knows until an admin sets one.
      const kind = app.kind ?? 'connect';
      const clientKey = clientKeyOf(kind, app.key, app.clientKey);
      const invalid = [
        kind === 'forge' ? appKeyProblem(kind, app.key) : undefined,
        kind === 'connect' && isForgeAppId(app.key) ? `key "${app.key}" is an app id: give it kind forge` : undefined,
        clientKey === undefined ? 'clientKey: a Connect app needs its clientKey' : undefined,
        kind === 'forge' ? forgeScopeProblem(app.scopes ?? []) : undefined,
      ].filter((problem) => problem !== undefined);
      if (invalid.length > 0) {
        for (const problem of invalid) problems.push(`apps[${i}].${problem}`);
        continue;
      }
      const stored = app.sharedSecret === undefined ? await findSealedAppByKey(trx, siteId, app.key) : undefined;
      const sharedSecret = app.sharedSecret ?? (stored ? secrets.decrypt(stored.sharedSecretSealed) : newSecretKey());
      const keepsClientSecret = app.sharedSecret === undefined && app.clientSecret === undefined;
      const clientSecret = keepsClientSecret ? undefined : (app.clientSecret ?? null);
      const record: App = {
        key: app.key,
        name: app.name,
        clientKey: clientKey!,
        sharedSecret,
        oauthClientId: app.oauthClientId ?? null,
        scopes: app.scopes ?? defaultScopes(kind),
        emailAccess: app.emailAccess ?? false,
        accountId: app.accountId ?? botAccountId(app.key),
        kind,
      };
      // The bot's accountId must not be a person's: upserting the bot would overwrite them.
      const person =
        seededUsers.has(record.accountId) ||
        (await findUser(trx, siteId, record.accountId))?.accountType === 'atlassian';
      const taken = (await takenAppField(trx, siteId, record)) ?? (person ? 'accountId' : undefined);
      if (taken) {
        problems.push(`apps[${i}].${taken}: ${whyTaken(taken)}`);
        continue;
      }
      await upsertUser(trx, siteId, botUser(record));
      // docs/behaviour.md §9: a seed that changes an app's secrets ends its bearer tokens.
      await endTokensOnRotation(trx, siteId, secrets, record.key, { sharedSecret: record.sharedSecret, clientSecret });
      const sealed = sealApp(secrets, record, clientSecret ?? null);
      if (keepsClientSecret) sealed.clientSecretDigest = stored?.clientSecretDigest ?? null;
      await upsertApp(trx, siteId, sealed);
      appKeys.add(app.key);
      summary.apps++;
    }
    const knownApp = async (key: string) => appKeys.has(key) || (await appExists(trx, siteId, key));

    await checkContentSections(trx, siteId, rest, knownGroup, knownUser, problems);

    // The API's own property rules (domain/property-rules.ts), so a seed
    // cannot create a property the API would refuse or could not address.
    const limits = site.settings;
    /** Per product, namespace and user: how many properties they will hold. */
    const held = new Map<string, number>();
    /** Properties this file adds, by address; a repeat of one is already there. */
    const adding = new Set<string>();
    /** Written together after the checks; `adding` already answers for them within this file. */
    const inserts: Array<{ address: PropertyAddress; value: string }> = [];
    for (const [i, property] of (rest.properties ?? []).entries()) {
      const path = `properties[${i}]`;
      const before = problems.length;
      if (!(await knownUser(property.user))) problems.push(`${path}.user: no user with accountId "${property.user}"`);
      if (property.app !== undefined && !(await knownApp(property.app)))
        problems.push(`${path}.app: no app with key "${property.app}"`);
      if (property.app !== undefined && property.product === 'jira') {
        problems.push(`${path}.app: Jira properties are not app-isolated; leave app out`);
      }
      const keyProblem = brokenRule(() => checkPropertyKey(property.product, property.key, limits));
      if (keyProblem !== undefined) problems.push(`${path}.key: ${keyProblem}`);
      let value = '';
      const valueProblem = brokenRule(() => {
        value = serializePropertyValue(property.product, property.value, limits);
      });
      if (valueProblem !== undefined) problems.push(`${path}.value: ${valueProblem}`);
      if (problems.length > before) continue;
      const at = {
        siteId,
        product: property.product,
        namespace: property.app ?? '',
        accountId: property.user,
        key: property.key,
      };
      // Only ever added: a property that exists keeps its value.
      const address = JSON.stringify([at.product, at.namespace, at.accountId, at.key]);
      if (adding.has(address) || (await propertyExists(trx, at))) continue;
      const owner = JSON.stringify([at.product, at.namespace, at.accountId]);
      const count = held.get(owner) ?? (await countProperties(trx, at));
      const limitProblem = brokenRule(() => checkPropertyAllowance(at.product, at.accountId, count, limits));
      if (limitProblem !== undefined) {
        problems.push(`${path}: ${limitProblem}`);
        continue;
      }
      held.set(owner, count + 1);
      adding.add(address);
      if (problems.length > 0) continue;
      inserts.push({ address: at, value });
      summary.propertiesAdded++;
    }
    if (problems.length === 0) await insertProperties(trx, inserts);

    if (problems.length === 0) Object.assign(summary, await loadContentSections(trx, siteId, rest));

    // Nothing of a file with problems is kept.
    if (problems.length > 0) throw new SeedError(source, problems);
    return summary;
  }
}

/** The message of the rule `check` finds broken (a 400 of the API), or undefined when it holds. */
function brokenRule(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof ApiError) return error.message;
    throw error;
  }
}
