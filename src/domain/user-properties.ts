/**
 * Confluence user properties (docs/behaviour.md §5). Checks run in the order of docs/behaviour.md §3:
 * syntax (400) → access rule (403) → existence (404) → state (409/412/400).
 */
import type { Kysely } from 'kysely';
import { andThen, type MaybePromise } from '../lib/maybe-promise.ts';
import type { SiteSettings } from '../schemas/site.ts';
import { isUniqueViolation, lockUser } from '../store/database.ts';
import {
  countProperties,
  deleteProperty,
  findProperty,
  insertProperty,
  type KeyPage,
  listPropertyKeys,
  type PropertyAddress,
  propertyExists,
  replacePropertyValue,
} from '../store/properties.ts';

export type { KeyPage };

import type { Database } from '../store/schema.ts';
import { userExists } from '../store/users.ts';
import { assertMayReachUserData, confluenceNamespace } from './access.ts';
import { ApiError, conflict, notFound } from './errors.ts';
import type { Page, PageSize } from './paging.ts';
import type { Principal } from './principal.ts';
import type { PropertyWithJsonValue } from './properties.ts';
import { checkPropertyAllowance, checkPropertyKey, serializePropertyValue } from './property-rules.ts';
import type { Site } from './site.ts';
import { checkAccountId, noSuchUser } from './users.ts';

/** `GET /user/{userId}/property` (docs/behaviour.md §5). */
export const PROPERTY_PAGE: PageSize = { defaultLimit: 5, maxLimit: 25 };

/** Validates a `{"value": …}` body and returns the value's stored text. */
export function serializeValue(body: unknown, settings: SiteSettings): string {
  return serializePropertyValue('confluence', (body as { value?: unknown } | null)?.value, settings);
}

/**
 * Steps 4 and 6 of docs/behaviour.md §3, shared by every operation: the ids are
 * well-formed and the caller may reach the user's data; then the property's
 * address in the caller's namespace (the user's own, or the calling app's).
 */
function authorizedAddress(principal: Principal, site: Site, userId: string, key: string | undefined): PropertyAddress {
  checkAccountId(userId, 'userId');
  if (key !== undefined) checkPropertyKey('confluence', key, site.settings);
  assertMayReachUserData(principal, site.settings, userId);
  return {
    siteId: site.id,
    product: 'confluence',
    namespace: confluenceNamespace(principal),
    accountId: userId,
    key: key ?? '',
  };
}

/** An empty page, when the user exists. */
const emptyOrMissing =
  (page: KeyPage, at: PropertyAddress) =>
  (exists: boolean): KeyPage => {
    if (!exists) throw noSuchUser(at.accountId);
    return page;
  };

const noSuchProperty = (at: PropertyAddress) =>
  notFound(`Property "${at.key}" does not exist for user ${at.accountId}`);
const preconditionFailed = (at: PropertyAddress) =>
  new ApiError('precondition_failed', `Property "${at.key}" has changed: If-Match does not match its current ETag`);
const duplicate = (at: PropertyAddress) => conflict(`Property "${at.key}" already exists for user ${at.accountId}`);

/**
 * Confluence user properties, for one caller at a time: every method takes
 * the principal and the site of the request. A change's `ifMatch`
 * lists the versions it may apply to; undefined lets it apply to any.
 */
export class ConfluencePropertyService {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Without a promise when the store answered at once, like `get`. A page
   * with keys needs no lookup of the user: a property goes with its user
   * (the foreign key cascades), so keys prove the user exists. Only an empty
   * page asks whether the user is there (404) or merely has none here.
   */
  listKeys(principal: Principal, site: Site, userId: string, page: Page): MaybePromise<KeyPage> {
    const at = authorizedAddress(principal, site, userId, undefined);
    return andThen(listPropertyKeys(this.db, at, page), this.#keysOrMissing, at);
  }

  readonly #keysOrMissing = (found: KeyPage, at: PropertyAddress): MaybePromise<KeyPage> =>
    found.keys.length > 0 ? found : andThen(userExists(this.db, at.siteId, at.accountId), emptyOrMissing(found, at));

  /**
   * Without a promise when the store answered at once: the hottest route
   * (docs/behaviour.md §5) then answers in the turn its request arrived in. Invalid input
   * throws at once.
   */
  get(principal: Principal, site: Site, userId: string, key: string): MaybePromise<PropertyWithJsonValue> {
    const at = authorizedAddress(principal, site, userId, key);
    return andThen(findProperty(this.db, at), this.#foundOrMissing, at);
  }

  /** Made once per service, so that a read makes no closure. */
  readonly #foundOrMissing = (
    found: PropertyWithJsonValue | undefined,
    at: PropertyAddress,
  ): MaybePromise<PropertyWithJsonValue> => found ?? this.#missing(at);

  async #missing(at: PropertyAddress): Promise<never> {
    throw (await userExists(this.db, at.siteId, at.accountId)) ? noSuchProperty(at) : noSuchUser(at.accountId);
  }

  async create(
    principal: Principal,
    site: Site,
    userId: string,
    key: string,
    body: unknown,
  ): Promise<PropertyWithJsonValue> {
    const { settings } = site;
    const value = serializeValue(body, settings);
    const at = authorizedAddress(principal, site, userId, key);
    try {
      return await this.db.transaction().execute(async (trx) => {
        // The user's row lock makes the count and the insert one step, so
        // concurrent creates cannot pass the limit together.
        if (!(await lockUser(trx, site.id, userId))) throw noSuchUser(userId);
        if (await propertyExists(trx, at)) throw duplicate(at);
        checkPropertyAllowance('confluence', userId, await countProperties(trx, at), settings);
        return insertProperty(trx, at, value);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicate(at);
      throw error;
    }
  }

  async update(
    principal: Principal,
    site: Site,
    userId: string,
    key: string,
    body: unknown,
    ifMatch: readonly number[] | undefined,
  ): Promise<number> {
    const value = serializeValue(body, site.settings);
    const at = authorizedAddress(principal, site, userId, key);
    const version = await replacePropertyValue(this.db, at, value, ifMatch);
    if (version !== undefined) return version;
    throw await this.#explainMiss(at);
  }

  async delete(
    principal: Principal,
    site: Site,
    userId: string,
    key: string,
    ifMatch: readonly number[] | undefined,
  ): Promise<void> {
    const at = authorizedAddress(principal, site, userId, key);
    if (await deleteProperty(this.db, at, ifMatch)) return;
    throw await this.#explainMiss(at);
  }

  /** A conditional write that changed nothing: absent user or property (404) comes before 412. */
  async #explainMiss(at: PropertyAddress): Promise<ApiError> {
    if (await propertyExists(this.db, at)) return preconditionFailed(at);
    return (await userExists(this.db, at.siteId, at.accountId)) ? noSuchProperty(at) : noSuchUser(at.accountId);
  }
}
