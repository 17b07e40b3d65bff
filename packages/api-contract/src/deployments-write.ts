// Request bodies of the write routes of DESIGN §6 (deployments, promote, traffic, rollback).
import Type from 'typebox';
import { ActionReason, strict } from './common.ts';
import { Color, OverrideFreeze, StrategyName } from './resources.ts';

/** The header honoured on every POST: same key + same body → the stored response again. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Retry-safe key: a repeated request with the same key and body gets the first answer back',
    }),
  ),
});

export const DeploymentActionName = Type.Union([
  Type.Literal('pause'),
  Type.Literal('resume'),
  Type.Literal('abort'),
  Type.Literal('advance'),
  Type.Literal('approve'),
]);
export type DeploymentActionName = Type.Static<typeof DeploymentActionName>;

export const DeploymentActionBody = Type.Object({ reason: Type.Optional(ActionReason) }, strict);
export type DeploymentActionBody = Type.Static<typeof DeploymentActionBody>;

export const RedeployBody = Type.Object(
  {
    reason: Type.Optional(ActionReason),
    override: Type.Optional(
      Type.Boolean({
        description: 'Admins only, with a reason: past the promotion order or the verification gate',
      }),
    ),
    overrideFreeze: Type.Optional(OverrideFreeze),
  },
  strict,
);
export type RedeployBody = Type.Static<typeof RedeployBody>;

export const PromoteBody = Type.Object(
  {
    strategy: Type.Optional(StrategyName),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    reason: Type.Optional(ActionReason),
    override: Type.Optional(
      Type.Boolean({
        description: 'Admins only, with a reason: promote although the release has not succeeded upstream',
      }),
    ),
    overrideFreeze: Type.Optional(OverrideFreeze),
  },
  strict,
);
export type PromoteBody = Type.Static<typeof PromoteBody>;

export const UpdateResourcesBody = Type.Object(
  {
    memoryMb: Type.Optional(
      Type.Union([Type.Integer({ minimum: 16, maximum: 1_048_576 }), Type.Null()], {
        description: 'Memory limit per instance, MiB; null: unlimited; omitted: unchanged',
      }),
    ),
    cpus: Type.Optional(
      Type.Union([Type.Number({ minimum: 0.01, maximum: 256 }), Type.Null()], {
        description:
          'CPU limit per instance in CPUs (0.2 = a fifth of one); null: unlimited; omitted: unchanged',
      }),
    ),
    strategy: Type.Optional(StrategyName),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    reason: Type.Optional(ActionReason),
    overrideFreeze: Type.Optional(OverrideFreeze),
  },
  {
    ...strict,
    description:
      'On a live environment the change rolls the instances: a deployment of the live release with `strategy` (default rolling) starts instances with the new limits and retires the old ones',
  },
);
export type UpdateResourcesBody = Type.Static<typeof UpdateResourcesBody>;

export const TrafficWeight = Type.Object(
  { pool: Color, weight: Type.Integer({ minimum: 0, maximum: 100 }) },
  strict,
);

export const TrafficBody = Type.Object(
  {
    activeColor: Type.Optional(Color),
    weights: Type.Optional(Type.Array(TrafficWeight, { minItems: 1, maxItems: 2 })),
    reason: Type.Optional(ActionReason),
  },
  { ...strict, description: 'Either activeColor or weights (summing to 100)' },
);
export type TrafficBody = Type.Static<typeof TrafficBody>;

export const RollbackBody = Type.Object(
  {
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    reason: Type.Optional(ActionReason),
    overrideFreeze: Type.Optional(OverrideFreeze),
  },
  strict,
);
export type RollbackBody = Type.Static<typeof RollbackBody>;
