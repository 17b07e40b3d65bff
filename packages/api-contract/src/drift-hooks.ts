// Configuration drift, environment parity and deployment hooks (docs/configuration.md "Drift",
// "Parity"; docs/hooks.md).
import Type from 'typebox';
import { ActionReason, NullableTimestamp, strict, Timestamp } from './common.ts';
import { ConfigDiff } from './config.ts';
import { OverrideFreeze, StrategyName } from './resources.ts';

/** POST /apps/:app/environments/:env/config/rollout */
export const ConfigRolloutBody = Type.Object(
  {
    strategy: Type.Optional(StrategyName),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    reason: Type.Optional(ActionReason),
    overrideFreeze: Type.Optional(OverrideFreeze),
  },
  strict,
);
export type ConfigRolloutBody = Type.Static<typeof ConfigRolloutBody>;

export const HOOK_JOB_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$';
export const HookSetting = Type.Object(
  {
    job: Type.String({
      pattern: HOOK_JOB_PATTERN,
      description: "The job's name, passed as {job} to the application's job launcher (never a command)",
    }),
    timeoutSeconds: Type.Integer({ minimum: 1, maximum: 3600, description: 'Stopped and failed after this' }),
  },
  strict,
);
export type HookSetting = Type.Static<typeof HookSetting>;

export const EnvironmentHooks = Type.Object({
  pre: Type.Union([HookSetting, Type.Null()], { description: 'Runs before anything starts' }),
  post: Type.Union([HookSetting, Type.Null()], {
    description: 'Runs once traffic has moved; a failure rolls the deployment back',
  }),
  jobLauncherSet: Type.Boolean({
    description: 'Whether the application has a job launcher (hooks fail without one; an admin sets it)',
  }),
});
export type EnvironmentHooks = Type.Static<typeof EnvironmentHooks>;

export const PutHooksBody = Type.Object(
  {
    pre: Type.Union([HookSetting, Type.Null()]),
    post: Type.Union([HookSetting, Type.Null()]),
    reason: Type.Optional(ActionReason),
  },
  strict,
);
export type PutHooksBody = Type.Static<typeof PutHooksBody>;

export const PutJobLauncherBody = Type.Object(
  {
    jobLauncher: Type.Union(
      [
        Type.String({
          minLength: 1,
          maxLength: 2000,
          pattern: '^[^\\r\\n\\u0000]*$',
          description: 'Command template; placeholders {job} {version} {artifact} {environment}',
        }),
        Type.Null(),
      ],
      { description: 'null removes it (hooks then fail)' },
    ),
  },
  strict,
);
export type PutJobLauncherBody = Type.Static<typeof PutJobLauncherBody>;

export const HookRunStatus = Type.Union([
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('timed_out'),
  Type.Literal('interrupted'),
]);
export const HookRun = Type.Object({
  id: Type.String(),
  phase: Type.Union([Type.Literal('pre'), Type.Literal('post')]),
  job: Type.String(),
  status: HookRunStatus,
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
  timeoutSeconds: Type.Integer(),
  startedAt: Timestamp,
  finishedAt: NullableTimestamp,
});
export type HookRun = Type.Static<typeof HookRun>;

export const HookRunParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  runId: Type.String({ format: 'uuid' }),
});
export const HookRunLog = Type.Object({
  runId: Type.String(),
  job: Type.String(),
  lines: Type.Array(Type.String()),
});
export type HookRunLog = Type.Static<typeof HookRunLog>;

export const ParityQuery = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 64, description: 'e.g. staging' }),
    to: Type.String({ minLength: 1, maxLength: 64, description: 'e.g. production' }),
  },
  strict,
);
export type ParityQuery = Type.Static<typeof ParityQuery>;

const Pair = <T extends Type.TSchema>(t: T) => Type.Object({ from: t, to: t, same: Type.Boolean() });
const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);

export const EnvironmentParity = Type.Object({
  from: Type.String(),
  to: Type.String(),
  release: Pair(NullableString),
  replicas: Pair(Type.Integer()),
  resources: Pair(Type.Object({ memoryMb: NullableInt, cpuPercent: NullableInt })),
  trafficProvider: Pair(Type.String()),
  hooks: Pair(Type.Object({ pre: NullableString, post: NullableString })),
  configDrift: Pair(Type.Boolean()),
  config: ConfigDiff,
  /** Every pair the same and the configurations equal as far as the caller may know. */
  matches: Type.Boolean(),
  differences: Type.Array(Type.String(), { description: 'What differs, one sentence each' }),
});
export type EnvironmentParity = Type.Static<typeof EnvironmentParity>;
