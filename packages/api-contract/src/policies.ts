// Promotion policies (docs/deployments.md "Promotion policies"): per environment, manual or
// automatic, and what an automatic one will do next.
import Type from 'typebox';
import { ActionReason, NullableTimestamp, strict, Timestamp } from './common.ts';
import { StrategyName } from './resources.ts';

export const PolicyMode = Type.Union([Type.Literal('manual'), Type.Literal('auto')]);
export type PolicyMode = Type.Static<typeof PolicyMode>;

/**
 * The condition an automatic policy waits for, fixed by the environment's place in the pipeline:
 * `tests_passed` in the first (a new release whose test results passed), `soak` in the others (live
 * and healthy in the previous environment for `soakSeconds`, its deployment's analysis clean).
 */
export const PolicyRule = Type.Union([Type.Literal('tests_passed'), Type.Literal('soak')]);
export type PolicyRule = Type.Static<typeof PolicyRule>;

export const SoakSeconds = Type.Integer({
  minimum: 0,
  maximum: 7 * 24 * 3600,
  description: 'How long a release must be live and healthy in the previous environment (soak rule)',
});

export const PromotionPolicy = Type.Object({
  mode: PolicyMode,
  rule: PolicyRule,
  soakSeconds: Type.Integer(),
  strategy: StrategyName,
  options: Type.Record(Type.String(), Type.Unknown()),
  /**
   * True when an automatic deployment here still waits for a person's approval: the environment
   * is protected or requires approval. The policy only requests.
   */
  requestsApproval: Type.Boolean(),
  paused: Type.Boolean(),
  pausedBy: Type.Union([Type.String(), Type.Null()]),
  pausedAt: NullableTimestamp,
  updatedBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: NullableTimestamp,
});
export type PromotionPolicy = Type.Static<typeof PromotionPolicy>;

export const UpdatePolicyBody = Type.Object(
  {
    mode: PolicyMode,
    soakSeconds: Type.Optional(SoakSeconds),
    strategy: Type.Optional(StrategyName),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    reason: Type.Optional(ActionReason),
  },
  strict,
);
export type UpdatePolicyBody = Type.Static<typeof UpdatePolicyBody>;

export const PolicyPauseBody = Type.Object({ reason: Type.Optional(ActionReason) }, strict);
export type PolicyPauseBody = Type.Static<typeof PolicyPauseBody>;

/** What the policy will do next: `state` says whether it waits for time, for a condition, or nothing. */
export const PolicyNext = Type.Object({
  state: Type.Union(
    [
      Type.Literal('manual'),
      Type.Literal('paused'),
      Type.Literal('idle'),
      Type.Literal('scheduled'),
      Type.Literal('blocked'),
    ],
    {
      description:
        'manual: no policy; paused; idle: nothing to do; scheduled: acts at `at` if the condition still holds; blocked: a candidate waits on `blockedBy`',
    },
  ),
  action: Type.Union([Type.Literal('deploy'), Type.Literal('promote'), Type.Null()]),
  version: Type.Union([Type.String(), Type.Null()]),
  at: NullableTimestamp,
  /** Why it waits (freeze window, active deployment, not healthy, promotion order, analysis). */
  blockedBy: Type.Union([Type.String(), Type.Null()]),
  /** One sentence for the card: "promotes 1.2.0 at 14:05 if still healthy". */
  summary: Type.String(),
});
export type PolicyNext = Type.Static<typeof PolicyNext>;

export const EnvironmentPolicy = Type.Object({
  environment: Type.String(),
  policy: PromotionPolicy,
  next: PolicyNext,
  /** When this was computed (the card counts down from it). */
  at: Timestamp,
});
export type EnvironmentPolicy = Type.Static<typeof EnvironmentPolicy>;
