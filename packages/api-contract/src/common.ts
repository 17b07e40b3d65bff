import Type from 'typebox';

/** Request bodies and queries reject unknown fields (DESIGN §7: strict schemas). */
export const strict = { additionalProperties: false } as const;

export const Name = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$',
  description: 'Lower-case name: letters, digits and dashes',
});

export const Cursor = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Opaque cursor from a previous page',
});
export const Limit = Type.Integer({ minimum: 1, maximum: 200, default: 50 });
export const Reason = Type.String({ maxLength: 1000 });
/** The reason of an action on an environment or a deployment (the server checks when it is required). */
export const ActionReason = Type.String({
  maxLength: 1000,
  description:
    'Why, recorded in the audit trail. Required (400 naming body.reason when missing or blank) on a protected environment for every action but pause and approve, and on any environment for an advance that performs the traffic switch',
});
export const Timestamp = Type.String({ format: 'date-time' });
/**
 * A timestamp or null, as one JSON Schema type array rather than `anyOf`: the response serialiser
 * (fast-json-stringify) runs a validator per value to pick an `anyOf` branch — for a date-time
 * that is a format check of every timestamp of every row of a history page (bench/README.md,
 * "History at scale") — while a type array it writes directly.
 */
export const NullableTimestamp = Type.Unsafe<string | null>({
  type: ['string', 'null'],
  format: 'date-time',
});

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
    requestId: Type.String(),
  },
  { $id: 'ErrorEnvelope', description: 'Every error response (DESIGN §6)' },
);
export type ErrorEnvelope = Type.Static<typeof ErrorEnvelope>;

/** Every list response is `{ items, nextCursor }`. */
export const ListOf = <T extends Type.TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
export type List<T> = { items: T[]; nextCursor: string | null };

export const PageQuery = Type.Object({ cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) }, strict);
export type PageQuery = Type.Static<typeof PageQuery>;

export const AppParams = Type.Object({ app: Name }, strict);
export const EnvParams = Type.Object({ app: Name, env: Name }, strict);
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, strict);
