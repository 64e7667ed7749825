/**
 * `/user/watch/{content,label,space}/…` (docs/behaviour.md §1, §3 "Watches"): parse →
 * domain/watches.ts → shape. Anonymous callers are never allowed. Beyond the
 * auth hook's 401s and 403s, two route-level checks:
 * - an empty path segment (`/user/watch/space/`) is an unknown path, a
 *   404 before credentials (docs/behaviour.md §3 step 1), since the router matches it;
 * - `POST`/`DELETE` need `X-Atlassian-Token: no-check` unless the site's
 *   `xsrfCheck` is off: a 403 right after the scope check (step 3).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import Type from 'typebox';
import { ApiError, atStep, badRequest, forbidden } from '../../domain/errors.ts';
import type { OperationId } from '../../domain/scopes.ts';
import { usesLegacyUserParameter } from '../../domain/users.ts';
import type { WatchKind, WatchService } from '../../domain/watches.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import {
  ContentWatchParamsSchema,
  LabelWatchParamsSchema,
  SpaceWatchParamsSchema,
  UserWatchSchema,
  type WatchUserQuery,
  WatchUserQuerySchema,
} from '../../schemas/watches.ts';
import { warnDeprecated } from '../deprecation.ts';

const TAGS = ['Confluence watches'];

/** Each kind of target: its path parameter, its schema and its three operations (reference/ operationIds). */
const KINDS = [
  {
    kind: 'content',
    param: 'contentId',
    params: ContentWatchParamsSchema,
    noun: 'content',
    operations: {
      get: 'confluence.getContentWatchStatus',
      post: 'confluence.addContentWatcher',
      delete: 'confluence.removeContentWatcher',
    },
  },
  {
    kind: 'label',
    param: 'labelName',
    params: LabelWatchParamsSchema,
    noun: 'label',
    operations: {
      get: 'confluence.isWatchingLabel',
      post: 'confluence.addLabelWatcher',
      delete: 'confluence.removeLabelWatcher',
    },
  },
  {
    kind: 'space',
    param: 'spaceKey',
    params: SpaceWatchParamsSchema,
    noun: 'space',
    operations: {
      get: 'confluence.isWatchingSpace',
      post: 'confluence.addSpaceWatcher',
      delete: 'confluence.removeSpaceWatch',
    },
  },
] as const satisfies ReadonlyArray<{
  kind: WatchKind;
  param: string;
  params: unknown;
  noun: string;
  operations: Record<'get' | 'post' | 'delete', OperationId>;
}>;

/** docs/behaviour.md §3: an empty path segment → 404, before credentials (the router matches `…/space/` with an empty key). */
const emptySegmentIsUnknown: onRequestHookHandler = (request, _reply, done) => {
  const params = request.params as Record<string, string | undefined>;
  const empty = ['contentId', 'labelName', 'spaceKey'].find((name) => params[name] === '');
  if (empty === undefined) return done();
  const path = request.url.split('?')[0] ?? '';
  done(atStep('route', new ApiError('not_found', `No resource at ${request.method} ${path}: the ${empty} is missing`)));
};

/** `no-check`, or `nocheck`, in any case (docs/behaviour.md §3). */
const NO_CHECK = /^no-?check$/i;

/**
 * Step 3, after the auth hook's scope check (docs/behaviour.md §3): `POST`/`DELETE` need
 * `X-Atlassian-Token: no-check` unless the site's `xsrfCheck` is off; else 403, before any parameter.
 */
const xsrfProtected: onRequestHookHandler = async (request) => {
  const { method } = request;
  if (!request.site.settings.xsrfCheck || (method !== 'POST' && method !== 'DELETE')) return;
  const header = request.headers['x-atlassian-token'];
  const values = [header ?? []]
    .flat()
    .flatMap((v) => v.split(','))
    .map((v) => v.trim());
  if (values.some((v) => NO_CHECK.test(v))) return;
  throw atStep(
    'xsrf',
    forbidden(
      header === undefined
        ? `XSRF check failed: ${method} needs the header X-Atlassian-Token: no-check (confluence.js: noCheckAtlassianToken: true)`
        : `XSRF check failed: X-Atlassian-Token must be no-check, not "${[header].flat().join(', ')}"`,
    ),
  );
};

/** docs/behaviour.md §3: a missing or hidden target is a 403 (the auth hook's), an unknown named user or an empty segment a 404. */
const WATCH_ERRORS = errorResponses('confluence', {
  403: 'The target does not exist, or the user may not view it; or naming another user needs admin.',
  404: 'The named user does not exist, or the path segment is empty.',
});

const XSRF_HEADER = {
  'x-atlassian-token': {
    description: "`no-check`: required unless the site's xsrfCheck setting is off; else 403.",
    schema: Type.Literal('no-check'),
  },
};

/** POST and DELETE: idempotent, 204 either way. `run` names the WatchService method. */
const WATCH_CHANGES = [
  {
    method: 'POST',
    operation: 'post',
    summary: (noun: string) => `Add ${noun} watcher`,
    answer: 'Watching; also when already watching.',
    run: 'watch',
  },
  {
    method: 'DELETE',
    operation: 'delete',
    summary: (noun: string) => `Remove ${noun} watcher`,
    answer: 'Not watching; also when not watching before.',
    run: 'unwatch',
  },
] as const;

export interface WatchRoutesOptions {
  watches: WatchService;
}

export const watchRoutes: FastifyPluginAsyncTypebox<WatchRoutesOptions> = async (app, { watches }) => {
  /** A legacy `key`/`username` earns the deprecation Warning (docs/behaviour.md §4), errors included. */
  const userQuery = (request: FastifyRequest, reply: FastifyReply): WatchUserQuery => {
    const { accountId, key, username } = request.query as WatchUserQuery;
    const query = { accountId, key, username };
    if (usesLegacyUserParameter(query)) warnDeprecated(reply);
    return query;
  };

  app.addHook('onRequest', emptySegmentIsUnknown);

  // Watch routes take no body. confluence.js (axios) labels its body-less
  // POSTs `application/x-www-form-urlencoded`: an empty body of any type is
  // no body. A body with content is still the 400 naming its type (docs/behaviour.md §4).
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    const type = request.headers['content-type'];
    done(badRequest(`Content-Type "${type}" is not supported: this operation takes no request body`), undefined);
  });

  for (const { kind, param, params, noun, operations } of KINDS) {
    const url = `/user/watch/${kind}/:${param}`;
    const target = (request: FastifyRequest) => (request.params as Record<string, string>)[param]!;

    app.get(
      url,
      {
        schema: {
          tags: TAGS,
          summary: `Get ${noun} watch status`,
          params,
          querystring: WatchUserQuerySchema,
          response: { 200: UserWatchSchema, ...WATCH_ERRORS },
        },
        config: { access: { kind: 'product', operation: operations.get } },
      },
      async (request, reply) =>
        watches.status(request.principal, request.site, kind, target(request), userQuery(request, reply)),
    );

    for (const change of WATCH_CHANGES) {
      app.route({
        method: change.method,
        url,
        schema: {
          tags: TAGS,
          summary: change.summary(noun),
          params,
          querystring: WatchUserQuerySchema,
          response: { 204: NoContent(change.answer), ...WATCH_ERRORS },
        },
        config: {
          access: { kind: 'product', operation: operations[change.operation] },
          documented: { headers: XSRF_HEADER },
        },
        onRequest: xsrfProtected,
        handler: async (request, reply) => {
          await watches[change.run](request.principal, request.site, kind, target(request), userQuery(request, reply));
          return reply.code(204).send();
        },
      });
    }
  }
};
