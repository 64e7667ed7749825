/**
 * Jira user properties (docs/behaviour.md §6). Jira has one property namespace per user,
 * shared by every caller (apps included), as Jira's entity properties are;
 * only the access rule of docs/behaviour.md §3 decides who reaches it. Checks run in the
 * order of docs/behaviour.md §3: syntax (400) → access rule (403) → existence (404) →
 * state (the property limit's 400).
 */
import type { Kysely } from 'kysely';
import { isUniqueViolation, lockUser } from '../store/database.ts';
import { findUsersByLegacyId } from '../store/directory.ts';
import {
  countProperties,
  deleteProperty,
  findProperty,
  insertProperty,
  listAllPropertyKeys,
  type PropertyAddress,
  replacePropertyValue,
} from '../store/properties.ts';
import type { Database } from '../store/schema.ts';
import { userExists } from '../store/users.ts';
import { mayReachUserData } from './access.ts';
import { badRequest, forbidden, notFound } from './errors.ts';
import type { Principal } from './principal.ts';
import { checkPropertyAllowance, checkPropertyKey, serializePropertyValue } from './property-rules.ts';
import type { Site } from './site.ts';
import { given, MAX_ACCOUNT_ID_LENGTH, noSuchUser } from './users.ts';

/** docs/behaviour.md §2: Jira properties are not app-isolated; every caller shares this namespace. */
export const JIRA_NAMESPACE = '';

/** How a request names the user: `accountId`, else the legacy `userKey`, else `username`. */
export interface JiraUserSelector {
  accountId?: string;
  userKey?: string;
  username?: string;
}

type SelectorField = keyof JiraUserSelector;

export interface JiraProperty {
  key: string;
  value: unknown;
}

function parseSelector(selector: JiraUserSelector): { field: SelectorField; value: string } {
  if (given(selector.accountId)) {
    if ([...selector.accountId].length > MAX_ACCOUNT_ID_LENGTH) {
      throw badRequest(`accountId is too long: at most ${MAX_ACCOUNT_ID_LENGTH} characters`);
    }
    return { field: 'accountId', value: selector.accountId };
  }
  if (given(selector.userKey)) return { field: 'userKey', value: selector.userKey };
  if (given(selector.username)) return { field: 'username', value: selector.username };
  throw badRequest('accountId is missing: name the user with the accountId query parameter');
}

const noSuchProperty = (at: PropertyAddress) =>
  notFound(`The property "${at.key}" does not exist for user ${at.accountId}`);
/** Where a Jira property lives: the one namespace every caller shares. */
const jiraPropertyAddress = (siteId: number, accountId: string, key: string): PropertyAddress => ({
  siteId,
  product: 'jira',
  namespace: JIRA_NAMESPACE,
  accountId,
  key,
});

/**
 * Jira user properties, for one caller at a time: every method takes the
 * principal and the site of the request, and the user as the
 * request named them.
 */
export class JiraPropertyService {
  constructor(private readonly db: Kysely<Database>) {}

  /** `GET /user/properties`: every key, in code-point order, and whose they are. */
  async listKeys(
    principal: Principal,
    site: Site,
    selector: JiraUserSelector,
  ): Promise<{ accountId: string; keys: string[] }> {
    const accountId = await this.#reachableUser(principal, site, selector);
    const keys = await listAllPropertyKeys(this.db, {
      siteId: site.id,
      product: 'jira',
      namespace: JIRA_NAMESPACE,
      accountId,
    });
    if (keys.length === 0 && !(await userExists(this.db, site.id, accountId))) throw noSuchUser(accountId);
    return { accountId, keys };
  }

  async get(principal: Principal, site: Site, selector: JiraUserSelector, key: string): Promise<JiraProperty> {
    checkPropertyKey('jira', key, site.settings);
    const at = jiraPropertyAddress(site.id, await this.#reachableUser(principal, site, selector), key);
    const found = await findProperty(this.db, at);
    if (!found) throw await this.#missing(at);
    return { key: found.key, value: JSON.parse(found.valueJson) as unknown };
  }

  /**
   * `PUT`: creates or replaces (Jira's set). Replacing is one statement; only
   * when nothing was replaced does a transaction lock the user, so the
   * property limit and a concurrent create of the same key are decided one
   * writer at a time.
   */
  async set(
    principal: Principal,
    site: Site,
    selector: JiraUserSelector,
    key: string,
    body: unknown,
  ): Promise<'created' | 'updated'> {
    const { settings } = site;
    checkPropertyKey('jira', key, settings);
    const value = serializePropertyValue('jira', body, settings);
    const at = jiraPropertyAddress(site.id, await this.#reachableUser(principal, site, selector), key);
    if (await replacePropertyValue(this.db, at, value)) return 'updated';
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (!(await lockUser(trx, site.id, at.accountId))) throw noSuchUser(at.accountId);
        // Another request may have created it since the first attempt.
        if (await replacePropertyValue(trx, at, value)) return 'updated';
        checkPropertyAllowance('jira', at.accountId, await countProperties(trx, at), settings);
        await insertProperty(trx, at, value);
        return 'created';
      });
    } catch (error) {
      // A create that raced past the lock (it cannot on either store today):
      // the other request's row is there, so this one replaces it.
      if (isUniqueViolation(error) && (await replacePropertyValue(this.db, at, value))) return 'updated';
      throw error;
    }
  }

  async delete(principal: Principal, site: Site, selector: JiraUserSelector, key: string): Promise<void> {
    checkPropertyKey('jira', key, site.settings);
    const at = jiraPropertyAddress(site.id, await this.#reachableUser(principal, site, selector), key);
    if (await deleteProperty(this.db, at)) return;
    throw await this.#missing(at);
  }

  /**
   * Steps 4, 6 and part of 7 of docs/behaviour.md §3 for the named user: the selector's
   * syntax, the access rule, then whether a legacy name names anyone. A
   * legacy name that matches no account is nobody's own record, so a caller
   * who may only reach their own gets 403 there too: no account existence leaks.
   */
  async #reachableUser(principal: Principal, site: Site, selector: JiraUserSelector): Promise<string> {
    const { field, value } = parseSelector(selector);
    const accountId =
      field === 'accountId'
        ? value
        : (await findUsersByLegacyId(this.db, site.id, field, [value])).get(value)?.accountId;
    const named = field === 'accountId' ? value : `with ${field} ${value}`;
    // '' is no account's id: only callers who may reach any user pass with it.
    if (!mayReachUserData(principal, site.settings, accountId ?? '')) {
      throw forbidden(
        `You may not access the properties of user ${named}: only your own, unless you are a site admin or an app`,
      );
    }
    if (accountId === undefined) throw noSuchUser(value, field);
    return accountId;
  }

  /** Absent: the user's 404 when there is no such user, else the property's. */
  async #missing(at: PropertyAddress): Promise<Error> {
    return (await userExists(this.db, at.siteId, at.accountId)) ? noSuchProperty(at) : noSuchUser(at.accountId);
  }
}
