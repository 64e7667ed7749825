/**
 * User properties of both products. A property's identity is
 * (product, namespace, accountId, key); see docs/behaviour.md §2.
 */
import type { ExpressionBuilder, QueryResult } from 'kysely';
import type { PropertyWithJsonValue } from '../domain/properties.ts';
import { andThen, type MaybePromise } from '../lib/maybe-promise.ts';
import { type Db, inListChunks } from './database.ts';
import type { Page } from './paging.ts';
import { preparedQuery } from './prepared.ts';
import type { Database, PropertyRow } from './schema.ts';

export type Product = 'confluence' | 'jira';

export interface PropertyAddress {
  /** The site the property belongs to (docs/behaviour.md §10). */
  siteId: number;
  product: Product;
  namespace: string;
  accountId: string;
  key: string;
}

function toStoredProperty(
  row: Pick<PropertyRow, 'id' | 'key' | 'value' | 'version' | 'created_at' | 'updated_at'>,
): PropertyWithJsonValue {
  return {
    id: String(row.id),
    key: row.key,
    valueJson: row.value,
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const COLUMNS = ['id', 'key', 'value', 'version', 'created_at', 'updated_at'] as const;

type Owner = Omit<PropertyAddress, 'key'>;

function ownedBy(owner: Owner) {
  return (eb: ExpressionBuilder<Database, 'properties'>) =>
    eb.and({ site_id: owner.siteId, product: owner.product, namespace: owner.namespace, account_id: owner.accountId });
}

function at(address: PropertyAddress) {
  return (eb: ExpressionBuilder<Database, 'properties'>) => eb.and([ownedBy(address)(eb), eb('key', '=', address.key)]);
}

/** The If-Match condition: only these versions may change. */
function atVersion(versions: readonly number[]) {
  return (eb: ExpressionBuilder<Database, 'properties'>) => eb('version', 'in', versions.length > 0 ? versions : [-1]);
}

/** An owner whose values are the prepared query's params. */
function ownerParam(param: <K extends keyof Owner>(name: K) => Owner[K]) {
  return ownedBy({
    siteId: param('siteId'),
    product: param('product'),
    namespace: param('namespace'),
    accountId: param('accountId'),
  });
}

/** An address whose values are the prepared query's params. */
function addressParam(param: <K extends keyof PropertyAddress>(name: K) => PropertyAddress[K]): PropertyAddress {
  return {
    siteId: param('siteId'),
    product: param('product'),
    namespace: param('namespace'),
    accountId: param('accountId'),
    key: param('key'),
  };
}

const selectProperty = preparedQuery<PropertyAddress, Pick<PropertyRow, (typeof COLUMNS)[number]>>((db, param) =>
  db
    .selectFrom('properties')
    .select(COLUMNS)
    .where(at(addressParam(param))),
);

/** Without a promise when the store answered at once (store/prepared.ts): this is the hot read. */
export function findProperty(db: Db, address: PropertyAddress): MaybePromise<PropertyWithJsonValue | undefined> {
  return andThen(selectProperty(db, address), firstProperty);
}

function firstProperty({
  rows: [row],
}: QueryResult<Pick<PropertyRow, (typeof COLUMNS)[number]>>): PropertyWithJsonValue | undefined {
  return row && toStoredProperty(row);
}

export async function propertyExists(db: Db, address: PropertyAddress): Promise<boolean> {
  return (await findProperty(db, address)) !== undefined;
}

const selectKeys = preparedQuery<Owner & { limit: number; offset: number }, { key: string }>((db, param) =>
  db
    .selectFrom('properties')
    .select('key')
    .where(ownerParam(param))
    .orderBy('key')
    .limit(param('limit'))
    .offset(param('offset')),
);

export interface KeyPage {
  readonly keys: readonly string[];
  readonly more: boolean;
}

/**
 * Keys in code-point order, one page; fetches one extra row to tell whether
 * more exist. Without a promise when the store answered at once (store/prepared.ts):
 * the list route is hot too (docs/architecture.md "Hot routes").
 */
export function listPropertyKeys(db: Db, owner: Owner, page: Page): MaybePromise<KeyPage> {
  return andThen(
    selectKeys(db, {
      siteId: owner.siteId,
      product: owner.product,
      namespace: owner.namespace,
      accountId: owner.accountId,
      limit: page.limit + 1,
      offset: page.start,
    }),
    keyPage,
    page.limit,
  );
}

/**
 * Pages made from shared results. SQLite's memo hands out one frozen result
 * until the next write (store/sqlite.ts), so its page is made once, frozen
 * too, and a repeated list is the very same page (which the list route's
 * kept bodies then know at once). The rows' `limit` param is the page's
 * limit plus one, so a result always makes the same page.
 */
const sharedPages = new WeakMap<readonly object[], KeyPage>();

function keyPage({ rows }: QueryResult<{ key: string }>, limit: number): KeyPage {
  const shared = Object.isFrozen(rows);
  if (shared) {
    const page = sharedPages.get(rows);
    if (page !== undefined) return page;
  }
  const count = Math.min(rows.length, limit);
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i++) keys[i] = rows[i]!.key;
  const page = { keys, more: rows.length > limit };
  if (!shared) return page;
  Object.freeze(keys);
  sharedPages.set(rows, Object.freeze(page));
  return page;
}

const selectAllKeys = preparedQuery<Owner, { key: string }>((db, param) =>
  db.selectFrom('properties').select('key').where(ownerParam(param)).orderBy('key'),
);

/** Every key of one owner, in code-point order (Jira lists keys unpaged, docs/behaviour.md §6). */
export async function listAllPropertyKeys(db: Db, owner: Owner): Promise<string[]> {
  return (await selectAllKeys(db, owner)).rows.map((r) => r.key);
}

export async function countProperties(db: Db, owner: Owner): Promise<number> {
  const row = await db
    .selectFrom('properties')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where(ownedBy(owner))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertProperty(db: Db, address: PropertyAddress, value: string): Promise<PropertyWithJsonValue> {
  const now = new Date().toISOString();
  const row = await db
    .insertInto('properties')
    .values({
      site_id: address.siteId,
      product: address.product,
      namespace: address.namespace,
      account_id: address.accountId,
      key: address.key,
      value,
      version: 1,
      created_at: now,
      updated_at: now,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toStoredProperty(row);
}

/** Inserts new properties (none may exist), a few hundred to a statement: for the seed loader. */
export async function insertProperties(
  db: Db,
  properties: ReadonlyArray<{ address: PropertyAddress; value: string }>,
): Promise<void> {
  const now = new Date().toISOString();
  for (const part of inListChunks(properties)) {
    await db
      .insertInto('properties')
      .values(
        part.map(({ address, value }) => ({
          site_id: address.siteId,
          product: address.product,
          namespace: address.namespace,
          account_id: address.accountId,
          key: address.key,
          value,
          version: 1,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  }
}

/*
 * The UPDATE and the DELETE below are each spelled twice, in one function:
 * without If-Match as a prepared query (the hot PUT and DELETE: compiled
 * once, and run on SQLite's direct path with group commit), and with
 * If-Match through Kysely's builder, since the If-Match list puts a variable
 * number of versions in `version in (…)` and a prepared statement has a
 * fixed number of placeholders.
 */

/** A property's place in the lock order of single-row writes: its identity key's order on PostgreSQL. */
const lockOrder = (address: PropertyAddress) =>
  `properties\u0000${address.siteId}\u0000${address.accountId}\u0000${address.product}\u0000${address.namespace}\u0000${address.key}`;

const replaceValue = preparedQuery<PropertyAddress & { value: string; now: string }, Pick<PropertyRow, 'version'>>(
  (db, param) =>
    db
      .updateTable('properties')
      .set((eb) => ({ value: param('value'), version: eb('version', '+', 1), updated_at: param('now') }))
      .where(at(addressParam(param)))
      .returning('version'),
  lockOrder,
);

/**
 * Replaces the value in one statement. `versions`, when given, are the only
 * versions the update may apply to (If-Match). Returns the new version, or
 * undefined when no row was updated: absent, or a version mismatch.
 *
 * Only the version comes back: it is all a PUT answers with (its ETag), and
 * on PostgreSQL returning the row's five columns cost about a tenth of the
 * update's own CPU (docs/decisions.md, "PostgreSQL at the speed of raw pg").
 */
export async function replacePropertyValue(
  db: Db,
  address: PropertyAddress,
  value: string,
  versions?: readonly number[],
): Promise<number | undefined> {
  const now = new Date().toISOString();
  const [row] = versions
    ? await db
        .updateTable('properties')
        .set((eb) => ({ value, version: eb('version', '+', 1), updated_at: now }))
        .where(at(address))
        .where(atVersion(versions))
        .returning('version')
        .execute()
    : (await replaceValue(db, updateParams(address, value, now))).rows;
  return row && Number(row.version);
}

/** The update's params, written out: spreading the address with two more fields cost more than the rest of the call. */
function updateParams(
  address: PropertyAddress,
  value: string,
  now: string,
): PropertyAddress & { value: string; now: string } {
  return {
    siteId: address.siteId,
    product: address.product,
    namespace: address.namespace,
    accountId: address.accountId,
    key: address.key,
    value,
    now,
  };
}

const removeProperty = preparedQuery<PropertyAddress, never>(
  (db, param) => db.deleteFrom('properties').where(at(addressParam(param))),
  lockOrder,
);

/** Deletes the property (only at one of `versions`, when given: If-Match). Returns whether a row went. */
export async function deleteProperty(db: Db, address: PropertyAddress, versions?: readonly number[]): Promise<boolean> {
  const deleted = versions
    ? (await db.deleteFrom('properties').where(at(address)).where(atVersion(versions)).executeTakeFirst())
        .numDeletedRows
    : ((await removeProperty(db, address)).numAffectedRows ?? 0n);
  return deleted > 0n;
}
