/**
 * Request validation with TypeBox. Query and path values arrive as strings;
 * they are converted strictly here ("12" → 12, but "1.5", "", "0x10" and
 * "1e3" stay strings and fail an integer schema), where TypeBox's own
 * conversion would truncate or guess.
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

const INTEGER = /^-?\d{1,15}$/;
const NUMBER = /^-?\d{1,15}(\.\d{1,15})?$/;

type PropertySchemas = Record<string, { type?: unknown; items?: { type?: unknown } }>;

function convertScalar(type: unknown, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (type === 'integer' && INTEGER.test(value)) return Number(value);
  if (type === 'number' && NUMBER.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/** Strings stay strings: only these property types are converted. */
const CONVERTED = new Set<unknown>(['integer', 'number', 'boolean', 'array']);

/** The properties of a path or query schema whose values need converting from strings, if any. */
function convertedProperties(schema: TSchema): Array<[string, PropertySchemas[string]]> {
  const properties = (schema as { properties?: PropertySchemas }).properties ?? {};
  return Object.entries(properties).filter(([, property]) => CONVERTED.has(property.type));
}

function convert(properties: Array<[string, PropertySchemas[string]]>, input: unknown): unknown {
  if (input === null || typeof input !== 'object') return input;
  const output: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const [name, property] of properties) {
    const value = output[name];
    if (value === undefined) continue;
    if (property.type === 'array') {
      output[name] = (Array.isArray(value) ? value : [value]).map((item) => convertScalar(property.items?.type, item));
    } else {
      output[name] = Array.isArray(value) ? value : convertScalar(property.type, value);
    }
  }
  return output;
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  // Bodies are JSON, already typed; a path of strings only (most of them) needs no copy either.
  const converted = httpPart === 'body' ? [] : convertedProperties(schema);
  return (input) => {
    const value = converted.length === 0 ? input : convert(converted, input);
    if (check.Check(value)) return { value };
    return { error: check.Errors(value) as never };
  };
};
