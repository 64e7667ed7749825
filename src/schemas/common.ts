/** Shapes shared by many routes (docs/behaviour.md §4). */
import Type, { type Static } from 'typebox';

/** The schema option that names a shape for the OpenAPI document. */
export const COMPONENT_NAME = 'x-userplane-component';

/**
 * Names a shape for the OpenAPI document: http/openapi.ts defines it once,
 * as `#/components/schemas/<name>`, and refers to it wherever it appears, so
 * a client generator makes one model of it. Atlassian's name where Atlassian
 * has one. Validation and serialization ignore the option.
 */
export const component = (name: string) => ({ [COMPONENT_NAME]: name });

/** Confluence `_links`: `base` and `context` always, `self` on resources, `next` on lists with more. */
export const LinksSchema = Type.Object(
  {
    base: Type.String({ description: 'The Confluence base URL, `{baseUrl}/wiki`.' }),
    context: Type.String({ description: 'The context path, `/wiki`.' }),
    self: Type.Optional(Type.String({ description: 'The absolute URL of this resource.' })),
    next: Type.Optional(Type.String({ description: 'The next page, relative to `base`.' })),
  },
  { additionalProperties: true, ...component('GenericLinks') },
);
export type Links = Static<typeof LinksSchema>;

/** `start`/`limit`: non-negative integers; limits above the maximum are clamped, not rejected. */
export const PageQuerySchema = Type.Object({
  start: Type.Optional(Type.Integer({ minimum: 0, description: 'Index of the first item to return.' })),
  limit: Type.Optional(
    Type.Integer({ minimum: 0, description: 'Maximum number of items to return; larger values are clamped.' }),
  ),
});
