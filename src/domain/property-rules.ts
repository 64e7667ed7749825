/**
 * The user property rules of both products, in one place for the API and
 * the seed loader, so a seed cannot create a property that the API would
 * refuse or could not address (docs/decisions.md, "Confluence user
 * properties" and "Jira user properties"):
 *
 * - keys: Confluence's match `PROPERTY_KEY_PATTERN`; Jira's are any Unicode
 *   code points but control characters; both at most `maxPropertyKeyLength`;
 * - values: Confluence's are JSON objects, Jira's any JSON value but null;
 *   both at most `maxPropertyValueBytes` of compact JSON (what is stored)
 *   and `MAX_VALUE_DEPTH` levels deep;
 * - `maxPropertiesPerUser`, counted per product, namespace and user.
 *
 * A broken rule throws a 400 `ApiError` worded as its product's API answers
 * it; the seed reports the same message under the offending path. The key
 * check runs on every property GET and the value check on every PUT, the
 * hottest routes, so they stay plain functions: no closures, and a valid
 * Confluence key is checked without allocating.
 */
import type { SiteSettings } from '../schemas/site.ts';
import type { Product } from '../store/properties.ts';
import { atStep, badRequest } from './errors.ts';

export const PROPERTY_KEY_PATTERN = /^[-_a-zA-Z0-9]+$/;
/** How deep a value may nest; `JSON.stringify` recurses, and a 1 MiB body could otherwise nest 500,000 deep. */
export const MAX_VALUE_DEPTH = 64;

export type PropertyLimits = Pick<
  SiteSettings,
  'maxPropertyKeyLength' | 'maxPropertyValueBytes' | 'maxPropertiesPerUser'
>;

/** How each product's API names the key, the value and its properties in messages. */
const WORDING = {
  confluence: { key: 'key', value: 'value', properties: 'properties' },
  jira: { key: 'propertyKey', value: 'The property value', properties: 'Jira properties' },
} as const;

const CONTROL_CHARACTER = /\p{Cc}/u;

export function checkPropertyKey(product: Product, key: string, limits: PropertyLimits): void {
  if (product === 'confluence') {
    // The pattern allows ASCII only, so UTF-16 length is length in characters.
    if (key.length > limits.maxPropertyKeyLength) throw keyTooLong(product, limits);
    if (!PROPERTY_KEY_PATTERN.test(key)) {
      throw badRequest(`key "${key}" is invalid: use only letters, digits, '-' and '_'`);
    }
    return;
  }
  const length = [...key].length;
  if (length === 0) throw badRequest('propertyKey is missing');
  if (length > limits.maxPropertyKeyLength) throw keyTooLong(product, limits);
  if (CONTROL_CHARACTER.test(key)) throw badRequest('propertyKey must not contain control characters');
}

const keyTooLong = (product: Product, limits: PropertyLimits) =>
  badRequest(`${WORDING[product].key} is too long: at most ${limits.maxPropertyKeyLength} characters`);

/**
 * Checks a value (already parsed from JSON; undefined when none was sent)
 * and returns its stored text, the compact JSON. The size limit applies to
 * that text, so pretty-printed bodies are not penalised for whitespace.
 */
export function serializePropertyValue(product: Product, value: unknown, limits: PropertyLimits): string {
  if (product === 'confluence') {
    if (value === undefined || value === null) throw badRequest('value is empty');
    if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('value must be a JSON object');
  } else {
    if (value === undefined) {
      throw badRequest('The property value is empty: send a JSON value as the request body');
    }
    if (value === null) throw badRequest('The property value must not be null');
  }
  if (depthOf(value) > MAX_VALUE_DEPTH) {
    throw badRequest(`${WORDING[product].value} is nested deeper than ${MAX_VALUE_DEPTH} levels`);
  }
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text, 'utf8') > limits.maxPropertyValueBytes) {
    throw badRequest(`${WORDING[product].value} is too long: at most ${limits.maxPropertyValueBytes} bytes of JSON`);
  }
  return text;
}

/**
 * Whether one more property fits: `count` is how many the user already has
 * in the product and namespace (each app's Confluence namespace, and the
 * users' own, has its own allowance; Jira has one namespace).
 */
export function checkPropertyAllowance(
  product: Product,
  accountId: string,
  count: number,
  limits: PropertyLimits,
): void {
  const limit = limits.maxPropertiesPerUser;
  if (count >= limit) {
    throw atStep(
      'state',
      badRequest(
        `User ${accountId} already has the maximum of ${limit} ${WORDING[product].properties} (maxPropertiesPerUser)`,
      ),
    );
  }
}

/** Nesting depth of a JSON value (a scalar is 0), stopping once past the limit. */
function depthOf(root: unknown): number {
  if (root === null || typeof root !== 'object') return 0;
  let deepest = 0;
  const stack: Array<[object, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > MAX_VALUE_DEPTH) break;
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return deepest;
}
