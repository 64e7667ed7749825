/** Export and import of a site (docs/behaviour.md §11): the document is a seed file (§8). */
import Type, { type Static } from 'typebox';
import { component } from './common.ts';

const Counts = Type.Object(
  {
    created: Type.Integer({ minimum: 0, description: 'Rows the document added.' }),
    updated: Type.Integer({ minimum: 0, description: 'Rows that existed and the document changed.' }),
  },
  { additionalProperties: false, ...component('AdminImportCounts') },
);

export const IMPORT_SECTIONS = [
  'users',
  'groups',
  'apps',
  'spaces',
  'content',
  'labels',
  'watches',
  'properties',
] as const;
export type ImportSection = (typeof IMPORT_SECTIONS)[number];

export const ImportSummarySchema = Type.Object(
  Object.fromEntries(IMPORT_SECTIONS.map((section) => [section, Counts])) as Record<ImportSection, typeof Counts>,
  { additionalProperties: false, ...component('AdminImportSummary') },
);
export type ImportSummary = Static<typeof ImportSummarySchema>;

export const ImportBodySchema = Type.Unknown({
  description:
    'A seed document (docs/behaviour.md §8) as JSON, or as YAML with Content-Type: application/yaml. Of `site`, only the settings apply.',
});
