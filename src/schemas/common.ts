/** Shapes shared by many routes (SPEC §4). */
import Type from 'typebox';

export const LinksSchema = Type.Record(Type.String(), Type.String());

/** `start`/`limit`: non-negative integers; limits above the maximum are clamped, not rejected. */
export const PageQuerySchema = Type.Object({
  start: Type.Optional(Type.Integer({ minimum: 0, description: 'Index of the first item to return.' })),
  limit: Type.Optional(Type.Integer({ minimum: 0, description: 'Maximum number of items to return; larger values are clamped.' })),
});
