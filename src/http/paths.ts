/**
 * Every path prefix the server answers under (docs/behaviour.md §1), stated once: the
 * app registers its routes under these, and auth (the Connect qsh), the error
 * envelopes, the gateway check, the OpenAPI document and the scope table
 * recognise paths by them.
 */
import { WIKI_CONTEXT } from '../domain/site.ts';

export { WIKI_CONTEXT };

const REST_API = '/rest/api';

/** Confluence's REST API within its context: links name `{baseUrl}/wiki/rest/api/…`. */
export const CONFLUENCE_REST = REST_API;
/** Where Confluence's REST API is served: in its context, and at the root (confluence.js calls there). */
export const CONFLUENCE_API = `${WIKI_CONTEXT}${CONFLUENCE_REST}`;
export const CONFLUENCE_API_ALIAS = CONFLUENCE_REST;

/** Jira's REST API versions: both behave identically (docs/behaviour.md §1). */
export type JiraApiVersion = 2 | 3;
export const JIRA_API_VERSIONS: readonly JiraApiVersion[] = [2, 3];
/** `/rest/api/3`; `jiraApi('{2,3}')` names both in documents. */
export const jiraApi = (version: JiraApiVersion | '{2,3}') => `${REST_API}/${version}`;

/** The OAuth gateway forms `/ex/{product}/{cloudId}/…`: http/gateway.ts checks the cloudId. */
export const GATEWAY_ROOT = '/ex/';
export const CONFLUENCE_GATEWAY = `${GATEWAY_ROOT}confluence/:cloudId`;
export const JIRA_GATEWAY = `${GATEWAY_ROOT}jira/:cloudId`;

/** Every prefix Confluence's routes are registered under: directly, under the alias, and under the gateway. */
export const CONFLUENCE_PREFIXES: readonly string[] = [
  CONFLUENCE_API,
  CONFLUENCE_API_ALIAS,
  `${CONFLUENCE_GATEWAY}${CONFLUENCE_API}`,
  `${CONFLUENCE_GATEWAY}${CONFLUENCE_API_ALIAS}`,
];

/** Every prefix Jira's routes are registered under, with the version it serves (for `self` links). */
export const JIRA_PREFIXES: ReadonlyArray<{ prefix: string; version: JiraApiVersion }> = JIRA_API_VERSIONS.flatMap(
  (version) => [jiraApi(version), `${JIRA_GATEWAY}${jiraApi(version)}`].map((prefix) => ({ prefix, version })),
);

export const OAUTH_PREFIX = '/oauth2';
export const ADMIN_API_PREFIX = '/admin/api';
export const DOCS_PREFIX = '/docs';
export const OPENAPI_PATH = '/openapi.json';

/**
 * `/ex/{product}/{cloudId}` at the start of a request target or of a route's
 * pattern (where the cloudId is `:cloudId`); captures the product and the
 * cloudId as sent (percent-encoded).
 */
export const GATEWAY_PREFIX = /^\/ex\/([^/?#]+)\/([^/?#]*)/;

/** The request target without any gateway prefix: the path a Connect qsh is computed on. */
export function withoutGatewayPrefix(url: string): string {
  return url.startsWith(GATEWAY_ROOT) ? url.replace(GATEWAY_PREFIX, '') : url;
}

/**
 * Jira's API, directly or under the Jira gateway: `/rest/api/2…`, `/ex/jira/{cloudId}/rest/api/3…`.
 * An empty cloudId still routes to a Jira route (as `GATEWAY_PREFIX` reads it), so it is still Jira's envelope.
 */
const JIRA_API_PATH = /^(?:\/ex\/jira\/[^/]*)?\/rest\/api\/[23](?:\/|$)/;

export function isJiraPath(url: string): boolean {
  return JIRA_API_PATH.test(url);
}

export function isOAuthPath(url: string): boolean {
  return url.startsWith(`${OAUTH_PREFIX}/`);
}

export function isGatewayPath(url: string): boolean {
  return url.startsWith(GATEWAY_ROOT);
}
