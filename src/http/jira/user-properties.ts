/**
 * Jira user properties, `/rest/api/{2,3}/user/properties…` (docs/behaviour.md §6):
 * parse → domain → shape. Both versions behave identically; the version only
 * shows in `self` links.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest, onRequestHookHandler, preParsingHookHandler } from 'fastify';
import { ApiError, badRequest } from '../../domain/errors.ts';
import type { JiraPropertyService, JiraUserSelector } from '../../domain/jira-properties.ts';
import { callerAccountId } from '../../domain/principal.ts';
import { usesLegacyUserParameter } from '../../domain/users.ts';
import { errorResponses, NoContent } from '../../schemas/errors.ts';
import {
  EntityPropertyOrKeysSchema,
  JiraPropertyParamsSchema,
  JiraPropertyValueSchema,
  JiraUserQuerySchema,
  type PropertyKeys,
  PropertyKeysSchema,
} from '../../schemas/jira-properties.ts';
import { warnDeprecated } from '../deprecation.ts';
import { type JiraApiVersion, jiraApi } from '../paths.ts';

const TAGS = ['Jira user properties'];

export interface JiraRoutesOptions {
  properties: JiraPropertyService;
  /** The REST API version this prefix serves, for `self` links. */
  version: JiraApiVersion;
}

export const jiraUserPropertyRoutes: FastifyPluginAsyncTypebox<JiraRoutesOptions> = async (
  app,
  { properties, version },
) => {
  // docs/behaviour.md §3, §4: every Jira response to an authenticated caller names them,
  // errors included (a 403 from the auth hook too: the principal is known by then).
  app.addHook('onSend', (request, reply, payload, done) => {
    const accountId = request.principal ? callerAccountId(request.principal) : undefined;
    if (accountId !== undefined) reply.header('x-aaccountid', accountId);
    done(null, payload);
  });

  // `…/user/properties/` names no key. A PUT or DELETE there is a 405, as on
  // `…/user/properties` (docs/behaviour.md §6), and like every 405 it comes before credentials (§3 step 1).
  app.addHook('onRequest', noKeyIsWrongMethod);

  /**
   * How the query names the user (accountId, userKey, username); a legacy
   * parameter earns the deprecation Warning (docs/behaviour.md §4), errors included.
   */
  const readUserSelector = (
    request: FastifyRequest<{ Querystring: JiraUserSelector }>,
    reply: FastifyReply,
  ): JiraUserSelector => {
    const { accountId, userKey, username } = request.query;
    const chosen = { accountId, userKey, username };
    if (usesLegacyUserParameter(chosen)) warnDeprecated(reply);
    return chosen;
  };

  const listKeys = async (
    request: FastifyRequest<{ Querystring: JiraUserSelector }>,
    reply: FastifyReply,
  ): Promise<PropertyKeys> => {
    const { accountId, keys } = await properties.listKeys(
      request.principal,
      request.site,
      readUserSelector(request, reply),
    );
    const base = `${request.site.baseUrl}${jiraApi(version)}/user/properties`;
    const user = `?accountId=${encodeURIComponent(accountId)}`;
    return { keys: keys.map((key) => ({ key, self: `${base}/${encodeURIComponent(key)}${user}` })) };
  };

  app.get(
    '/user/properties',
    {
      schema: {
        tags: TAGS,
        summary: 'Get user property keys',
        querystring: JiraUserQuerySchema,
        response: { 200: PropertyKeysSchema, ...errorResponses('jira', { 404: 'The user does not exist.' }) },
      },
      config: { access: { kind: 'product', operation: 'jira.getUserPropertyKeys' } },
    },
    listKeys,
  );

  app.get(
    '/user/properties/:propertyKey',
    {
      schema: {
        tags: TAGS,
        summary: 'Get user property',
        description: 'Without a key (`…/user/properties/`), the property keys are listed, as Jira documents.',
        params: JiraPropertyParamsSchema,
        querystring: JiraUserQuerySchema,
        response: {
          200: EntityPropertyOrKeysSchema,
          ...errorResponses('jira', { 404: 'The user or the property does not exist.' }),
        },
      },
      config: { access: { kind: 'product', operation: 'jira.getUserProperty' } },
    },
    async (request, reply) => {
      const { propertyKey } = request.params;
      if (propertyKey === '') return listKeys(request, reply);
      return properties.get(request.principal, request.site, readUserSelector(request, reply), propertyKey);
    },
  );

  app.put(
    '/user/properties/:propertyKey',
    {
      schema: {
        tags: TAGS,
        summary: 'Set user property',
        description: '201 when the property was created, 200 when it was replaced; both with an empty body.',
        params: JiraPropertyParamsSchema,
        querystring: JiraUserQuerySchema,
        body: JiraPropertyValueSchema,
        response: {
          200: NoContent('The property was replaced.'),
          201: NoContent('The property was created.'),
          ...errorResponses('jira', { 404: 'The user does not exist.', 405: 'The property key is missing.' }),
        },
      },
      config: { access: { kind: 'product', operation: 'jira.setUserProperty' } },
      preParsing: jsonBodiesOnly,
    },
    async (request, reply) => {
      // Without a Content-Type there was no body (a body without one is refused while parsing).
      const body = request.headers['content-type'] === undefined ? undefined : request.body;
      const outcome = await properties.set(
        request.principal,
        request.site,
        readUserSelector(request, reply),
        request.params.propertyKey,
        body,
      );
      return reply.code(outcome === 'created' ? 201 : 200).send();
    },
  );

  app.delete(
    '/user/properties/:propertyKey',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete user property',
        params: JiraPropertyParamsSchema,
        querystring: JiraUserQuerySchema,
        response: {
          204: NoContent('Deleted.'),
          ...errorResponses('jira', {
            404: 'The user or the property does not exist.',
            405: 'The property key is missing.',
          }),
        },
      },
      config: { access: { kind: 'product', operation: 'jira.deleteUserProperty' } },
    },
    async (request, reply) => {
      await properties.delete(
        request.principal,
        request.site,
        readUserSelector(request, reply),
        request.params.propertyKey,
      );
      return reply.code(204).send();
    },
  );
};

const noKeyIsWrongMethod: onRequestHookHandler = (request, _reply, done) => {
  const { propertyKey } = request.params as { propertyKey?: string };
  if (propertyKey !== '' || request.method === 'GET' || request.method === 'HEAD') return done();
  const path = request.url.split('?')[0] ?? '';
  done(
    new ApiError(
      'method_not_allowed',
      `Method ${request.method} is not allowed on ${path}: the property key is missing; use GET, HEAD`,
      { Allow: 'GET, HEAD' },
    ),
  );
};

/**
 * A property value is a JSON document, whatever body parsers the server
 * has. jira.js sends a bare string value form-encoded (axios' default for a
 * string), which must be a 400 that says how to send it, never a value.
 */
const jsonBodiesOnly: preParsingHookHandler = (request, _reply, payload, done) => {
  const type = request.headers['content-type'];
  if (type === undefined || isJson(type)) return done(null, payload);
  done(
    badRequest(
      `The property value must be JSON sent with Content-Type application/json, not "${type}" (a string value is sent as a quoted JSON string)`,
    ),
    payload,
  );
};

function isJson(contentType: string): boolean {
  return contentType.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}
