/** The rate-limit clock's shapes (docs/behaviour.md §12): `/admin/api/rate-limits`. */
import Type, { type Static } from 'typebox';
import { component } from './common.ts';

const Strict = { additionalProperties: false } as const;

/** The most seconds one `advance` may move a site's clock: a year. */
export const MAX_ADVANCE_SECONDS = 31_536_000;

export const RateLimitsSchema = Type.Object(
  {
    now: Type.String({ format: 'date-time', description: "The site's rate-limit clock on this instance." }),
    offsetSeconds: Type.Number({ description: 'How far `advance` moved the clock ahead of the real one.' }),
    buckets: Type.Array(
      Type.Object(
        {
          operation: Type.String({ description: "The operation's id (docs/scopes.md)." }),
          capacity: Type.Integer({ description: 'Tokens it holds, and refills each second.' }),
          tokens: Type.Integer({ description: 'Whole tokens left now.' }),
        },
        Strict,
      ),
    ),
    ledgers: Type.Array(
      Type.Object(
        {
          app: Type.String({ description: "The app's key." }),
          hour: Type.String({ format: 'date-time', description: 'The UTC hour the points were spent in.' }),
          sitePoints: Type.Integer({ description: 'Points the app spent on this site this hour.' }),
          globalPoints: Type.Integer({ description: 'Points the app spent on all sites this hour.' }),
        },
        Strict,
      ),
    ),
  },
  { ...Strict, ...component('RateLimits') },
);

export const RateLimitsAdvanceSchema = Type.Object(
  { seconds: Type.Number({ minimum: 0, maximum: MAX_ADVANCE_SECONDS }) },
  { ...Strict, ...component('RateLimitsAdvance') },
);
export type RateLimitsAdvance = Static<typeof RateLimitsAdvanceSchema>;
