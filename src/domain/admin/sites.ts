/**
 * The operator's sites (docs/behaviour.md §10): list, create from a seed,
 * read, delete. A site is made in one transaction with its seed and its
 * first start, so a seed with a problem leaves no site behind.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AdminCreatedSite, AdminSiteCreate, AdminSiteSummary } from '../../schemas/admin.ts';
import type { SeedFile } from '../../schemas/seed.ts';
import { isUniqueViolation } from '../../store/database.ts';
import type { Database } from '../../store/schema.ts';
import {
  deleteSite,
  findDefaultSite,
  findSiteByCloudId,
  findSiteByHost,
  findSiteByName,
  hostOfBaseUrl,
  insertSite,
  listSites,
  type StoredSite,
} from '../../store/site.ts';
import { startSite } from '../bootstrap.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import type { Secrets } from '../secrets.ts';
import { checkSeed, loadSeedInto, SeedError } from '../seed.ts';
import { SITE_NAME_PATTERN, type SiteService } from '../site.ts';
import { type AdminList, listOf, type PageRequest, pageOf } from './common.ts';
import { checkBaseUrl, serverHostTaken } from './site.ts';
import { keepSeedState } from './snapshots.ts';

const noSuchSite = (name: string) => notFound(`No site named "${name}"`);

/** A name for a site created without one: `site-` and 10 random letters and digits. */
function generatedName(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `site-${Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join('')}`;
}

export class SitesAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: Secrets,
    private readonly sites: SiteService,
    /**
     * Forgets what this instance holds of a site in memory (its journal, fault
     * rules, rate-limit state), as reset does; none in the CLI.
     */
    private readonly forgetSite: (siteId: number) => void = () => {},
  ) {}

  async list(request: PageRequest = {}): Promise<AdminList<AdminSiteSummary>> {
    const page = pageOf(request);
    const defaultId = (await findDefaultSite(this.db))?.id;
    const { items } = await listSites(this.db, page);
    return listOf(
      items.map((site) => this.#summary(site, defaultId)),
      page,
    );
  }

  async get(name: string): Promise<AdminSiteSummary> {
    const site = await findSiteByName(this.db, name);
    if (!site) throw noSuchSite(name);
    return this.#summary(site, (await findDefaultSite(this.db))?.id);
  }

  /**
   * `name` and `baseUrl` win over the seed's `site`; without a name one is
   * made up. The new site's first start makes an admin unless the seed has
   * an active one (`admin` is then null).
   */
  async create(input: AdminSiteCreate): Promise<AdminCreatedSite> {
    const seed = input.seed === undefined ? {} : checkedSeed(input.seed);
    const name = input.name ?? seed.site?.name ?? generatedName();
    if (!SITE_NAME_PATTERN.test(name))
      throw badRequest(`name "${name}" is not a site name: a lower-case letter, then up to 62 letters, digits or -`);
    const baseUrl = input.baseUrl ?? seed.site?.baseUrl;
    if (baseUrl !== undefined) checkBaseUrl(baseUrl);
    const cloudId = seed.site?.cloudId;
    await this.#explainTaken(name, cloudId, baseUrl);

    const { site, first } = await this.db
      .transaction()
      .execute(async (trx) => {
        const { name: _name, cloudId: _cloudId, baseUrl: _baseUrl, ...settings } = seed.site ?? {};
        const site = await insertSite(trx, { name, cloudId, baseUrl, settings });
        await loadSeedInto(trx, site.id, this.secrets, { ...seed, site: { ...seed.site, name, baseUrl } }, 'seed');
        const first = await startSite(trx, site.id, this.secrets);
        // What reset brings back (docs/behaviour.md §11).
        await keepSeedState(trx, site.id, input.seed === undefined ? null : seed);
        return { site, first };
      })
      .catch(async (error: unknown) => {
        if (error instanceof SeedError) throw seedRefused(error);
        if (isUniqueViolation(error)) {
          await this.#explainTaken(name, cloudId, baseUrl);
          throw conflict(`Site ${name} conflicts with a site created at the same time`);
        }
        throw error;
      });
    this.sites.invalidate();
    const summary = this.#summary(site, undefined);
    return {
      name: summary.name,
      cloudId: summary.cloudId,
      baseUrl: summary.baseUrl,
      admin: first ? { email: first.email, accountId: first.accountId, apiToken: first.apiToken } : null,
    };
  }

  /** Removes the site and everything of it; the default site stays (409). */
  async delete(name: string): Promise<void> {
    const site = await findSiteByName(this.db, name);
    if (!site) throw noSuchSite(name);
    if (site.id === (await findDefaultSite(this.db))?.id)
      throw conflict(`Site ${name} is the server's default site, which cannot be deleted`);
    await deleteSite(this.db, site.id);
    this.sites.invalidate();
    this.forgetSite(site.id);
  }

  async #explainTaken(name: string, cloudId: string | undefined, baseUrl: string | undefined): Promise<void> {
    if (await findSiteByName(this.db, name)) throw conflict(`A site named "${name}" exists`);
    if (cloudId !== undefined && (await findSiteByCloudId(this.db, cloudId)))
      throw conflict(`cloudId ${cloudId} belongs to another site`);
    const host = hostOfBaseUrl(baseUrl ?? null);
    if (host !== null && (await findSiteByHost(this.db, host)))
      throw conflict(`baseUrl ${baseUrl}: another site is served at host ${host}`);
    if (host !== null && host === hostOfBaseUrl(this.sites.serverBaseUrl()))
      throw conflict(serverHostTaken(baseUrl!, host));
  }

  #summary(site: StoredSite, defaultId: number | undefined): AdminSiteSummary {
    const { baseUrl } = this.sites.fromStored(site, defaultId ?? -1);
    return { name: site.name, cloudId: site.cloudId, baseUrl, createdDate: site.createdAt };
  }
}

function checkedSeed(document: unknown): SeedFile {
  try {
    return checkSeed(document, 'seed');
  } catch (error) {
    if (error instanceof SeedError) throw seedRefused(error);
    throw error;
  }
}

/** A seed's problems, each naming its path in the request body. */
function seedRefused(error: SeedError): Error {
  return badRequest(`The seed is not valid: ${error.problems.map((problem) => `seed.${problem}`).join('; ')}`);
}
