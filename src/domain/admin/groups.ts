/**
 * Groups and memberships (docs/behaviour.md §2, §9). Membership changes are idempotent:
 * adding a member twice, or removing a non-member, changes nothing and
 * succeeds. Groups the site's settings name (`canUseGroups`, `adminGroups`)
 * cannot be deleted while named there.
 */
import type { Kysely } from 'kysely';
import type { AdminGroup, AdminUser } from '../../schemas/admin.ts';
import {
  deleteGroup,
  findGroup,
  insertGroup,
  listGroupMembers,
  listGroups,
  removeGroupMember,
} from '../../store/admin.ts';
import { isUniqueViolation } from '../../store/database.ts';
import { addGroupMember, groupNamesOfUsers } from '../../store/groups.ts';
import type { Database } from '../../store/schema.ts';
import { readSite } from '../../store/site.ts';
import { findUser } from '../../store/users.ts';
import { conflict, notFound } from '../errors.ts';
import {
  type AdminList,
  checkAccountId,
  checkGroupName,
  keepingAnAdmin,
  listOf,
  type PageRequest,
  pageOf,
} from './common.ts';
import { noSuchUser, toAdminUser } from './users.ts';

const noSuchGroup = (name: string) => notFound(`No group named "${name}"`);

async function existingGroup(db: Kysely<Database>, name: string): Promise<AdminGroup> {
  checkGroupName(name);
  const group = await findGroup(db, name);
  if (!group) throw noSuchGroup(name);
  return group;
}

export async function listAdminGroups(db: Kysely<Database>, request: PageRequest = {}): Promise<AdminList<AdminGroup>> {
  const page = pageOf(request);
  return listOf((await listGroups(db, page)).items, page);
}

export async function createAdminGroup(db: Kysely<Database>, name: string): Promise<AdminGroup> {
  checkGroupName(name);
  const duplicate = () => conflict(`A group named "${name}" already exists`);
  if (await findGroup(db, name)) throw duplicate();
  try {
    return await insertGroup(db, name);
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate();
    throw error;
  }
}

export async function deleteAdminGroup(db: Kysely<Database>, name: string): Promise<void> {
  const group = await existingGroup(db, name);
  const { settings } = (await readSite(db)) ?? { settings: undefined };
  for (const setting of ['adminGroups', 'canUseGroups'] as const) {
    if (settings?.[setting].includes(name)) {
      throw conflict(`Group "${name}" is named in the site's ${setting}: change the site settings before deleting it`);
    }
  }
  await keepingAnAdmin(db, `Deleting group "${name}"`, (trx) => deleteGroup(trx, group.id));
}

export async function listAdminGroupMembers(
  db: Kysely<Database>,
  name: string,
  request: PageRequest = {},
): Promise<AdminList<AdminUser>> {
  const group = await existingGroup(db, name);
  const page = pageOf(request);
  const { items } = await listGroupMembers(db, group.id, page);
  const groups = await groupNamesOfUsers(
    db,
    items.map((u) => u.accountId),
  );
  return listOf(
    items.map((user) => toAdminUser(user, groups.get(user.accountId) ?? [])),
    page,
  );
}

/** Both checks of a membership change: syntax of both names first, then existence. */
async function membership(db: Kysely<Database>, name: string, accountId: string) {
  checkGroupName(name);
  checkAccountId(accountId);
  const group = await existingGroup(db, name);
  const user = await findUser(db, accountId);
  if (!user) throw noSuchUser(accountId);
  return { group, user };
}

export async function addAdminGroupMember(db: Kysely<Database>, name: string, accountId: string): Promise<void> {
  const { user } = await membership(db, name, accountId);
  // docs/behaviour.md §2: an app's bot user has no groups.
  if (user.accountType === 'app') throw conflict(`User ${accountId} is an app's bot user, which belongs to no groups`);
  await addGroupMember(db, name, accountId);
}

export async function removeAdminGroupMember(db: Kysely<Database>, name: string, accountId: string): Promise<void> {
  const { group } = await membership(db, name, accountId);
  await keepingAnAdmin(db, `Removing user ${accountId} from group "${name}"`, (trx) =>
    removeGroupMember(trx, group.id, accountId),
  );
}
