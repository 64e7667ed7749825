/** The request journal's shapes (docs/behaviour.md §11): `GET /admin/api/journal`. */
import Type, { type Static } from 'typebox';
import { Nullable } from './admin.ts';
import { component } from './common.ts';
import { MAX_JOURNAL_SIZE } from './site.ts';

const Strict = { additionalProperties: false } as const;

/** The steps of docs/behaviour.md §3's order of checks, as the journal names them (docs/behaviour.md §11). */
export const CHECK_STEPS = [
  'route',
  'credentials',
  'can-use',
  'scope',
  'xsrf',
  'rate-limit',
  'fault',
  'syntax',
  'gate',
  'access',
  'existence',
  'state',
  'internal',
] as const;

export const JournalEntrySchema = Type.Object(
  {
    id: Type.Integer({ description: 'Increasing on this instance: pass the newest one seen as `since`.' }),
    time: Type.String({ format: 'date-time', description: 'When the request arrived.' }),
    method: Type.String(),
    path: Type.String({ description: 'The path after any `/sites/{name}` prefix.' }),
    query: Type.String({ description: 'The query string without `?`, the `jwt` parameter removed; "" when none.' }),
    status: Type.Integer(),
    durationMs: Type.Number({ description: 'From arrival to the answer being handed to the connection.' }),
    operation: Nullable(
      Type.String({ description: "The route's operation id (docs/scopes.md); null outside the scope table." }),
    ),
    authMode: Type.Union([
      Type.Literal('none'),
      Type.Literal('basic'),
      Type.Literal('jwt'),
      Type.Literal('bearer'),
      Type.Literal('forge'),
    ]),
    principal: Type.Object(
      {
        kind: Type.Union([
          Type.Literal('anonymous'),
          Type.Literal('user'),
          Type.Literal('app'),
          Type.Literal('asUser'),
          Type.Literal('operator'),
        ]),
        accountId: Nullable(
          Type.String({ description: "The user's, the impersonated user's, or the app's bot user's." }),
        ),
        app: Nullable(Type.String({ description: "The calling app's key." })),
      },
      component('JournalPrincipal'),
    ),
    decision: Nullable(
      Type.Object(
        {
          step: Type.Enum(CHECK_STEPS, {
            description: 'The step of the order of checks (docs/behaviour.md §3) that refused the request.',
          }),
          reason: Type.String(),
          rule: Type.Optional(Type.String({ description: 'The fault rule that answered (docs/behaviour.md §12).' })),
        },
        component('JournalDecision'),
      ),
    ),
  },
  component('JournalEntry'),
);
export type JournalEntry = Static<typeof JournalEntrySchema>;

export const JournalSchema = Type.Object(
  {
    results: Type.Array(JournalEntrySchema, { description: 'Newest first.' }),
    size: Type.Integer({ description: 'The number of results.' }),
  },
  component('Journal'),
);

export const JournalQuerySchema = Type.Object(
  {
    operation: Type.Optional(Type.String({ description: 'Only this operation id.' })),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599, description: 'Only answers with this status.' })),
    app: Type.Optional(Type.String({ description: 'Only calls by the app with this key.' })),
    accountId: Type.Optional(
      Type.String({
        description: "Only calls by this caller: a user's, an impersonated user's or an app's accountId.",
      }),
    ),
    since: Type.Optional(Type.Integer({ minimum: 0, description: 'Only entries newer than the one with this id.' })),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_JOURNAL_SIZE,
        description: 'At most this many entries; 100 by default.',
      }),
    ),
  },
  Strict,
);
