/**
 * User properties of both products. A property's identity is
 * (product, namespace, accountId, key); see SPEC §2.
 */
import type { ExpressionBuilder } from 'kysely';
import type { Db } from './database.ts';
import type { Database, PropertyRow } from './schema.ts';

export type Product = 'confluence' | 'jira';

export interface PropertyAddress {
  product: Product;
  namespace: string;
  accountId: string;
  key: string;
}

export interface StoredProperty {
  id: string;
  key: string;
  /** Compact JSON text, exactly as stored. */
  value: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

function toStoredProperty(row: Pick<PropertyRow, 'id' | 'key' | 'value' | 'version' | 'created_at' | 'updated_at'>): StoredProperty {
  return {
    id: String(row.id),
    key: row.key,
    value: row.value,
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const COLUMNS = ['id', 'key', 'value', 'version', 'created_at', 'updated_at'] as const;

type Owner = Omit<PropertyAddress, 'key'>;

function ownedBy(owner: Owner) {
  return (eb: ExpressionBuilder<Database, 'properties'>) =>
    eb.and({ product: owner.product, namespace: owner.namespace, account_id: owner.accountId });
}

function at(address: PropertyAddress) {
  return (eb: ExpressionBuilder<Database, 'properties'>) => eb.and([ownedBy(address)(eb), eb('key', '=', address.key)]);
}

/** The If-Match condition: only these versions may change. */
function atVersion(versions: readonly number[]) {
  return (eb: ExpressionBuilder<Database, 'properties'>) => eb('version', 'in', versions.length > 0 ? versions : [-1]);
}

export async function findProperty(db: Db, address: PropertyAddress): Promise<StoredProperty | undefined> {
  const row = await db.selectFrom('properties').select(COLUMNS).where(at(address)).executeTakeFirst();
  return row && toStoredProperty(row);
}

export async function propertyExists(db: Db, address: PropertyAddress): Promise<boolean> {
  return (await db.selectFrom('properties').select('id').where(at(address)).executeTakeFirst()) !== undefined;
}

/** Keys in code-point order, one page; fetches one extra row to tell whether more exist. */
export async function listPropertyKeys(
  db: Db,
  owner: Owner,
  page: { start: number; limit: number },
): Promise<{ keys: string[]; more: boolean }> {
  const rows = await db
    .selectFrom('properties')
    .select('key')
    .where(ownedBy(owner))
    .orderBy('key')
    .limit(page.limit + 1)
    .offset(page.start)
    .execute();
  return { keys: rows.slice(0, page.limit).map((r) => r.key), more: rows.length > page.limit };
}

export async function countProperties(db: Db, owner: Owner): Promise<number> {
  const row = await db
    .selectFrom('properties')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where(ownedBy(owner))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertProperty(db: Db, address: PropertyAddress, value: string): Promise<StoredProperty> {
  const now = new Date().toISOString();
  const row = await db
    .insertInto('properties')
    .values({
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

/**
 * Replaces the value in one statement. `versions`, when given, are the only
 * versions the update may apply to (If-Match). Returns undefined when no row
 * was updated: absent, or a version mismatch.
 */
export async function replacePropertyValue(
  db: Db,
  address: PropertyAddress,
  value: string,
  versions?: readonly number[],
): Promise<StoredProperty | undefined> {
  let query = db
    .updateTable('properties')
    .set((eb) => ({ value, version: eb('version', '+', 1), updated_at: new Date().toISOString() }))
    .where(at(address));
  if (versions) query = query.where(atVersion(versions));
  const row = await query.returning(COLUMNS).executeTakeFirst();
  return row && toStoredProperty(row);
}

/** Deletes the property (only at one of `versions`, when given). Returns whether a row went. */
export async function deleteProperty(db: Db, address: PropertyAddress, versions?: readonly number[]): Promise<boolean> {
  let query = db.deleteFrom('properties').where(at(address));
  if (versions) query = query.where(atVersion(versions));
  const result = await query.executeTakeFirst();
  return result.numDeletedRows > 0n;
}
