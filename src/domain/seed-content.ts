/**
 * The seed file's `labels`, `spaces`, `content` and `watches` sections
 * (docs/behaviour.md §8), checked and loaded inside the seed loader's transaction
 * (domain/seed.ts), after users, groups and apps.
 *
 * - A reference may name something defined in the file or stored by an
 *   earlier load; anything else is a problem naming its path.
 * - Spaces are upserted by key and content by id, as the file describes
 *   them: a `view` or `restrictions` given replaces the stored one whole
 *   (parts left out are empty), one left out keeps what is stored (a new
 *   space: viewed by nobody but its owner; new content: unrestricted). A
 *   space without `type` is global; content without `type` keeps its
 *   stored one (new content: a page).
 * - A personal space's `owner` may be null: one whose owner was deleted
 *   (docs/behaviour.md §2), as an export writes it (§11).
 * - Labels are created when absent; labels on content are add-only, like
 *   memberships, so a restart never strips a label added since.
 * - Watches are inserted only when absent, never removed. They are the
 *   file's word: no view check applies to them.
 */

import type { SeedFile } from '../schemas/seed.ts';
import {
  addContentLabels,
  ensureLabel,
  findContent,
  insertContent,
  labelExists,
  setRestrictionGroups,
  setRestrictionUsers,
  updateContentColumns,
} from '../store/content.ts';
import type { Db } from '../store/database.ts';
import {
  findPersonalSpaceOf,
  findSpaceByKey,
  insertSpace,
  setSpaceViewGroups,
  setSpaceViewUsers,
  updateSpaceColumns,
} from '../store/spaces.ts';
import { findUser } from '../store/users.ts';
import { addWatch, isWatching, type WatchTarget } from '../store/watches.ts';
import { labelProblem, normalizeLabel, sortedDistinct, textProblem } from './spaces.ts';

export interface ContentSummary {
  spaces: number;
  content: number;
  labels: number;
  watchesAdded: number;
}

type Known = (value: string) => Promise<boolean>;

/** Every problem of the four sections, each naming its path. */
export async function checkContentSections(
  db: Db,
  siteId: number,
  seed: SeedFile,
  knownGroup: Known,
  knownUser: Known,
  problems: string[],
): Promise<void> {
  const fileSpaces = new Map((seed.spaces ?? []).map((s) => [s.key, s]));
  const fileContent = new Set((seed.content ?? []).map((c) => c.id));
  const fileLabels = new Set([
    ...(seed.labels ?? []).map(normalizeLabel),
    ...(seed.content ?? []).flatMap((c) => (c.labels ?? []).map(normalizeLabel)),
  ]);
  const knownSpace = async (key: string) =>
    fileSpaces.has(key) || (await findSpaceByKey(db, siteId, key)) !== undefined;
  const knownContent = async (id: string) => fileContent.has(id) || (await findContent(db, siteId, id)) !== undefined;
  const knownLabel = async (name: string) =>
    fileLabels.has(normalizeLabel(name)) || (await labelExists(db, siteId, normalizeLabel(name)));

  const checkUsers = async (path: string, ids: readonly string[] | undefined) => {
    for (const [i, id] of (ids ?? []).entries())
      if (!(await knownUser(id))) problems.push(`${path}[${i}]: no user with accountId "${id}"`);
  };
  const checkGroups = async (path: string, names: readonly string[] | undefined) => {
    for (const [i, name] of (names ?? []).entries()) {
      if (!(await knownGroup(name))) problems.push(`${path}[${i}]: group "${name}" is not defined in groups`);
    }
  };
  const checkLabel = (path: string, name: string) => {
    const problem = labelProblem(name);
    if (problem) problems.push(`${path}: label "${name}" ${problem}`);
  };

  for (const [i, name] of (seed.labels ?? []).entries()) checkLabel(`labels[${i}]`, name);

  const seenKeys = new Set<string>();
  const owners = new Map<string, string>();
  for (const [i, space] of (seed.spaces ?? []).entries()) {
    const path = `spaces[${i}]`;
    if (seenKeys.has(space.key)) problems.push(`${path}.key: space "${space.key}" is already listed above`);
    seenKeys.add(space.key);
    const nameProblem = textProblem(space.name);
    if (nameProblem) problems.push(`${path}.name: ${nameProblem}`);
    if (space.type === 'personal' && space.owner === undefined)
      problems.push(`${path}.owner: a personal space needs an owner`);
    if (space.type !== 'personal' && space.owner !== undefined)
      problems.push(`${path}.owner: only a personal space has an owner`);
    // `owner: null` (docs/behaviour.md §11): a personal space whose owner was deleted, as an export writes it.
    if (space.owner !== undefined && space.owner !== null) {
      const owner = await findUser(db, siteId, space.owner);
      if (!(await knownUser(space.owner))) problems.push(`${path}.owner: no user with accountId "${space.owner}"`);
      else if (owner?.accountType === 'app')
        problems.push(`${path}.owner: user "${space.owner}" is an app's bot user, which owns no space`);
      if (space.type === 'personal') {
        // One personal space per owner: in the file, and among stored spaces the file does not hand to someone else.
        const other = owners.get(space.owner) ?? (await storedSpaceOf(db, siteId, space.owner, space.key, fileSpaces));
        if (other !== undefined)
          problems.push(`${path}.owner: user "${space.owner}" already owns the personal space "${other}"`);
        owners.set(space.owner, space.key);
      }
    }
    await checkUsers(`${path}.view.users`, space.view?.users);
    await checkGroups(`${path}.view.groups`, space.view?.groups);
  }

  const seenIds = new Set<string>();
  for (const [i, item] of (seed.content ?? []).entries()) {
    const path = `content[${i}]`;
    if (seenIds.has(item.id)) problems.push(`${path}.id: content "${item.id}" is already listed above`);
    seenIds.add(item.id);
    const titleProblem = textProblem(item.title);
    if (titleProblem) problems.push(`${path}.title: ${titleProblem}`);
    if (!(await knownSpace(item.space))) problems.push(`${path}.space: space "${item.space}" is not defined in spaces`);
    for (const [j, name] of (item.labels ?? []).entries()) checkLabel(`${path}.labels[${j}]`, name);
    await checkUsers(`${path}.restrictions.users`, item.restrictions?.users);
    await checkGroups(`${path}.restrictions.groups`, item.restrictions?.groups);
  }

  for (const [i, watch] of (seed.watches ?? []).entries()) {
    const path = `watches[${i}]`;
    const targets = [watch.content, watch.space, watch.label].filter((t) => t !== undefined);
    if (targets.length !== 1) problems.push(`${path}: name exactly one of content, space or label`);
    if (!(await knownUser(watch.user))) problems.push(`${path}.user: no user with accountId "${watch.user}"`);
    if (watch.content !== undefined && !(await knownContent(watch.content))) {
      problems.push(`${path}.content: content "${watch.content}" is not defined in content`);
    }
    if (watch.space !== undefined && !(await knownSpace(watch.space)))
      problems.push(`${path}.space: space "${watch.space}" is not defined in spaces`);
    if (watch.label !== undefined && !(await knownLabel(watch.label)))
      problems.push(`${path}.label: label "${watch.label}" is not defined in labels`);
  }
}

/** The key of a stored personal space `owner` keeps after this file loads, other than `key`. */
async function storedSpaceOf(
  db: Db,
  siteId: number,
  owner: string,
  key: string,
  fileSpaces: Map<string, NonNullable<SeedFile['spaces']>[number]>,
): Promise<string | undefined> {
  const stored = await findPersonalSpaceOf(db, siteId, owner);
  if (!stored || stored.key === key) return undefined;
  const relisted = fileSpaces.get(stored.key);
  if (relisted && (relisted.type !== 'personal' || relisted.owner !== owner)) return undefined;
  return stored.key;
}

/** Loads the four sections; call only when `checkContentSections` found no problem. */
export async function loadContentSections(db: Db, siteId: number, seed: SeedFile): Promise<ContentSummary> {
  const summary: ContentSummary = { spaces: 0, content: 0, labels: 0, watchesAdded: 0 };

  const labels = sortedDistinct(
    [...(seed.labels ?? []), ...(seed.content ?? []).flatMap((c) => c.labels ?? [])].map(normalizeLabel),
  );
  for (const label of labels) await ensureLabel(db, siteId, label);
  summary.labels = labels.length;

  // Owners first leave the spaces the file takes from them, so handing a
  // personal space to its new owner never meets the one-per-owner index.
  for (const space of seed.spaces ?? []) {
    const stored = await findSpaceByKey(db, siteId, space.key);
    if (stored && stored.owner !== null && stored.owner !== (space.type === 'personal' ? space.owner : undefined)) {
      await updateSpaceColumns(db, stored.id, { owner: null });
    }
  }
  for (const space of seed.spaces ?? []) {
    const type = space.type ?? 'global';
    const owner = type === 'personal' ? (space.owner ?? null) : null;
    const stored = await findSpaceByKey(db, siteId, space.key);
    const anonymous = space.view === undefined ? (stored?.view.anonymous ?? false) : (space.view.anonymous ?? false);
    let id: number;
    if (stored) {
      id = stored.id;
      await updateSpaceColumns(db, id, { name: space.name, type, owner, anonymous });
    } else {
      id = await insertSpace(db, siteId, space.key, { name: space.name, type, owner, anonymous });
    }
    if (space.view !== undefined) {
      await setSpaceViewGroups(db, siteId, id, sortedDistinct(space.view.groups ?? []));
      await setSpaceViewUsers(db, siteId, id, sortedDistinct(space.view.users ?? []));
    }
    summary.spaces++;
  }

  for (const item of seed.content ?? []) {
    const space = (await findSpaceByKey(db, siteId, item.space))!;
    const stored = await findContent(db, siteId, item.id);
    const restrictions = item.restrictions && {
      users: sortedDistinct(item.restrictions.users ?? []),
      groups: sortedDistinct(item.restrictions.groups ?? []),
    };
    const restricted = restrictions
      ? restrictions.users.length + restrictions.groups.length > 0
      : (stored?.restricted ?? false);
    if (stored) {
      await updateContentColumns(db, siteId, item.id, {
        spaceId: space.id,
        type: item.type ?? stored.type,
        title: item.title,
        restricted,
      });
    } else {
      await insertContent(db, siteId, item.id, {
        spaceId: space.id,
        type: item.type ?? 'page',
        title: item.title,
        restricted,
      });
    }
    if (restrictions) {
      await setRestrictionUsers(db, siteId, item.id, restrictions.users);
      await setRestrictionGroups(db, siteId, item.id, restrictions.groups);
    }
    await addContentLabels(db, siteId, item.id, sortedDistinct((item.labels ?? []).map(normalizeLabel)));
    summary.content++;
  }

  for (const watch of seed.watches ?? []) {
    let target: WatchTarget;
    if (watch.content !== undefined) target = { kind: 'content', contentId: watch.content };
    else if (watch.space !== undefined)
      target = { kind: 'space', spaceId: (await findSpaceByKey(db, siteId, watch.space))!.id };
    else target = { kind: 'label', label: normalizeLabel(watch.label!) };
    if (!(await isWatching(db, siteId, watch.user, target)) && (await addWatch(db, siteId, watch.user, target)))
      summary.watchesAdded++;
  }
  return summary;
}
