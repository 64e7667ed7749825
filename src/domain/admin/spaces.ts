/**
 * Spaces, as site admins manage them (docs/behaviour.md §2, §9). Checks run in docs/behaviour.md §3's
 * order: syntax (400), existence (404), state (409). A space's key and type
 * are its identity. Users and groups a view permission names must exist (a
 * 400 naming them); deleting a space removes its content and every watch on
 * either (foreign-key cascades).
 */
import type { Kysely } from 'kysely';
import type { AdminSpace, AdminSpaceCreate, AdminSpacePatch } from '../../schemas/admin-spaces.ts';
import { type Db, isUniqueViolation } from '../../store/database.ts';
import type { Database } from '../../store/schema.ts';
import {
  deleteSpace,
  findPersonalSpaceOf,
  findSpaceByKey,
  insertSpace,
  listSpaces,
  setSpaceViewGroups,
  setSpaceViewUsers,
  unknownAccountIds,
  unknownGroupNames,
  updateSpaceColumns,
} from '../../store/spaces.ts';
import { findUser } from '../../store/users.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { checkSpaceKey, checkText, type Space, type SpaceType } from '../spaces.ts';
import { checkAccountId } from '../users.ts';
import { type AdminList, checkMemberNames, listOf, type MemberNames, type PageRequest, pageOf } from './common.ts';

export const noSuchSpace = (key: string) => notFound(`No space with key ${key}`);

export function toAdminSpace(space: Space): AdminSpace {
  return { id: space.id, key: space.key, name: space.name, type: space.type, owner: space.owner, view: space.view };
}

export interface ViewChange extends MemberNames {
  anonymous?: boolean;
}

/** Syntax of a view permission's names (400), with distinct, ordered lists. */
export function checkViewChange(view: ViewChange | undefined, field = 'view'): ViewChange {
  return view === undefined ? {} : { anonymous: view.anonymous, ...checkMemberNames(view, field) };
}

/** Existence of the users and groups a permission or restriction names: a 400 naming the first unknown one. */
export async function checkReferences(
  db: Db,
  siteId: number,
  field: string,
  names: { users?: string[]; groups?: string[] },
): Promise<void> {
  const [group] = await unknownGroupNames(db, siteId, names.groups ?? []);
  if (group !== undefined) throw badRequest(`${field}.groups: group "${group}" does not exist; create it first`);
  const [user] = await unknownAccountIds(db, siteId, names.users ?? []);
  if (user !== undefined) throw badRequest(`${field}.users: no user with accountId ${user}`);
}

/** A personal space's owner: an existing person who owns no other personal space. */
async function checkOwner(db: Db, siteId: number, owner: string, spaceKey: string): Promise<void> {
  const user = await findUser(db, siteId, owner);
  if (!user) throw badRequest(`owner: no user with accountId ${owner}`);
  if (user.accountType === 'app') throw badRequest(`owner: user ${owner} is an app's bot user, which owns no space`);
  const other = await findPersonalSpaceOf(db, siteId, owner);
  if (other && other.key !== spaceKey)
    throw conflict(`User ${owner} already owns the personal space ${other.key}; a user has at most one`);
}

async function applyView(db: Db, siteId: number, spaceId: number, view: ViewChange): Promise<void> {
  if (view.groups !== undefined) await setSpaceViewGroups(db, siteId, spaceId, view.groups);
  if (view.users !== undefined) await setSpaceViewUsers(db, siteId, spaceId, view.users);
}

/** The administration API's spaces (docs/behaviour.md §9); the CLI's `spaces` command uses it too. */
export class SpaceAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly siteId: number,
  ) {}

  async list(request: PageRequest = {}): Promise<AdminList<AdminSpace>> {
    const page = pageOf(request);
    return listOf((await listSpaces(this.db, this.siteId, page)).items.map(toAdminSpace), page);
  }

  async get(key: string): Promise<AdminSpace> {
    checkSpaceKey(key, 'key');
    const space = await findSpaceByKey(this.db, this.siteId, key);
    if (!space) throw noSuchSpace(key);
    return toAdminSpace(space);
  }

  async create(input: AdminSpaceCreate): Promise<AdminSpace> {
    checkSpaceKey(input.key, 'key');
    checkText(input.name, 'name');
    const type: SpaceType = input.type ?? 'global';
    if (type === 'personal' && input.owner === undefined)
      throw badRequest('owner is required: a personal space has an owner');
    if (type === 'global' && input.owner !== undefined) throw badRequest('owner: only a personal space has an owner');
    if (input.owner !== undefined) checkAccountId(input.owner, 'owner');
    const view = checkViewChange(input.view);
    const duplicate = () => conflict(`A space with key ${input.key} already exists`);
    try {
      await this.db.transaction().execute(async (trx) => {
        await checkReferences(trx, this.siteId, 'view', view);
        if (await findSpaceByKey(trx, this.siteId, input.key)) throw duplicate();
        if (input.owner !== undefined) await checkOwner(trx, this.siteId, input.owner, input.key);
        const id = await insertSpace(trx, this.siteId, input.key, {
          name: input.name,
          type,
          owner: input.owner ?? null,
          anonymous: view.anonymous ?? false,
        });
        await applyView(trx, this.siteId, id, view);
      });
    } catch (error) {
      // A concurrent create took the key or the owner between the checks and the insert.
      if (!isUniqueViolation(error)) throw error;
      if (await findSpaceByKey(this.db, this.siteId, input.key)) throw duplicate();
      throw conflict(
        `Space ${input.key} conflicts with another space created at the same time (its owner has one now)`,
      );
    }
    return this.get(input.key);
  }

  async update(key: string, patch: AdminSpacePatch): Promise<AdminSpace> {
    checkSpaceKey(key, 'key');
    if (patch.name !== undefined) checkText(patch.name, 'name');
    if (patch.owner !== undefined && patch.owner !== null) checkAccountId(patch.owner, 'owner');
    const view = checkViewChange(patch.view);
    try {
      await this.db.transaction().execute(async (trx) => {
        const space = await findSpaceByKey(trx, this.siteId, key);
        if (!space) throw noSuchSpace(key);
        if (patch.owner !== undefined) {
          if (space.type === 'global') throw badRequest(`owner: space ${key} is a global space, which has no owner`);
          if (patch.owner !== null) await checkOwner(trx, this.siteId, patch.owner, key);
        }
        await checkReferences(trx, this.siteId, 'view', view);
        await updateSpaceColumns(trx, space.id, { name: patch.name, owner: patch.owner, anonymous: view.anonymous });
        await applyView(trx, this.siteId, space.id, view);
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw conflict(`User ${patch.owner} already owns a personal space; a user has at most one`);
    }
    return this.get(key);
  }

  /** docs/behaviour.md §2: removes the space, its content, and every watch on either (cascades). */
  async delete(key: string): Promise<void> {
    const space = await this.get(key);
    await deleteSpace(this.db, space.id);
  }
}
