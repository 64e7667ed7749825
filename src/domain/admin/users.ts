/**
 * Users, as site admins manage them (docs/behaviour.md §2, §9). Checks run in the order
 * of docs/behaviour.md §3: syntax (400) → existence (404) → state (409).
 * - Deactivating keeps all of the user's data; the user can no longer
 *   authenticate (domain/authenticate.ts refuses inactive accounts), and
 *   lookups still return them.
 * - Deleting removes their memberships, API tokens and properties of every
 *   namespace and both products (foreign-key cascades).
 * - App bot users belong to their app: they change and go with it.
 */
import type { Kysely } from 'kysely';
import type { AdminUser, AdminUserCreate, AdminUserPatch } from '../../schemas/admin.ts';
import { findAppByAccountId } from '../../store/apps.ts';
import { type Db, isUniqueViolation, lockUser } from '../../store/database.ts';
import { addGroupMember, groupExists, groupNamesOf, groupNamesOfUsers } from '../../store/groups.ts';
import type { Database } from '../../store/schema.ts';
import {
  deleteUser,
  findUser,
  findUserByEmail,
  insertUser,
  listUsers,
  takenUserField,
  type UserChange,
  updateUserColumns,
} from '../../store/users.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import type { Page } from '../paging.ts';
import { checkAccountId, newAccountId, noSuchUser, type User } from '../users.ts';
import { type AdminList, checkGroupName, keepingAnAdmin, listOf, type PageRequest, pageOf } from './common.ts';

export const DEFAULT_TIME_ZONE = 'UTC';

export function toAdminUser(user: User, groups: string[]): AdminUser {
  return { ...user, groups };
}

/** One page of users as the administration API lists them, each with their groups. */
export async function adminUserList(db: Db, siteId: number, users: User[], page: Page): Promise<AdminList<AdminUser>> {
  const groups = await groupNamesOfUsers(
    db,
    siteId,
    users.map((u) => u.accountId),
  );
  return listOf(
    users.map((user) => toAdminUser(user, groups.get(user.accountId) ?? [])),
    page,
  );
}

/** An IANA time zone name, as the runtime's Intl knows them. */
export function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw badRequest(`timeZone "${timeZone}" is not an IANA time zone, such as UTC or Europe/Berlin`);
  }
}

/** The user to change, which must exist and be a person: bots change with their app. */
async function existingPerson(db: Db, siteId: number, accountId: string, action: string): Promise<User> {
  checkAccountId(accountId);
  const user = await findUser(db, siteId, accountId);
  if (!user) throw noSuchUser(accountId);
  if (user.accountType === 'app') {
    const app = await findAppByAccountId(db, siteId, accountId);
    throw conflict(`User ${accountId} is the bot user of app ${app?.key ?? '(unknown)'}: ${action} the app instead`);
  }
  return user;
}

async function explainTaken(db: Db, siteId: number, user: User): Promise<void> {
  const taken = await takenUserField(db, siteId, user);
  if (taken) {
    const value = taken === 'email' ? user.email : taken === 'username' ? user.username : user.userKey;
    throw conflict(`${taken} "${value}" already belongs to another user`);
  }
}

/** The administration API's users (docs/behaviour.md §9); the CLI's `users` command uses it too. */
export class UserAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly siteId: number,
  ) {}

  async list(request: PageRequest & { query?: string }): Promise<AdminList<AdminUser>> {
    const page = pageOf(request);
    const { items } = await listUsers(this.db, this.siteId, page, request.query);
    return adminUserList(this.db, this.siteId, items, page);
  }

  async get(accountId: string): Promise<AdminUser> {
    checkAccountId(accountId);
    const user = await findUser(this.db, this.siteId, accountId);
    if (!user) throw noSuchUser(accountId);
    return toAdminUser(user, await groupNamesOf(this.db, this.siteId, accountId));
  }

  /** `ref` is an accountId, or an email (accountIds never contain "@"): for the CLI. */
  async findByRef(ref: string): Promise<AdminUser> {
    if (!ref.includes('@')) return this.get(ref);
    const user = await findUserByEmail(this.db, this.siteId, ref);
    if (!user) throw notFound(`No user with email ${ref}`);
    return toAdminUser(user, await groupNamesOf(this.db, this.siteId, user.accountId));
  }

  async create(input: AdminUserCreate): Promise<AdminUser> {
    const db = this.db;
    if (input.accountId !== undefined) checkAccountId(input.accountId);
    if (input.timeZone !== undefined) checkTimeZone(input.timeZone);
    const groups = [...new Set(input.groups ?? [])];
    for (const [i, name] of groups.entries()) checkGroupName(name, `groups[${i}]`);

    const user: User = {
      accountId: input.accountId ?? newAccountId(),
      accountType: 'atlassian',
      email: input.email,
      displayName: input.displayName,
      publicName: input.publicName ?? input.displayName,
      timeZone: input.timeZone ?? DEFAULT_TIME_ZONE,
      emailVisibility: input.emailVisibility ?? 'admins',
      username: input.username ?? null,
      userKey: input.userKey ?? null,
      externalCollaborator: input.externalCollaborator ?? false,
      active: input.active ?? true,
    };
    for (const name of groups) {
      if (!(await groupExists(db, this.siteId, name)))
        throw badRequest(`groups: group "${name}" does not exist; create it first`);
    }
    try {
      await db.transaction().execute(async (trx) => {
        if (await findUser(trx, this.siteId, user.accountId))
          throw conflict(`A user with accountId ${user.accountId} already exists`);
        await explainTaken(trx, this.siteId, user);
        await insertUser(trx, this.siteId, user);
        for (const name of groups) await addGroupMember(trx, this.siteId, name, user.accountId);
      });
    } catch (error) {
      // A concurrent create took a unique value between the check and the insert.
      if (!isUniqueViolation(error)) throw error;
      if (await findUser(db, this.siteId, user.accountId))
        throw conflict(`A user with accountId ${user.accountId} already exists`);
      await explainTaken(db, this.siteId, user);
      throw conflict('The user conflicts with another user created at the same time');
    }
    return this.get(user.accountId);
  }

  /**
   * Reads, checks and writes in one transaction, with the user's row locked
   * first, and writes only the fields given: a concurrent PATCH of other
   * fields keeps its change, and a user deleted meanwhile stays deleted (404).
   */
  async update(accountId: string, patch: AdminUserPatch): Promise<AdminUser> {
    const db = this.db;
    checkAccountId(accountId);
    if (patch.timeZone !== undefined) checkTimeZone(patch.timeZone);
    const change = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as UserChange;
    const action = patch.active === false ? `Deactivating user ${accountId}` : `Changing user ${accountId}`;
    let next: User | undefined;
    try {
      await keepingAnAdmin(db, this.siteId, action, async (trx) => {
        if (!(await lockUser(trx, this.siteId, accountId))) throw noSuchUser(accountId);
        next = { ...(await existingPerson(trx, this.siteId, accountId, 'change')), ...change };
        await explainTaken(trx, this.siteId, next);
        if (!(await updateUserColumns(trx, this.siteId, accountId, change))) throw noSuchUser(accountId);
      });
    } catch (error) {
      if (!isUniqueViolation(error) || !next) throw error;
      await explainTaken(db, this.siteId, next);
      throw conflict(`User ${accountId} conflicts with another user changed at the same time`);
    }
    return this.get(accountId);
  }

  /** docs/behaviour.md §2: deleting removes memberships, tokens and properties (cascades); nothing else of theirs is kept. */
  async delete(accountId: string): Promise<void> {
    await existingPerson(this.db, this.siteId, accountId, 'delete');
    await keepingAnAdmin(this.db, this.siteId, `Deleting user ${accountId}`, (trx) =>
      deleteUser(trx, this.siteId, accountId),
    );
  }
}
