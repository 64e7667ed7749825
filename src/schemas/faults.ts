/** Injected faults (docs/behaviour.md §12): `POST GET DELETE /admin/api/faults`. */
import Type, { type Static } from 'typebox';
import { component } from './common.ts';

const Strict = { additionalProperties: false } as const;

/** The longest delay a rule may add. */
export const MAX_FAULT_DELAY_MS = 60_000;

export const FaultMatchSchema = Type.Object(
  {
    method: Type.Optional(Type.String({ pattern: '^[A-Za-z]{1,16}$', description: 'The HTTP method, any case.' })),
    path: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'A prefix of the raw path as sent, after any `/sites/{name}` prefix.',
      }),
    ),
    operation: Type.Optional(Type.String({ minLength: 1, description: 'An operation id of docs/scopes.md.' })),
    app: Type.Optional(Type.String({ minLength: 1, description: "The calling app's key." })),
    accountId: Type.Optional(Type.String({ minLength: 1, description: "The caller's accountId." })),
    authMode: Type.Optional(
      Type.Union([
        Type.Literal('none'),
        Type.Literal('basic'),
        Type.Literal('jwt'),
        Type.Literal('bearer'),
        Type.Literal('forge'),
      ]),
    ),
  },
  { ...Strict, ...component('FaultMatch') },
);

export const FaultActionSchema = Type.Union(
  [
    Type.Object(
      {
        status: Type.Integer({ minimum: 400, maximum: 599, description: 'The status to answer with.' }),
        headers: Type.Optional(
          Type.Record(
            Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$" }),
            Type.String({ maxLength: 1024 }),
            {
              description: 'Extra response headers; they win over the defaults of a 429 or 503.',
            },
          ),
        ),
        message: Type.Optional(Type.String({ maxLength: 2000, description: "The message in the product's envelope." })),
      },
      Strict,
    ),
    Type.Object(
      {
        delayMs: Type.Integer({
          minimum: 0,
          maximum: MAX_FAULT_DELAY_MS,
          description: 'The real answer, this much later.',
        }),
      },
      Strict,
    ),
    Type.Object({ reset: Type.Literal(true, { description: 'The connection is destroyed with no answer.' }) }, Strict),
  ],
  component('FaultAction'),
);

export const FaultRuleCreateSchema = Type.Object(
  {
    match: Type.Optional(FaultMatchSchema),
    action: FaultActionSchema,
    times: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Applies to the next N matching requests, then expires.' }),
    ),
    probability: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'The chance that a matching request is faulted.' }),
    ),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4294967295,
        description: 'Seeds `probability`: the same seed and requests fault the same requests. Random when not given.',
      }),
    ),
  },
  Strict,
);
export type FaultRuleCreate = Static<typeof FaultRuleCreateSchema>;

export const FaultRuleSchema = Type.Object(
  {
    id: Type.String(),
    match: FaultMatchSchema,
    action: FaultActionSchema,
    times: Type.Union([Type.Integer(), Type.Null()], { description: 'Applications left; null: until removed.' }),
    probability: Type.Number(),
    seed: Type.Integer(),
    applied: Type.Integer({ description: 'How many requests it has faulted.' }),
  },
  component('FaultRule'),
);
export type FaultRuleView = Static<typeof FaultRuleSchema>;
export type FaultMatch = Static<typeof FaultMatchSchema>;
export type FaultAction = Static<typeof FaultActionSchema>;

export const FaultListSchema = Type.Object(
  { results: Type.Array(FaultRuleSchema), size: Type.Integer() },
  component('FaultList'),
);

export const FaultIdParamsSchema = Type.Object({ id: Type.String({ description: 'The rule id.' }) });
