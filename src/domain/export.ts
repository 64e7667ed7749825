/**
 * Export and import of one site (docs/behaviour.md §11).
 *
 * - An export is the site's whole state as a seed document (§8), every list
 *   sorted by its natural key (code-point order, the same on both stores),
 *   so two exports diff line by line. API tokens and app secrets exist only
 *   as digests and ciphertexts: they are left out, and `omitted` says so.
 * - An import is the seed loader (domain/seed.ts) in one transaction, with
 *   §8's rules; of `site`, only the settings apply. Its counts come from
 *   comparing the site before and after, section by section, by natural key:
 *   `created` is what is new, `updated` what existed and is now different.
 */
import type { Kysely } from 'kysely';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { SeedFile } from '../schemas/seed.ts';
import { SiteSettingsSchema } from '../schemas/site.ts';
import { IMPORT_SECTIONS, type ImportSection, type ImportSummary } from '../schemas/transfer.ts';
import type { Db } from '../store/database.ts';
import {
  exportApps,
  exportContent,
  exportContentLinks,
  exportGroupNames,
  exportLabels,
  exportMemberships,
  exportProperties,
  exportSpaces,
  exportSpaceViews,
  exportTokenDigests,
  exportUsers,
  exportWatches,
} from '../store/export.ts';
import type { Database } from '../store/schema.ts';
import { findSiteById } from '../store/site.ts';
import { keepingAnAdmin } from './admin/common.ts';
import { badRequest, notFound } from './errors.ts';
import type { Secrets } from './secrets.ts';
import { checkSeed, loadSeedInto, SeedError } from './seed.ts';

/** What an export never holds (only digests and ciphertexts are stored); the seed loader ignores it. */
export const OMITTED = ['apps[].clientSecret', 'apps[].sharedSecret', 'users[].apiTokens'] as const;

type Entry<K extends keyof SeedFile> = NonNullable<SeedFile[K]> extends readonly (infer T)[] ? T : never;

/** Code-point order, as `COLLATE "C"` and SQLite's BINARY: the same on both stores and every locale. */
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Content ids are numeric strings: by length, then text, which is numeric order. */
const compareIds = (a: string, b: string) => a.length - b.length || compareText(a, b);
const sorted = (values: Iterable<string>) => [...values].sort(compareText);

/** Appends `value` to the list under `key`. */
function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** What an import compares besides the document: the secrets' fingerprints, never the secrets. */
interface Hidden {
  tokens: Map<string, string[]>;
  appSecrets: Map<string, string>;
}

async function readSite(db: Db, siteId: number, secrets?: Secrets): Promise<{ document: SeedFile; hidden: Hidden }> {
  const site = await findSiteById(db, siteId);
  if (!site) throw notFound(`Site ${siteId} does not exist`);
  const settings = Object.fromEntries(
    Object.keys(SiteSettingsSchema.properties)
      .filter((name) => name in site.settings)
      .map((name) => [name, site.settings[name as keyof typeof site.settings]]),
  );

  const groupsOf = new Map<string, string[]>();
  for (const { group, accountId } of await exportMemberships(db, siteId)) push(groupsOf, accountId, group);
  const users: Entry<'users'>[] = (await exportUsers(db, siteId))
    .sort((a, b) => compareText(a.accountId, b.accountId))
    .map((user) => ({
      accountId: user.accountId,
      email: user.email,
      displayName: user.displayName,
      publicName: user.publicName,
      timeZone: user.timeZone,
      emailVisibility: user.emailVisibility,
      ...(user.username !== null && { username: user.username }),
      ...(user.userKey !== null && { userKey: user.userKey }),
      externalCollaborator: user.externalCollaborator,
      active: user.active,
      groups: sorted(groupsOf.get(user.accountId) ?? []),
    }));

  const views = await exportSpaceViews(db, siteId);
  const viewGroups = new Map<string, string[]>();
  const viewUsers = new Map<string, string[]>();
  for (const { space, group } of views.groups) push(viewGroups, space, group);
  for (const { space, accountId } of views.users) push(viewUsers, space, accountId);
  const spaces: Entry<'spaces'>[] = (await exportSpaces(db, siteId))
    .sort((a, b) => compareText(a.key, b.key))
    .map((space) => ({
      key: space.key,
      name: space.name,
      type: space.type,
      // A personal space whose owner was deleted keeps no owner: null (§2).
      ...(space.type === 'personal' && { owner: space.owner }),
      view: {
        groups: sorted(viewGroups.get(space.key) ?? []),
        users: sorted(viewUsers.get(space.key) ?? []),
        anonymous: space.anonymous,
      },
    }));

  const links = await exportContentLinks(db, siteId);
  const labelsOf = new Map<string, string[]>();
  const restrictedUsers = new Map<string, string[]>();
  const restrictedGroups = new Map<string, string[]>();
  for (const { content, label } of links.labels) push(labelsOf, content, label);
  for (const { content, accountId } of links.users) push(restrictedUsers, content, accountId);
  for (const { content, group } of links.groups) push(restrictedGroups, content, group);
  const content: Entry<'content'>[] = (await exportContent(db, siteId))
    .sort((a, b) => compareIds(a.id, b.id))
    .map((item) => ({
      id: item.id,
      type: item.type,
      space: item.space,
      title: item.title,
      labels: sorted(labelsOf.get(item.id) ?? []),
      restrictions: {
        users: sorted(restrictedUsers.get(item.id) ?? []),
        groups: sorted(restrictedGroups.get(item.id) ?? []),
      },
    }));

  const storedApps = (await exportApps(db, siteId)).sort((a, b) => compareText(a.key, b.key));
  const apps: Entry<'apps'>[] = storedApps.map((app) => ({
    key: app.key,
    ...(app.kind === 'forge' && { kind: app.kind }),
    name: app.name,
    accountId: app.accountId,
    clientKey: app.clientKey,
    ...(app.oauthClientId !== null && { oauthClientId: app.oauthClientId }),
    scopes: app.scopes,
    emailAccess: app.emailAccess,
  }));

  const rank = (w: Entry<'watches'>) => (w.content !== undefined ? 0 : w.space !== undefined ? 1 : 2);
  const watches: Entry<'watches'>[] = (await exportWatches(db, siteId)).sort(
    (a, b) =>
      compareText(a.user, b.user) ||
      rank(a) - rank(b) ||
      (a.content !== undefined
        ? compareIds(a.content, b.content!)
        : compareText((a.space ?? a.label)!, (b.space ?? b.label)!)),
  );

  const properties: Entry<'properties'>[] = (await exportProperties(db, siteId))
    .sort(
      (a, b) =>
        compareText(a.product, b.product) ||
        compareText(a.namespace, b.namespace) ||
        compareText(a.accountId, b.accountId) ||
        compareText(a.key, b.key),
    )
    .map((property) => ({
      product: property.product,
      ...(property.namespace !== '' && { app: property.namespace }),
      user: property.accountId,
      key: property.key,
      value: JSON.parse(property.valueJson) as unknown,
    }));

  const document: SeedFile = {
    site: {
      name: site.name,
      cloudId: site.cloudId,
      ...(site.baseUrl !== null && { baseUrl: site.baseUrl }),
      ...settings,
    },
    groups: sorted(await exportGroupNames(db, siteId)),
    users,
    labels: sorted(await exportLabels(db, siteId)),
    spaces,
    content,
    apps,
    watches,
    properties,
    omitted: [...OMITTED],
  };

  const hidden: Hidden = { tokens: new Map(), appSecrets: new Map() };
  if (secrets) {
    for (const { accountId, digest } of await exportTokenDigests(db, siteId)) push(hidden.tokens, accountId, digest);
    for (const app of storedApps) {
      const shared = secrets.digest(secrets.decrypt(app.sharedSecretSealed));
      hidden.appSecrets.set(app.key, JSON.stringify([shared, app.clientSecretDigest]));
    }
  }
  return { document, hidden };
}

/** The site's whole state as a seed document (docs/behaviour.md §11). */
export async function exportSite(db: Db, siteId: number): Promise<SeedFile> {
  return (await readSite(db, siteId)).document;
}

/** Each section's rows by natural key, with what makes two states of a row differ. */
function fingerprints(state: { document: SeedFile; hidden: Hidden }): Record<ImportSection, Map<string, string>> {
  const { document: d, hidden } = state;
  const byKey = <T>(rows: readonly T[] | undefined, key: (row: T) => string, extra?: (row: T) => unknown) =>
    new Map((rows ?? []).map((row) => [key(row), JSON.stringify([row, extra?.(row)])]));
  return {
    users: byKey(
      d.users,
      (u) => u.accountId!,
      (u) => sorted(hidden.tokens.get(u.accountId!) ?? []),
    ),
    groups: byKey(d.groups, (g) => g),
    apps: byKey(
      d.apps,
      (a) => a.key,
      (a) => hidden.appSecrets.get(a.key),
    ),
    spaces: byKey(d.spaces, (s) => s.key),
    content: byKey(d.content, (c) => c.id),
    labels: byKey(d.labels, (l) => l),
    watches: byKey(d.watches, (w) => JSON.stringify(w)),
    properties: byKey(d.properties, (p) => JSON.stringify([p.product, p.app ?? '', p.user, p.key])),
  };
}

function countChanges(
  before: Record<ImportSection, Map<string, string>>,
  after: Record<ImportSection, Map<string, string>>,
): ImportSummary {
  const summary = {} as ImportSummary;
  for (const section of IMPORT_SECTIONS) {
    let created = 0;
    let updated = 0;
    for (const [key, value] of after[section]) {
      const old = before[section].get(key);
      if (old === undefined) created++;
      else if (old !== value) updated++;
    }
    summary[section] = { created, updated };
  }
  return summary;
}

/** `POST /admin/api/import` and `userplane import` (docs/behaviour.md §11) for one site. */
export class SiteTransfer {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: Secrets,
    private readonly siteId: number,
  ) {}

  export(): Promise<SeedFile> {
    return exportSite(this.db, this.siteId);
  }

  /**
   * Loads a seed document into the site, all or nothing: a problem is a 400
   * naming every path (`users[3].email: …`); a document that would leave the
   * site without an active admin is a 409. `name`, `cloudId` and `baseUrl`
   * of its `site` are ignored.
   */
  async import(document: unknown): Promise<ImportSummary> {
    let seed: SeedFile;
    try {
      seed = checkSeed(document ?? {}, 'import');
    } catch (error) {
      throw refused(error);
    }
    const { name: _name, cloudId: _cloudId, baseUrl: _baseUrl, ...settings } = seed.site ?? {};
    const { site: _site, ...sections } = seed;
    const applied: SeedFile = { ...(seed.site && { site: settings }), ...sections };
    return keepingAnAdmin(this.db, this.siteId, 'This import', async (trx) => {
      const before = fingerprints(await readSite(trx, this.siteId, this.secrets));
      await loadSeedInto(trx, this.siteId, this.secrets, applied, 'import').catch((error: unknown) => {
        throw refused(error);
      });
      return countChanges(before, fingerprints(await readSite(trx, this.siteId, this.secrets)));
    });
  }
}

/** A SeedError as a 400 naming each problem's path; anything else as it is. */
function refused(error: unknown): unknown {
  if (error instanceof SeedError) return badRequest(`The document is not valid: ${error.problems.join('; ')}`);
  return error;
}

export type DocumentFormat = 'json' | 'yaml';

/** The document as text: JSON indented by two, or YAML, both ending in a newline. */
export function formatDocument(document: SeedFile, format: DocumentFormat): string {
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  return stringifyYaml(document, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** A YAML (or JSON) document's text as a value; a syntax error is a 400 naming its line. */
export function parseDocument(text: string): unknown {
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    throw badRequest(`The document is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}
