/**
 * The site's settings and cloudId (docs/behaviour.md §2, §9). The cloudId is stable once
 * created, so it is read-only here. Groups the settings name are created when
 * absent, as the seed and first start do.
 */
import type { Kysely } from 'kysely';
import type { AdminSite, AdminSitePatch } from '../../schemas/admin.ts';
import { isUniqueViolation } from '../../store/database.ts';
import { ensureGroup } from '../../store/groups.ts';
import type { Database } from '../../store/schema.ts';
import {
  findDefaultSite,
  findSiteByHost,
  findSiteById,
  hostOfBaseUrl,
  type StoredSite,
  updateSite,
} from '../../store/site.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { checkGroupName, keepingAnAdmin } from './common.ts';

/** The same rule as --base-url (config.ts): http(s), a host, an optional path; no query or fragment. */
const BASE_URL = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

/** The server's own host serves the default site at the root; another site there would take the root away. */
export const serverHostTaken = (baseUrl: string, host: string) =>
  `baseUrl ${baseUrl}: ${host} is this server's own address, where the default site is served; use a host of its own or leave baseUrl out`;

export function checkBaseUrl(baseUrl: string): void {
  if (!BASE_URL.test(baseUrl)) {
    throw badRequest(
      `baseUrl "${baseUrl}" must be an http:// or https:// URL with no query or fragment, e.g. https://confluence.example.com`,
    );
  }
}

/** The administration API's site settings (docs/behaviour.md §9); the CLI's `site` command uses it too. */
export class SiteAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly siteId: number,
    /** The server base URL, when known (not in the CLI): no other site may take its host. */
    private readonly serverBaseUrl?: string,
  ) {}

  /** `effectiveBaseUrl`: the base URL requests see, when there are requests (not in the CLI). */
  async get(effectiveBaseUrl?: string): Promise<AdminSite> {
    const site = await this.#stored();
    return {
      cloudId: site.cloudId,
      baseUrl: site.baseUrl,
      ...(effectiveBaseUrl !== undefined && { effectiveBaseUrl }),
      ...site.settings,
    };
  }

  async update(patch: AdminSitePatch): Promise<void> {
    const { baseUrl, ...settings } = patch;
    if (baseUrl !== undefined) checkBaseUrl(baseUrl);
    for (const field of ['canUseGroups', 'adminGroups'] as const) {
      const names = settings[field];
      if (names === undefined) continue;
      if (names.length === 0) throw badRequest(`${field} must name at least one group`);
      for (const [i, name] of names.entries()) checkGroupName(name, `${field}[${i}]`);
      settings[field] = [...new Set(names)];
    }
    await this.#hostFree(baseUrl);
    await keepingAnAdmin(this.db, this.siteId, 'This change of adminGroups', async (trx) => {
      for (const name of new Set([...(settings.canUseGroups ?? []), ...(settings.adminGroups ?? [])]))
        await ensureGroup(trx, this.siteId, name);
      await updateSite(trx, this.siteId, { baseUrl: baseUrl?.replace(/\/+$/, ''), settings });
    }).catch(async (error: unknown) => {
      // Another site took the host between the check and the update.
      if (isUniqueViolation(error)) {
        await this.#hostFree(baseUrl);
        throw conflict(`baseUrl ${baseUrl}: another site took its host at the same time`);
      }
      throw error;
    });
  }

  /** A base URL without a path picks its site by Host (docs/behaviour.md §10): no two sites may name one host. */
  async #hostFree(baseUrl: string | undefined): Promise<void> {
    const host = hostOfBaseUrl(baseUrl ?? null);
    if (host === null) return;
    const holder = await findSiteByHost(this.db, host);
    if (holder && holder.id !== this.siteId)
      throw conflict(`baseUrl ${baseUrl}: another site is served at host ${host}`);
    const isDefault = (await findDefaultSite(this.db))?.id === this.siteId;
    if (!isDefault && this.serverBaseUrl !== undefined && host === hostOfBaseUrl(this.serverBaseUrl))
      throw conflict(serverHostTaken(baseUrl!, host));
  }

  /**
   * The groups the site's settings name, as first start makes them
   * (domain/bootstrap.ts), so the CLI can manage users on a database no
   * server has started on yet.
   */
  async ensure(): Promise<void> {
    const site = await this.#stored();
    for (const name of new Set([...site.settings.canUseGroups, ...site.settings.adminGroups]))
      await ensureGroup(this.db, this.siteId, name);
  }

  async #stored(): Promise<StoredSite> {
    const site = await findSiteById(this.db, this.siteId);
    if (!site) throw notFound(`Site ${this.siteId} does not exist`);
    return site;
  }
}
