/**
 * Spaces, content and labels (docs/behaviour.md §2), and the Confluence view permission
 * model every watch asks (docs/behaviour.md §3 "Watches"). No HTTP and no SQL.
 *
 * Who views what:
 * - an app acting as itself (and so its bot user) views every space and
 *   content item (docs/behaviour.md §3);
 * - a space is viewed by its personal owner, the users and the members of the
 *   groups its view permission names, and everyone when it allows anonymous
 *   viewers (a signed-in user may do whatever an anonymous one may);
 * - content is viewed by whoever views its space and, when the content is
 *   restricted, is also named by the restriction (a user, or a member of a
 *   group). A restriction whose users and groups have all been deleted stays
 *   a restriction: content never opens up because someone was removed.
 */
import { badRequest } from './errors.ts';

export type SpaceType = 'global' | 'personal';
export type ContentType = 'page' | 'blogpost';

export const SPACE_TYPES: readonly SpaceType[] = ['global', 'personal'];
export const CONTENT_TYPES: readonly ContentType[] = ['page', 'blogpost'];

export interface ViewPermission {
  /** Group names, in code-point order. */
  groups: string[];
  /** accountIds, in code-point order. */
  users: string[];
  anonymous: boolean;
}

export interface Space {
  id: number;
  key: string;
  name: string;
  type: SpaceType;
  /** A personal space's owner; null for a global space, or once the owner was deleted. */
  owner: string | null;
  view: ViewPermission;
}

/** A personal space as the directory shows it (docs/behaviour.md §2 Space, §4 `personalSpace`). */
export type PersonalSpace = Pick<Space, 'id' | 'key' | 'name'>;

export interface Restrictions {
  users: string[];
  groups: string[];
}

export interface Content {
  id: string;
  type: ContentType;
  title: string;
  /** The space's key. */
  space: string;
  /** Lower-cased names, in code-point order. */
  labels: string[];
  /** Whether a view restriction applies (it may name nobody any more). */
  restricted: boolean;
  restrictions: Restrictions;
}

/** Who is asking to view: a user with their groups, or an app (which views everything). */
export type Viewer = { kind: 'app' } | { kind: 'user'; accountId: string; groups: readonly string[] };

export function canViewSpace(viewer: Viewer, space: Pick<Space, 'owner' | 'view'>): boolean {
  if (viewer.kind === 'app') return true;
  if (space.owner !== null && space.owner === viewer.accountId) return true;
  if (space.view.anonymous) return true;
  if (space.view.users.includes(viewer.accountId)) return true;
  return viewer.groups.some((g) => space.view.groups.includes(g));
}

export function canViewContent(
  viewer: Viewer,
  space: Pick<Space, 'owner' | 'view'>,
  content: Pick<Content, 'restricted' | 'restrictions'>,
): boolean {
  if (!canViewSpace(viewer, space)) return false;
  if (viewer.kind === 'app' || !content.restricted) return true;
  return (
    content.restrictions.users.includes(viewer.accountId) ||
    viewer.groups.some((g) => content.restrictions.groups.includes(g))
  );
}

// ── Names and ids ──────────────────────────────────────────────────────────

/** Confluence's rule: letters and digits; a personal space's key may start with `~`. */
export const SPACE_KEY_PATTERN = /^~?[A-Za-z0-9]{1,255}$/;
/** A numeric string; 18 digits keeps it within a signed 64-bit integer. */
export const CONTENT_ID_PATTERN = /^[0-9]{1,18}$/;
export const MAX_LABEL_LENGTH = 255;
export const MAX_TITLE_LENGTH = 255;
/** Characters Confluence refuses in a label (its documented list), and white space. */
const LABEL_FORBIDDEN = /[\s:;,.?&[\]()#^*@!]/u;
const CONTROL = /\p{Cc}/u;

export function checkSpaceKey(key: string, field = 'spaceKey'): void {
  if (!SPACE_KEY_PATTERN.test(key)) {
    throw badRequest(
      `${field} "${key}" is not a valid space key: use 1 to 255 letters or digits, optionally after a leading ~`,
    );
  }
}

export function checkContentId(id: string, field = 'contentId'): void {
  if (!CONTENT_ID_PATTERN.test(id)) throw badRequest(`${field} "${id}" is not a content id: use 1 to 18 digits`);
}

/** docs/behaviour.md §2: label names are stored lower-cased. */
export function normalizeLabel(name: string): string {
  return name.toLowerCase();
}

/** The reason a label name is refused, or undefined when it is a valid one. */
export function labelProblem(name: string): string | undefined {
  if ([...name].length === 0 || [...name].length > MAX_LABEL_LENGTH)
    return `must be 1 to ${MAX_LABEL_LENGTH} characters long`;
  if (CONTROL.test(name)) return 'must not contain control characters';
  const bad = LABEL_FORBIDDEN.exec(name);
  if (bad)
    return `must not contain white space or any of : ; , . ? & [ ] ( ) # ^ * @ ! (found "${/\s/u.test(bad[0]) ? 'white space' : bad[0]}")`;
  return undefined;
}

/** A valid label name, lower-cased. */
export function checkLabel(name: string, field = 'labelName'): string {
  const problem = labelProblem(name);
  if (problem) throw badRequest(`${field} "${name.replace(/\p{Cc}/gu, '?')}" is not a valid label name: it ${problem}`);
  return normalizeLabel(name);
}

/** A name or title: 1..255 characters, no control characters, not blank. */
export function textProblem(text: string, max = MAX_TITLE_LENGTH): string | undefined {
  if (text.trim() === '') return 'must not be blank';
  if ([...text].length > max) return `must be at most ${max} characters long`;
  if (CONTROL.test(text)) return 'must not contain control characters';
  return undefined;
}

export function checkText(text: string, field: string, max = MAX_TITLE_LENGTH): void {
  const problem = textProblem(text, max);
  if (problem) throw badRequest(`${field} ${problem}`);
}

/** Code-point order, as both stores sort (docs/behaviour.md §4); `<` on strings compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Distinct values in code-point order (how permissions, restrictions and labels are kept and shown). */
export function sortedDistinct(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareCodePoints);
}
