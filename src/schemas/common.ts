/** Shapes shared by many routes (SPEC §4). */
import Type, { type Static } from 'typebox';

/** Confluence `_links`: `base` and `context` always, `self` on resources, `next` on lists with more. */
export const LinksSchema = Type.Object(
  {
    base: Type.String({ description: 'The Confluence base URL, `{baseUrl}/wiki`.' }),
    context: Type.String({ description: 'The context path, `/wiki`.' }),
    self: Type.Optional(Type.String({ description: 'The absolute URL of this resource.' })),
    next: Type.Optional(Type.String({ description: 'The next page, relative to `base`.' })),
  },
  { additionalProperties: true },
);
export type Links = Static<typeof LinksSchema>;

/** `start`/`limit`: non-negative integers; limits above the maximum are clamped, not rejected. */
export const PageQuerySchema = Type.Object({
  start: Type.Optional(Type.Integer({ minimum: 0, description: 'Index of the first item to return.' })),
  limit: Type.Optional(Type.Integer({ minimum: 0, description: 'Maximum number of items to return; larger values are clamped.' })),
});
