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

function convert(schema: TSchema, input: unknown): unknown {
  const properties = (schema as { properties?: PropertySchemas }).properties;
  if (!properties || input === null || typeof input !== 'object') return input;
  const output: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const [name, property] of Object.entries(properties)) {
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
  return (input) => {
    const value = httpPart === 'body' ? input : convert(schema, input);
    if (check.Check(value)) return { value };
    return { error: check.Errors(value) as never };
  };
};
