/**
 * Confluence user properties (docs/behaviour.md §5). Checks run in the order of docs/behaviour.md §3:
 * syntax (400) → access rule (403) → existence (404) → state (409/412/400).
 */
import type { Kysely } from 'kysely';
import type { SiteSettings } from '../schemas/site.ts';
import { isUniqueViolation, lockUser } from '../store/database.ts';
import {
  countProperties,
  deleteProperty,
  findProperty,
  insertProperty,
  listPropertyKeys,
  type PropertyAddress,
  propertyExists,
  replacePropertyValue,
  type StoredProperty,
} from '../store/properties.ts';
import type { Database } from '../store/schema.ts';
import { userExists } from '../store/users.ts';
import { assertMayReachUserData, confluenceNamespace } from './access.ts';
import { ApiError, badRequest, conflict, notFound } from './errors.ts';
import type { Principal } from './principal.ts';
import { checkPropertyAllowance, checkPropertyKey, serializePropertyValue } from './property-rules.ts';
import { isWellFormedAccountId } from './users.ts';

export const PROPERTY_PAGE = { defaultLimit: 5, maxLimit: 25 } as const;

export interface PropertyContext {
  db: Kysely<Database>;
  principal: Principal;
  settings: SiteSettings;
}

/**
 * A property as stored. Its value stays the compact JSON text that
 * serializeValue wrote: a response embeds it as it is, since parsing it only
 * to serialize it again gives the same bytes at a cost.
 */
export type UserProperty = StoredProperty;

export function checkUserId(userId: string): void {
  if (!isWellFormedAccountId(userId)) {
    throw badRequest(
      `userId "${userId}" is not a well-formed accountId: use 1 to 128 letters, digits, ':', '_' or '-'`,
    );
  }
}

/** Validates a `{"value": …}` body and returns the value's stored text. */
export function serializeValue(body: unknown, settings: SiteSettings): string {
  return serializePropertyValue('confluence', (body as { value?: unknown } | null)?.value, settings);
}

/**
 * `If-Match` (userplane's own, docs/behaviour.md §5): undefined when absent or `*`,
 * otherwise the versions a change may apply to. Weak tags never match
 * (RFC 9110 uses strong comparison for If-Match).
 */
export function parseIfMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const tag of header.split(',')) {
    const match = /^"(\d{1,15})"$/.exec(tag.trim());
    if (match) versions.push(Number(match[1]));
  }
  return versions;
}

/** Steps 4 and 6 of docs/behaviour.md §3, shared by every operation. */
function address(ctx: PropertyContext, userId: string, key: string | undefined): PropertyAddress {
  checkUserId(userId);
  if (key !== undefined) checkPropertyKey('confluence', key, ctx.settings);
  assertMayReachUserData(ctx.principal, ctx.settings, userId);
  return { product: 'confluence', namespace: confluenceNamespace(ctx.principal), accountId: userId, key: key ?? '' };
}

const noSuchUser = (userId: string) => notFound(`No user with accountId ${userId}`);
const noSuchProperty = (at: PropertyAddress) =>
  notFound(`Property "${at.key}" does not exist for user ${at.accountId}`);
const preconditionFailed = (at: PropertyAddress) =>
  new ApiError('precondition_failed', `Property "${at.key}" has changed: If-Match does not match its current ETag`);

export async function listUserPropertyKeys(
  ctx: PropertyContext,
  userId: string,
  page: { start: number; limit: number },
): Promise<{ keys: string[]; more: boolean }> {
  const at = address(ctx, userId, undefined);
  if (!(await userExists(ctx.db, userId))) throw noSuchUser(userId);
  return listPropertyKeys(ctx.db, at, page);
}

/**
 * Without a promise when the store answered at once: the hottest route
 * (docs/behaviour.md §5) then answers in the turn its request arrived in. Invalid input
 * throws at once.
 */
export function getUserProperty(
  ctx: PropertyContext,
  userId: string,
  key: string,
): UserProperty | Promise<UserProperty> {
  const at = address(ctx, userId, key);
  const found = findProperty(ctx.db, at);
  return found instanceof Promise
    ? found.then((stored) => foundOrMissing(ctx, at, stored))
    : foundOrMissing(ctx, at, found);
}

function foundOrMissing(
  ctx: PropertyContext,
  at: PropertyAddress,
  found: StoredProperty | undefined,
): UserProperty | Promise<never> {
  return found ?? missing(ctx, at);
}

async function missing(ctx: PropertyContext, at: PropertyAddress): Promise<never> {
  throw (await userExists(ctx.db, at.accountId)) ? noSuchProperty(at) : noSuchUser(at.accountId);
}

export async function createUserProperty(
  ctx: PropertyContext,
  userId: string,
  key: string,
  body: unknown,
): Promise<UserProperty> {
  const value = serializeValue(body, ctx.settings);
  const at = address(ctx, userId, key);
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      // The user's row lock makes the count and the insert one step, so
      // concurrent creates cannot pass the limit together.
      if (!(await lockUser(trx, userId))) throw noSuchUser(userId);
      if (await propertyExists(trx, at)) throw duplicate(at);
      checkPropertyAllowance('confluence', userId, await countProperties(trx, at), ctx.settings);
      return insertProperty(trx, at, value);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate(at);
    throw error;
  }
}

const duplicate = (at: PropertyAddress) => conflict(`Property "${at.key}" already exists for user ${at.accountId}`);

export async function updateUserProperty(
  ctx: PropertyContext,
  userId: string,
  key: string,
  body: unknown,
  ifMatch: string | undefined,
): Promise<UserProperty> {
  const value = serializeValue(body, ctx.settings);
  const at = address(ctx, userId, key);
  const updated = await replacePropertyValue(ctx.db, at, value, parseIfMatch(ifMatch));
  if (updated) return updated;
  throw await explainMiss(ctx, at);
}

export async function deleteUserProperty(
  ctx: PropertyContext,
  userId: string,
  key: string,
  ifMatch: string | undefined,
): Promise<void> {
  const at = address(ctx, userId, key);
  if (await deleteProperty(ctx.db, at, parseIfMatch(ifMatch))) return;
  throw await explainMiss(ctx, at);
}

/** A conditional write that changed nothing: absent user or property (404) comes before 412. */
async function explainMiss(ctx: PropertyContext, at: PropertyAddress): Promise<ApiError> {
  if (await propertyExists(ctx.db, at)) return preconditionFailed(at);
  return (await userExists(ctx.db, at.accountId)) ? noSuchProperty(at) : noSuchUser(at.accountId);
}
