/**
 * Schema errors in plain words, with the offending path spelled the way a
 * person writes it: `users[2].email: must be an email address` (docs/behaviour.md §7).
 * Used for the seed file, the configuration and request validation.
 */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

export interface SchemaIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/** `/users/2/email` → `users[2].email`. */
export function formatPath(instancePath: string, root = ''): string {
  let out = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

const FORMAT_WORDS: Record<string, string> = {
  email: 'an email address',
  uuid: 'a UUID',
  uri: 'a URL',
  'date-time': 'an ISO-8601 date-time',
};

/** One issue as `{path, text}`, or undefined for issues that repeat another. */
export function describeIssue(issue: SchemaIssue): { path: string; text: string } | undefined {
  const { keyword, params } = issue;
  const path = issue.instancePath;
  switch (keyword) {
    case 'boolean': // reported again, better, as additionalProperties
    case 'const': // reported again as the enclosing anyOf
      return undefined;
    case 'required':
      return { path, text: `is missing ${(params.requiredProperties as string[]).join(', ')}` };
    case 'additionalProperties':
      return { path, text: `has unknown field ${(params.additionalProperties as string[]).join(', ')}` };
    case 'format':
      return { path, text: `must be ${FORMAT_WORDS[params.format as string] ?? `in format ${String(params.format)}`}` };
    case 'enum':
      return { path, text: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'type':
      return { path, text: `must be ${/^[aeiou]/.test(String(params.type)) ? 'an' : 'a'} ${String(params.type)}` };
    default:
      return { path, text: issue.message };
  }
}

/** Every problem of `value` against `schema`, one line each; empty when valid. */
export function describeIssues(issues: Iterable<SchemaIssue>, root = ''): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const described = describeIssue(issue);
    if (!described) continue;
    const path = formatPath(described.path, root);
    const line = path ? `${path}: ${described.text}` : described.text;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

export function schemaProblems(schema: TSchema, value: unknown, root = ''): string[] {
  return describeIssues(Value.Errors(schema, value) as Iterable<SchemaIssue>, root);
}
