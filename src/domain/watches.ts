/**
 * Content, label and space watches (docs/behaviour.md §1, §3 "Watches"). Checks run in
 * docs/behaviour.md §3's order, after the route's credentials, can-use, scope and XSRF
 * checks (http/confluence/watches.ts):
 * - syntax (400): the target's id, key or name, and an `accountId`;
 * - the access rule (403): naming a user other than the caller needs admin —
 *   asApp counts as admin, asUser only when the impersonated user is one;
 * - existence: an unknown target user is a 404; unknown content, spaces and
 *   labels keep Atlassian's documented 403, and so does content or a space
 *   the TARGET user cannot view. Both 403s read alike, so no answer tells
 *   whether hidden content exists.
 * Adding and removing are idempotent.
 */
import type { Kysely } from 'kysely';
import type { SiteSettings } from '../schemas/site.ts';
import { findContent, labelExists } from '../store/content.ts';
import { findUsersByLegacyId } from '../store/directory.ts';
import { groupNamesOf } from '../store/groups.ts';
import type { Database } from '../store/schema.ts';
import { findSpaceByKey } from '../store/spaces.ts';
import { findUser } from '../store/users.ts';
import { addWatch, isWatching, removeWatch, type WatchTarget } from '../store/watches.ts';
import { ApiError, atStep, forbidden } from './errors.ts';
import { callerAccountId, isAdmin, type Principal } from './principal.ts';
import type { Site } from './site.ts';
import { canViewContent, canViewSpace, checkContentId, checkLabel, checkSpaceKey, type Viewer } from './spaces.ts';
import { checkAccountId, given, noSuchUser, type User } from './users.ts';

/** One request's view of the store: the caller, the site's settings, and the database. */
interface WatchContext {
  db: Kysely<Database>;
  principal: Principal;
  site: Site;
}

export type WatchKind = 'content' | 'label' | 'space';

/** How a request names the user: `accountId`, else the legacy `key`, else `username`, else the caller (docs/behaviour.md §1). */
export interface WatchUserQuery {
  accountId?: string;
  key?: string;
  username?: string;
}

// ── The target user ────────────────────────────────────────────────────────

interface TargetUser {
  accountId: string;
  user: User;
}

/** docs/behaviour.md §3: asApp counts as admin here; a user or asUser only when that user is an admin. */
function mayNameOthers(principal: Principal, settings: SiteSettings): boolean {
  switch (principal.kind) {
    case 'app':
      return true;
    case 'user':
    case 'asUser':
      return isAdmin(principal.user, settings);
    case 'anonymous':
    // The operator never reaches a product route (http/auth.ts).
    case 'operator':
      return false;
  }
}

async function resolveTargetUser(ctx: WatchContext, query: WatchUserQuery): Promise<TargetUser> {
  // An app acting as itself watches as its bot user. Anonymous callers never reach here (the routes refuse them).
  const caller = callerAccountId(ctx.principal);
  if (caller === undefined)
    throw new ApiError('unauthenticated', 'Authentication required: anonymous callers cannot watch');
  let accountId: string | undefined;
  let user: User | undefined;
  let legacy: { field: 'userKey' | 'username'; name: string; value: string } | undefined;
  if (given(query.accountId)) {
    checkAccountId(query.accountId);
    accountId = query.accountId;
  } else if (given(query.key)) {
    legacy = { field: 'userKey', name: 'key', value: query.key };
  } else if (given(query.username)) {
    legacy = { field: 'username', name: 'username', value: query.username };
  }
  if (legacy) {
    user = (await findUsersByLegacyId(ctx.db, ctx.site.id, legacy.field, [legacy.value])).get(legacy.value);
    accountId = user?.accountId;
  }
  const named = accountId !== undefined || legacy !== undefined;
  if (!named) accountId = caller;
  // Step 6: naming anyone but oneself needs admin. A legacy identifier that
  // matches nobody is nobody's own, so the refusal reveals no account.
  if (named && accountId !== caller && !mayNameOthers(ctx.principal, ctx.site.settings)) {
    const who = accountId ?? `${legacy!.name} "${legacy!.value}"`;
    throw forbidden(`Only site admins and apps may manage another user's watches: you may not name user ${who}`);
  }
  // Step 7: the target user exists.
  if (accountId === undefined) throw noSuchUser(legacy!.value, legacy!.name);
  user ??= await findUser(ctx.db, ctx.site.id, accountId);
  if (!user) throw noSuchUser(accountId);
  return { accountId, user };
}

/** What the target user may view: an app's bot views everything, as its app does (docs/behaviour.md §3). */
async function viewerOf(ctx: WatchContext, user: User): Promise<Viewer> {
  if (user.accountType === 'app') return { kind: 'app' };
  return { kind: 'user', accountId: user.accountId, groups: await groupNamesOf(ctx.db, ctx.site.id, user.accountId) };
}

// ── The target ─────────────────────────────────────────────────────────────

/** Syntax of the path segment (step 4); an empty segment is the route's 404 (http/confluence/watches.ts). */
function parseTarget(kind: WatchKind, value: string): string {
  switch (kind) {
    case 'content':
      checkContentId(value);
      return value;
    case 'space':
      checkSpaceKey(value);
      return value;
    case 'label':
      return checkLabel(value);
  }
}

/** Step 7, existence, though Atlassian answers it with a 403 (docs/behaviour.md §3). */
const hidden = (what: string, accountId: string) =>
  atStep('existence', forbidden(`${what} does not exist, or user ${accountId} may not view it`));

/** Step 7: the target exists and the target user may view it, else Atlassian's documented 403. */
async function resolveTarget(
  ctx: WatchContext,
  kind: WatchKind,
  name: string,
  target: TargetUser,
): Promise<WatchTarget> {
  const viewer = await viewerOf(ctx, target.user);
  switch (kind) {
    case 'content': {
      const content = await findContent(ctx.db, ctx.site.id, name);
      const space = content && (await findSpaceByKey(ctx.db, ctx.site.id, content.space));
      if (!content || !space || !canViewContent(viewer, space, content))
        throw hidden(`Content ${name}`, target.accountId);
      return { kind: 'content', contentId: content.id };
    }
    case 'space': {
      const space = await findSpaceByKey(ctx.db, ctx.site.id, name);
      if (!space || !canViewSpace(viewer, space)) throw hidden(`Space ${name}`, target.accountId);
      return { kind: 'space', spaceId: space.id };
    }
    case 'label':
      // Labels have no view check (docs/behaviour.md §3).
      if (!(await labelExists(ctx.db, ctx.site.id, name)))
        throw atStep('existence', forbidden(`No label named "${name}" exists`));
      return { kind: 'label', label: name };
  }
}

async function prepare(ctx: WatchContext, kind: WatchKind, value: string, query: WatchUserQuery) {
  const name = parseTarget(kind, value);
  const user = await resolveTargetUser(ctx, query);
  return { accountId: user.accountId, target: await resolveTarget(ctx, kind, name, user) };
}

/**
 * Watches, for one caller at a time: every method takes the principal and the
 * site of the request, the kind of target, its id, key or name as
 * given in the path, and the user as the query named them.
 */
export class WatchService {
  constructor(private readonly db: Kysely<Database>) {}

  /** `GET /user/watch/{kind}/{value}` → `{watching}`. */
  async status(
    principal: Principal,
    site: Site,
    kind: WatchKind,
    value: string,
    query: WatchUserQuery,
  ): Promise<{ watching: boolean }> {
    const ctx: WatchContext = { db: this.db, principal, site };
    const { accountId, target } = await prepare(ctx, kind, value, query);
    return { watching: await isWatching(this.db, site.id, accountId, target) };
  }

  /** `POST`: idempotent; watching twice is watching. */
  async watch(principal: Principal, site: Site, kind: WatchKind, value: string, query: WatchUserQuery): Promise<void> {
    const ctx: WatchContext = { db: this.db, principal, site };
    const { accountId, target } = await prepare(ctx, kind, value, query);
    try {
      await addWatch(this.db, site.id, accountId, target);
    } catch (error) {
      // A foreign key refused the insert: the target or the user was removed
      // since the checks. Checking again answers that with its 403 or 404.
      await prepare(ctx, kind, value, query);
      throw error;
    }
  }

  /** `DELETE`: idempotent; removing an absent watch changes nothing. */
  async unwatch(
    principal: Principal,
    site: Site,
    kind: WatchKind,
    value: string,
    query: WatchUserQuery,
  ): Promise<void> {
    const ctx: WatchContext = { db: this.db, principal, site };
    const { accountId, target } = await prepare(ctx, kind, value, query);
    await removeWatch(this.db, site.id, accountId, target);
  }
}
