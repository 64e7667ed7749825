/**
 * Content (pages and blog posts), as site admins manage it (docs/behaviour.md §2, §9),
 * with labels and view restrictions. Checks run in docs/behaviour.md §3's order: syntax
 * (400), existence (404), state (409). The id is the content's identity;
 * the space, type, title, labels and restrictions may change. Deleting
 * content removes its watches; its labels stay, with theirs.
 */
import type { Kysely } from 'kysely';
import type { AdminContent, AdminContentCreate, AdminContentPatch } from '../../schemas/admin-spaces.ts';
import {
  deleteContent,
  findContent,
  insertContent,
  listContent,
  nextContentId,
  setContentLabels,
  setRestrictionGroups,
  setRestrictionUsers,
  updateContentColumns,
} from '../../store/content.ts';
import { type Db, isUniqueViolation } from '../../store/database.ts';
import type { Database } from '../../store/schema.ts';
import { findSpaceByKey } from '../../store/spaces.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import {
  CONTENT_ID_PATTERN,
  type Content,
  checkContentId,
  checkLabel,
  checkSpaceKey,
  checkText,
  sortedDistinct,
} from '../spaces.ts';
import { type AdminList, checkMemberNames, listOf, type MemberNames, type PageRequest, pageOf } from './common.ts';
import { checkReferences, noSuchSpace } from './spaces.ts';

const noSuchContent = (id: string) => notFound(`No content with id ${id}`);
/** Attempts at a generated id when concurrent creates take the same one. */
const ID_ATTEMPTS = 5;

export function toAdminContent(content: Content): AdminContent {
  return { ...content };
}

export type RestrictionsChange = MemberNames;

/** Syntax of a restriction's names (400), with distinct, ordered lists. */
export function checkRestrictionsChange(
  change: RestrictionsChange | undefined,
  field = 'restrictions',
): RestrictionsChange {
  return change === undefined ? {} : checkMemberNames(change, field);
}

/** Valid label names, lower-cased, distinct and ordered. */
export function checkLabels(labels: readonly string[] | undefined, field = 'labels'): string[] | undefined {
  if (labels === undefined) return undefined;
  return sortedDistinct(labels.map((name, i) => checkLabel(name, `${field}[${i}]`)));
}

async function spaceIdOf(db: Db, siteId: number, key: string): Promise<number> {
  const space = await findSpaceByKey(db, siteId, key);
  if (!space) throw badRequest(`space: no space with key ${key}`);
  return space.id;
}

/** Applies a restriction change; the content is restricted while the result names anyone. */
async function applyRestrictions(
  db: Db,
  siteId: number,
  id: string,
  current: { users: string[]; groups: string[] },
  change: RestrictionsChange,
): Promise<void> {
  if (change.users === undefined && change.groups === undefined) return;
  if (change.users !== undefined) await setRestrictionUsers(db, siteId, id, change.users);
  if (change.groups !== undefined) await setRestrictionGroups(db, siteId, id, change.groups);
  const users = change.users ?? current.users;
  const groups = change.groups ?? current.groups;
  await updateContentColumns(db, siteId, id, { restricted: users.length + groups.length > 0 });
}

/** The administration API's content (docs/behaviour.md §9); the CLI's `content` command uses it too. */
export class ContentAdmin {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly siteId: number,
  ) {}

  async list(request: PageRequest & { space?: string } = {}): Promise<AdminList<AdminContent>> {
    const page = pageOf(request);
    let spaceId: number | undefined;
    if (request.space !== undefined) {
      checkSpaceKey(request.space, 'space');
      const space = await findSpaceByKey(this.db, this.siteId, request.space);
      if (!space) throw noSuchSpace(request.space);
      spaceId = space.id;
    }
    return listOf((await listContent(this.db, this.siteId, page, spaceId)).items.map(toAdminContent), page);
  }

  async get(id: string): Promise<AdminContent> {
    checkContentId(id, 'id');
    const content = await findContent(this.db, this.siteId, id);
    if (!content) throw noSuchContent(id);
    return toAdminContent(content);
  }

  async create(input: AdminContentCreate): Promise<AdminContent> {
    if (input.id !== undefined) checkContentId(input.id, 'id');
    checkSpaceKey(input.space, 'space');
    checkText(input.title, 'title');
    const labels = checkLabels(input.labels) ?? [];
    const restrictions = checkRestrictionsChange(input.restrictions);
    const duplicate = (id: string) => conflict(`Content with id ${id} already exists`);

    for (let attempt = 1; ; attempt++) {
      try {
        const id = await this.db.transaction().execute(async (trx) => {
          const spaceId = await spaceIdOf(trx, this.siteId, input.space);
          await checkReferences(trx, this.siteId, 'restrictions', restrictions);
          const id = input.id ?? (await nextContentId(trx, this.siteId));
          if (!CONTENT_ID_PATTERN.test(id))
            throw conflict('No content id is left: the largest has 18 digits; give an id');
          if (await findContent(trx, this.siteId, id)) throw duplicate(id);
          await insertContent(trx, this.siteId, id, {
            spaceId,
            type: input.type ?? 'page',
            title: input.title,
            restricted: false,
          });
          await setContentLabels(trx, this.siteId, id, labels);
          await applyRestrictions(trx, this.siteId, id, { users: [], groups: [] }, restrictions);
          return id;
        });
        return this.get(id);
      } catch (error) {
        // A concurrent create took the id between the check and the insert.
        if (!isUniqueViolation(error)) throw error;
        if (input.id !== undefined) throw duplicate(input.id);
        if (attempt >= ID_ATTEMPTS)
          throw conflict('Content conflicts with other content created at the same time: try again');
      }
    }
  }

  async update(id: string, patch: AdminContentPatch): Promise<AdminContent> {
    checkContentId(id, 'id');
    if (patch.space !== undefined) checkSpaceKey(patch.space, 'space');
    if (patch.title !== undefined) checkText(patch.title, 'title');
    const labels = checkLabels(patch.labels);
    const restrictions = checkRestrictionsChange(patch.restrictions);
    await this.db.transaction().execute(async (trx) => {
      const current = await findContent(trx, this.siteId, id);
      if (!current) throw noSuchContent(id);
      const spaceId = patch.space === undefined ? undefined : await spaceIdOf(trx, this.siteId, patch.space);
      await checkReferences(trx, this.siteId, 'restrictions', restrictions);
      await updateContentColumns(trx, this.siteId, id, { spaceId, type: patch.type, title: patch.title });
      if (labels !== undefined) await setContentLabels(trx, this.siteId, id, labels);
      await applyRestrictions(trx, this.siteId, id, current.restrictions, restrictions);
    });
    return this.get(id);
  }

  /** docs/behaviour.md §2: removes the content and its watches; its labels stay, and so do their watches. */
  async delete(id: string): Promise<void> {
    await this.get(id);
    await deleteContent(this.db, this.siteId, id);
  }
}
