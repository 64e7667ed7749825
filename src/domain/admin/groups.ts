/**
 * Groups and memberships (docs/behaviour.md §2, §9). Membership changes are idempotent:
 * adding a member twice, or removing a non-member, changes nothing and
 * succeeds. Groups the site's settings name (`canUseGroups`, `adminGroups`)
 * cannot be deleted while named there.
 */
import type { Kysely } from 'kysely';
import type { AdminGroup, AdminUser } from '../../schemas/admin.ts';
import { isUniqueViolation } from '../../store/database.ts';
import {
  addGroupMember,
  deleteGroup,
  findGroup,
  insertGroup,
  listGroupMembers,
  listGroups,
  removeGroupMember,
} from '../../store/groups.ts';
import type { Database } from '../../store/schema.ts';
import { findSiteById } from '../../store/site.ts';
import { findUser } from '../../store/users.ts';
import { conflict, notFound } from '../errors.ts';
import { checkAccountId, noSuchUser } from '../users.ts';
import { type AdminList, checkGroupName, keepingAnAdmin, listOf, type PageRequest, pageOf } from './common.ts';
import { adminUserList } from './users.ts';

const noSuchGroup = (name: string) => notFound(`No group named "${name}"`);

async function existingGroup(db: Kysely<Database>, siteId: number, name: string): Promise<AdminGroup> {
  checkGroupName(name);
  const group = await findGroup(db, siteId, name);
  if (!group) throw noSuchGroup(name);
  return group;
}

/** Both checks of a membership change: syntax of both names first, then existence. */
async function membership(db: Kysely<Database>, siteId: number, name: string, accountId: string) {
  checkGroupName(name);
  checkAccountId(accountId);
  const group = await existingGroup(db, siteId, name);
  const user = await findUser(db, siteId, accountId);
  if (!user) throw noSuchUser(accountId);
  return { group, user };
}

/** The administration API's groups and memberships (docs/behaviour.md §9); the CLI's `groups` command uses it too. */
export class GroupAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly siteId: number,
  ) {}

  async list(request: PageRequest = {}): Promise<AdminList<AdminGroup>> {
    const page = pageOf(request);
    return listOf((await listGroups(this.db, this.siteId, page)).items, page);
  }

  async create(name: string): Promise<AdminGroup> {
    checkGroupName(name);
    const duplicate = () => conflict(`A group named "${name}" already exists`);
    if (await findGroup(this.db, this.siteId, name)) throw duplicate();
    try {
      return await insertGroup(this.db, this.siteId, name);
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicate();
      throw error;
    }
  }

  async delete(name: string): Promise<void> {
    const group = await existingGroup(this.db, this.siteId, name);
    const { settings } = (await findSiteById(this.db, this.siteId)) ?? { settings: undefined };
    for (const setting of ['adminGroups', 'canUseGroups'] as const) {
      if (settings?.[setting].includes(name)) {
        throw conflict(
          `Group "${name}" is named in the site's ${setting}: change the site settings before deleting it`,
        );
      }
    }
    await keepingAnAdmin(this.db, this.siteId, `Deleting group "${name}"`, (trx) => deleteGroup(trx, group.id));
  }

  async listMembers(name: string, request: PageRequest = {}): Promise<AdminList<AdminUser>> {
    const group = await existingGroup(this.db, this.siteId, name);
    const page = pageOf(request);
    const { items } = await listGroupMembers(this.db, group.id, page);
    return adminUserList(this.db, this.siteId, items, page);
  }

  async addMember(name: string, accountId: string): Promise<void> {
    const { user } = await membership(this.db, this.siteId, name, accountId);
    // docs/behaviour.md §2: an app's bot user has no groups.
    if (user.accountType === 'app')
      throw conflict(`User ${accountId} is an app's bot user, which belongs to no groups`);
    await addGroupMember(this.db, this.siteId, name, accountId);
  }

  async removeMember(name: string, accountId: string): Promise<void> {
    const { group } = await membership(this.db, this.siteId, name, accountId);
    await keepingAnAdmin(this.db, this.siteId, `Removing user ${accountId} from group "${name}"`, (trx) =>
      removeGroupMember(trx, group.id, accountId),
    );
  }
}
