/**
 * The Confluence user directory, `/user…` (docs/behaviour.md §1): parse → domain/directory.ts → shape.
 * Anonymous callers may use every route here, on sites that allow them
 * (docs/behaviour.md §3); `/user/bulk` is closed to apps. The email API is http/confluence/email.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import Type from 'typebox';
import {
  anonymousOperations,
  BULK_PAGE,
  type DirectoryEntry,
  type DirectoryService,
  type Expansion,
  MEMBEROF_PAGE,
  MIGRATION_PAGE,
  type Operation,
  parseExpand,
} from '../../domain/directory.ts';
import { atStep, forbidden } from '../../domain/errors.ts';
import { requestedPage } from '../../domain/paging.ts';
import type { Site } from '../../domain/site.ts';
import type { PersonalSpace } from '../../domain/spaces.ts';
import { usesLegacyUserParameter } from '../../domain/users.ts';
import { errorResponses } from '../../schemas/errors.ts';
import {
  type AnonymousUserBody,
  AnonymousUserSchema,
  BulkQuerySchema,
  BulkUserLookupArraySchema,
  CurrentUserSchema,
  ExpandQuerySchema,
  GetUserQuerySchema,
  GroupArrayWithLinksSchema,
  MemberOfQuerySchema,
  MigratedUserArraySchema,
  MigrationQuerySchema,
  type UserBody,
  UserSchema,
} from '../../schemas/users.ts';
import { ANONYMOUS_AVATAR, userAvatar } from '../avatars.ts';
import { DEPRECATION_WARNING, deprecatedRoute, warnDeprecated } from '../deprecation.ts';
import { confluenceLinks, pageLinks, segment } from '../links.ts';
import { CONFLUENCE_REST } from '../paths.ts';

const TAGS = ['Confluence users'];

// ── Shapes ─────────────────────────────────────────────────────────────────

export function userSelfPath(accountId: string): string {
  return `${CONFLUENCE_REST}/user?accountId=${segment(accountId)}`;
}

function spaceBody(site: Site, space: PersonalSpace) {
  return {
    id: space.id,
    key: space.key,
    name: space.name,
    type: 'personal',
    status: 'current',
    _expandable: {},
    _links: confluenceLinks(site, `${CONFLUENCE_REST}/space/${segment(space.key)}`),
  };
}

/** docs/behaviour.md §4 User: `_expandable` names each expansion that was not made. */
export function userBody(site: Site, entry: DirectoryEntry): UserBody {
  const { user, expand } = entry;
  const expandable: UserBody['_expandable'] = {};
  if (!expand.has('operations')) expandable.operations = '';
  if (!expand.has('details.personal') && !expand.has('details.business')) expandable.details = '';
  if (!expand.has('personalSpace')) expandable.personalSpace = '';
  return {
    type: 'known',
    accountId: user.accountId,
    accountType: user.accountType,
    email: entry.email,
    publicName: user.publicName,
    profilePicture: userAvatar(user.accountId),
    displayName: user.displayName,
    timeZone: user.timeZone,
    isExternalCollaborator: user.externalCollaborator,
    externalCollaborator: user.externalCollaborator,
    ...(entry.operations ? { operations: entry.operations } : {}),
    ...(entry.details ? { details: entry.details } : {}),
    ...(entry.personalSpace ? { personalSpace: spaceBody(site, entry.personalSpace) } : {}),
    _expandable: expandable,
    _links: confluenceLinks(site, userSelfPath(user.accountId)),
  };
}

function anonymousBody(site: Site, operations: Operation[] | undefined): AnonymousUserBody {
  return {
    type: 'anonymous',
    displayName: 'Anonymous',
    profilePicture: ANONYMOUS_AVATAR,
    ...(operations ? { operations } : {}),
    _links: confluenceLinks(site, `${CONFLUENCE_REST}/user/anonymous`),
  };
}

/**
 * A list's links: `self` is this request (canonical `/wiki/rest/api` path,
 * without `jwt`), `next` while more results exist (docs/behaviour.md §4).
 */
function listLinks(request: FastifyRequest, path: string, page: { start: number; limit: number; more: boolean }) {
  const links = pageLinks(request, request.site, path, page);
  const query = new URLSearchParams(request.url.split('?')[1] ?? '');
  query.delete('jwt');
  const search = query.toString();
  return { ...links, self: `${links.base}${path}${search === '' ? '' : `?${search}`}` };
}

// ── Route-level policy ─────────────────────────────────────────────────────

/**
 * docs/behaviour.md §3: `/user/bulk` is closed to every app principal (Atlassian's Users reference: "Apps
 * cannot access this REST resource"). Runs right after the auth hook, so it
 * is a step-3 403, before any parameter is read.
 */
const closedToApps: onRequestHookHandler = async (request) => {
  const { principal } = request;
  if (principal.kind === 'app' || principal.kind === 'asUser') {
    // A route closed to apps is refused beside "Can use" (docs/behaviour.md §3 step 3).
    throw atStep(
      'can-use',
      forbidden(
        `Apps cannot use GET /user/bulk: app ${principal.app.key} must look users up one at a time with GET /user`,
      ),
    );
  }
};

// ── Routes ─────────────────────────────────────────────────────────────────

export interface UserDirectoryRoutesOptions {
  directory: DirectoryService;
}

export const userDirectoryRoutes: FastifyPluginAsyncTypebox<UserDirectoryRoutesOptions> = async (
  app,
  { directory },
) => {
  const expandOf = (values: string[] | undefined): Set<Expansion> => parseExpand(values);

  app.get(
    '/user',
    {
      schema: {
        tags: TAGS,
        summary: 'Get user',
        querystring: GetUserQuerySchema,
        response: { 200: UserSchema, ...errorResponses('confluence', { 404: 'No user has this accountId.' }) },
      },
      config: { access: { kind: 'product', operation: 'confluence.getUser', anonymous: true } },
    },
    async (request, reply) => {
      if (usesLegacyUserParameter(request.query)) warnDeprecated(reply);
      const entry = await directory.lookUpUser(
        request.principal,
        request.site,
        request.query,
        expandOf(request.query.expand),
      );
      return userBody(request.site, entry);
    },
  );

  app.get(
    '/user/anonymous',
    {
      schema: {
        tags: TAGS,
        summary: 'Get anonymous user',
        querystring: ExpandQuerySchema,
        response: { 200: AnonymousUserSchema },
      },
      config: { access: { kind: 'product', operation: 'confluence.getAnonymousUser', anonymous: true } },
    },
    async (request) => {
      const expand = expandOf(request.query.expand);
      return anonymousBody(
        request.site,
        expand.has('operations') ? anonymousOperations(request.site.settings) : undefined,
      );
    },
  );

  app.get(
    '/user/current',
    {
      schema: {
        tags: TAGS,
        summary: 'Get current user',
        querystring: ExpandQuerySchema,
        response: { 200: CurrentUserSchema },
      },
      config: { access: { kind: 'product', operation: 'confluence.getCurrentUser', anonymous: true } },
    },
    async (request) => {
      const expand = expandOf(request.query.expand);
      const current = await directory.currentUser(request.principal, request.site, expand);
      if (current === 'anonymous') {
        return anonymousBody(
          request.site,
          expand.has('operations') ? anonymousOperations(request.site.settings) : undefined,
        );
      }
      return userBody(request.site, current);
    },
  );

  app.get(
    '/user/memberof',
    {
      schema: {
        tags: TAGS,
        summary: 'Get group memberships for user',
        querystring: MemberOfQuerySchema,
        response: {
          200: GroupArrayWithLinksSchema,
          ...errorResponses('confluence', { 404: 'No user has this accountId.' }),
        },
      },
      config: { access: { kind: 'product', operation: 'confluence.getGroupMembershipsForUser', anonymous: true } },
    },
    async (request, reply) => {
      const { start, limit } = requestedPage(request.query, MEMBEROF_PAGE);
      if (usesLegacyUserParameter(request.query)) warnDeprecated(reply);
      const { groups, more } = await directory.groupsOfUser(request.site, request.query, { start, limit });
      const base = confluenceLinks(request.site, '').base;
      return {
        results: groups.map((group) => ({
          type: 'group',
          name: group.name,
          id: group.id,
          _links: { self: `${base}${CONFLUENCE_REST}/group/by-id?id=${segment(group.id)}` },
        })),
        start,
        limit,
        size: groups.length,
        _links: listLinks(request, `${CONFLUENCE_REST}/user/memberof`, { start, limit, more }),
      };
    },
  );

  app.get(
    '/user/bulk',
    {
      schema: {
        tags: TAGS,
        summary: 'Get multiple users using ids',
        querystring: BulkQuerySchema,
        response: { 200: BulkUserLookupArraySchema },
      },
      config: { access: { kind: 'product', operation: 'confluence.getBulkUserLookup', anonymous: true } },
      onRequest: closedToApps,
    },
    async (request) => {
      // No paging but the limit: `start` is always 0 (docs/decisions.md).
      const { limit } = requestedPage({ limit: request.query.limit }, BULK_PAGE);
      const entries = await directory.lookUpUsers(
        request.principal,
        request.site,
        request.query.accountId,
        limit,
        expandOf(request.query.expand),
      );
      return {
        results: entries.map((entry) => userBody(request.site, entry)),
        start: 0,
        limit,
        size: entries.length,
        _links: listLinks(request, `${CONFLUENCE_REST}/user/bulk`, { start: 0, limit, more: false }),
      };
    },
  );

  app.get(
    '/user/bulk/migration',
    {
      schema: {
        tags: TAGS,
        summary: 'Get user accountIds (deprecated)',
        querystring: MigrationQuerySchema,
        response: { 200: MigratedUserArraySchema },
      },
      config: {
        access: { kind: 'product', operation: 'confluence.getBulkUserMigration', anonymous: true },
        documented: {
          responseHeaders: {
            Warning: {
              description: `\`${DEPRECATION_WARNING}\`, on every answer (errors too).`,
              schema: Type.String(),
            },
          },
        },
      },
      onSend: deprecatedRoute,
    },
    async (request) => {
      const { start, limit } = requestedPage(request.query, MIGRATION_PAGE);
      const { users, more } = await directory.lookUpLegacyUsers(request.site, request.query, { start, limit });
      return {
        results: users.map((u) => ({
          ...(u.username === null ? {} : { username: u.username }),
          ...(u.key === null ? {} : { key: u.key }),
          accountId: u.accountId,
        })),
        start,
        limit,
        size: users.length,
        _links: listLinks(request, `${CONFLUENCE_REST}/user/bulk/migration`, { start, limit, more }),
      };
    },
  );
};
