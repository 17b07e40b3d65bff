import Type from 'typebox';
import { AnalysisResult } from './analysis.ts';
import { ActionReason, Name, NullableTimestamp, strict, Timestamp } from './common.ts';
import { Placement } from './hosts.ts';
import { RuntimeTargetView } from './runtime-target.ts';

export const StrategyName = Type.Union([
  Type.Literal('blue-green'),
  Type.Literal('rolling'),
  Type.Literal('canary'),
]);
export type StrategyName = Type.Static<typeof StrategyName>;
export const Color = Type.Union([Type.Literal('blue'), Type.Literal('green')]);
export type Color = Type.Static<typeof Color>;
export const DeploymentStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('running'),
  Type.Literal('paused'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('rolled_back'),
  Type.Literal('aborted'),
]);
export type DeploymentStatus = Type.Static<typeof DeploymentStatus>;
export const ACTIVE_STATUSES: readonly DeploymentStatus[] = ['pending', 'running', 'paused'];

/** Who a paused deployment waits for (DESIGN §3); null for a plain pause or while it runs. */
export const WaitingFor = Type.Union(
  [Type.Literal('switch'), Type.Literal('advance'), Type.Literal('approval'), Type.Null()],
  {
    description:
      'switch: a blue-green deployment ready to switch; advance: a canary step held; approval: a second person',
  },
);
export type WaitingFor = Type.Static<typeof WaitingFor>;

/**
 * What a person may do to a deployment now, as packages/core `allowedActions` decides from its
 * state: `pause`, `resume`, `abort`, `advance`, `approve` are `POST /deployments/:id/<action>`;
 * `switch` is `POST …/traffic` to the new colour and `rollback` is `POST …/rollback`.
 */
export const DEPLOYMENT_ACTIONS = [
  'pause',
  'resume',
  'abort',
  'advance',
  'approve',
  'switch',
  'rollback',
] as const;
export const DeploymentAction = Type.Enum(DEPLOYMENT_ACTIONS);
export type DeploymentAction = Type.Static<typeof DeploymentAction>;
export const DeploymentActions = Type.Array(DeploymentAction, {
  description:
    "The actions the deployment accepts now, computed by packages/core from its state (empty once it ended or while it rolls back); the caller's role is checked separately",
});

export const Application = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  environments: Type.Array(Type.String(), { description: 'Environment names in pipeline order' }),
  createdAt: Timestamp,
});
export type Application = Type.Static<typeof Application>;

export const TrafficEntry = Type.Object({
  pool: Color,
  version: Type.Union([Type.String(), Type.Null()]),
  weight: Type.Number(),
  served: Type.Optional(
    Type.Object(
      {
        pods: Type.Integer({ minimum: 0 }),
        ofPods: Type.Integer({ minimum: 0 }),
        percent: Type.Number({ minimum: 0, maximum: 100 }),
      },
      {
        description:
          'Kubernetes replica ratio: the weight is served as whole pods — this pool has `pods` of the `ofPods` ready pods behind the stable Service, so `percent` of the requests (the weight above is what was requested)',
      },
    ),
  ),
});
export type TrafficEntry = Type.Static<typeof TrafficEntry>;

const INSTANCE_STATUSES = [
  'starting',
  'running',
  'unhealthy',
  'oom_killed',
  'stopping',
  'stopped',
  'crashed',
  'lost',
] as const;
export const InstanceStatus = Type.Enum(INSTANCE_STATUSES, {
  description:
    'oom_killed: killed by its memory limit (its supervisor starts it again; `oom` has the figures); crashed: its supervisor is gone and nothing could restart it; lost: its host stopped reporting (docs/hosts.md), it is replaced elsewhere',
});
export type InstanceStatus = Type.Static<typeof InstanceStatus>;

/** Per-instance resource limits; null: unlimited. */
export const ResourceLimits = Type.Object({
  memoryMb: Type.Union([Type.Integer(), Type.Null()], { description: 'memory limit, MiB' }),
  cpus: Type.Union([Type.Number(), Type.Null()], { description: 'CPU limit in CPUs (0.2 = a fifth of one)' }),
});
export type ResourceLimits = Type.Static<typeof ResourceLimits>;

/** The figures of an instance's last OOM kill. */
export const OomInfo = Type.Object({
  kills: Type.Integer({ description: 'times this instance was killed by its memory limit' }),
  at: Timestamp,
  limitBytes: Type.Union([Type.Integer(), Type.Null()], { description: 'the memory limit in force' }),
  peakBytes: Type.Union([Type.Integer(), Type.Null()], {
    description: 'peak memory usage of the run that was killed (memory.peak / memory.max_usage_in_bytes)',
  }),
});
export type OomInfo = Type.Static<typeof OomInfo>;

export const InstanceView = Type.Object({
  id: Type.String(),
  pool: Color,
  version: Type.String(),
  status: InstanceStatus,
  healthy: Type.Boolean(),
  // Optional only for older servers and hand-made fixtures: this API always sends it.
  host: Type.Optional(
    Type.String({ description: 'where the instance answers, as its runtime driver placed it' }),
  ),
  hostName: Type.Optional(
    Type.Union([Type.String(), Type.Null()], {
      description: 'the enrolled host it runs on (placement `hosts`, docs/hosts.md); null: this machine',
    }),
  ),
  port: Type.Integer(),
  restarts: Type.Integer(),
  limits: Type.Optional(ResourceLimits),
  oom: Type.Optional(Type.Union([OomInfo, Type.Null()], { description: 'the last OOM kill, null if none' })),
  startedAt: Timestamp,
  // Optional only for older servers and hand-made fixtures: this API always sends it.
  config: Type.Optional(
    Type.Object(
      {
        version: Type.Union([Type.Integer(), Type.Null()], {
          description: 'configuration version the instance was started with; null: started without one',
        }),
        hash: Type.Union([Type.String(), Type.Null()], {
          description: 'keyed hash of the key/value pairs its supervisor was given',
        }),
        drifted: Type.Boolean({ description: "differs from the environment's current configuration" }),
      },
      { description: 'what the instance runs with (docs/configuration.md "Drift")' },
    ),
  ),
});
export type InstanceView = Type.Static<typeof InstanceView>;

export const PoolProgress = Type.Object({
  version: Type.Union([Type.String(), Type.Null()], {
    description: 'Release the pool runs, null when empty',
  }),
  instances: Type.Integer({ description: 'Instances the pool runs or is starting' }),
  ready: Type.Integer({ description: 'Of those, instances that pass health checks' }),
});
export type PoolProgress = Type.Static<typeof PoolProgress>;

/** What a deployment has put in motion so far (packages/core `Progress`). */
export const DeploymentProgress = Type.Object({
  instancesReady: Type.Integer({ description: 'Healthy instances of the new release' }),
  instancesDesired: Type.Integer({ description: 'Replica count the new release must reach' }),
  weights: Type.Object(
    { blue: Type.Number(), green: Type.Number() },
    { description: 'Traffic share per pool in percent; the two sum to 100' },
  ),
  activeColor: Type.Union([Color, Type.Null()]),
  pools: Type.Object({ blue: PoolProgress, green: PoolProgress }),
  currentStep: Type.Union([Type.Integer(), Type.Null()], {
    description: '0-based index into steps of the step in progress (or last run); null before start',
  }),
  totalSteps: Type.Integer(),
  holdUntil: Type.Union([Timestamp, Type.Null()], {
    description:
      "When the running step's timed hold ends (canary step, bake time, an inconclusive analysis holding up to its limit); null when no timed hold runs, also while paused or waiting for a person",
  }),
});
export type DeploymentProgress = Type.Static<typeof DeploymentProgress>;

export const ActiveDeploymentSummary = Type.Object({
  id: Type.String(),
  status: DeploymentStatus,
  strategy: StrategyName,
  version: Type.String(),
  waitingFor: WaitingFor,
  progress: DeploymentProgress,
  actions: DeploymentActions,
});
export type ActiveDeploymentSummary = Type.Static<typeof ActiveDeploymentSummary>;

/** Requests a second the demo sends to each environment whose synthetic load is on. */
export const SYNTHETIC_LOAD_RPS = 5;

export const Environment = Type.Object({
  name: Type.String(),
  position: Type.Integer(),
  protected: Type.Boolean(),
  requiresApproval: Type.Boolean(),
  address: Type.Union([Type.String(), Type.Null()], {
    description: "URL where the environment's router serves the application",
  }),
  live: Type.Union([Type.Object({ version: Type.String() }), Type.Null()]),
  previous: Type.Union([Type.Object({ version: Type.String() }), Type.Null()]),
  activeColor: Type.Union([Color, Type.Null()]),
  traffic: Type.Array(TrafficEntry),
  instances: Type.Array(InstanceView),
  activeDeployment: Type.Union([ActiveDeploymentSummary, Type.Null()]),
  replicas: Type.Integer(),
  // Per-instance limits of new instances (PUT …/resources changes them and rolls the
  // instances); whether they are enforced here: GET /runtime.
  resources: Type.Optional(ResourceLimits),
  analysisOnInconclusive: Type.Optional(
    Type.Union([Type.Literal('fail'), Type.Literal('wait'), Type.Null()], {
      description:
        "What a deployment's analysis still inconclusive after its limit does here, unless its options say: fail (roll back) or wait (pause for a person); null follows protection (wait on protected environments, fail elsewhere)",
    }),
  ),
  syntheticLoad: Type.Optional(
    Type.Union([Type.Boolean(), Type.Null()], {
      description: `Demo environments: whether the demo sends its steady synthetic load (${SYNTHETIC_LOAD_RPS} requests/s) to the address; null elsewhere (always sent)`,
    }),
  ),
  trafficProvider: Type.Optional(
    Type.Union([Type.Literal('node'), Type.Literal('haproxy'), Type.Literal('kubernetes')], {
      description:
        'what serves the address: node (the embedded Node router, the default) or haproxy (HAProxy driven through its runtime API), an admin setting (PATCH …/settings); kubernetes whenever the runtime target is kubernetes (the cluster routes: its Services and HTTPRoute)',
    }),
  ),
  runtime: Type.Optional(RuntimeTargetView),
  placement: Type.Optional(Placement),
  // Optional only for older servers and hand-made fixtures: this API always sends it.
  router: Type.Optional(
    Type.Object(
      {
        status: Type.Union(
          [Type.Literal('up'), Type.Literal('down'), Type.Literal('handover'), Type.Literal('none')],
          {
            description:
              "the environment's traffic router as the reconcile loop last saw it: up, down (users' requests fail until it is restarted, within seconds), handover (the traffic provider is being changed: the new one takes over the address), none (nothing deployed yet)",
          },
        ),
        restarts: Type.Integer({
          description: 'times the reconcile loop found the router dead and started it again',
        }),
        lastOutageAt: Type.Union([Timestamp, Type.Null()], {
          description: 'when the router was last found down',
        }),
      },
      { description: 'health of the path users take: the address is served by this router' },
    ),
  ),
  config: Type.Optional(
    Type.Object(
      {
        version: Type.Integer({ description: 'current configuration version (0: never set)' }),
        hash: Type.Union([Type.String(), Type.Null()]),
        driftedInstances: Type.Integer({
          description:
            'instances serving traffic that were started with another configuration than the current one (a colour kept warm for the rollback window is not counted)',
        }),
        drift: Type.Boolean({ description: 'driftedInstances > 0: "Roll out configuration" applies it' }),
      },
      { description: 'configuration drift (docs/configuration.md "Drift")' },
    ),
  ),
  updatedAt: Timestamp,
});
export type Environment = Type.Static<typeof Environment>;

/** What CI reported for a release's build (`POST …/releases` `testResults`). */
export const TestResults = Type.Object(
  {
    passed: Type.Integer({ minimum: 0 }),
    failed: Type.Integer({ minimum: 0 }),
    skipped: Type.Optional(Type.Integer({ minimum: 0 })),
    url: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  strict,
);
export type TestResults = Type.Static<typeof TestResults>;

export const Release = Type.Object({
  id: Type.String(),
  version: Type.String(),
  artifact: Type.String(),
  commit: Type.Union([Type.String(), Type.Null()]),
  changelog: Type.Union([Type.String(), Type.Null()]),
  buildUrl: Type.Union([Type.String(), Type.Null()]),
  testResults: Type.Union([TestResults, Type.Null()]),
  createdBy: Type.String(),
  createdAt: Timestamp,
  deployedTo: Type.Array(
    Type.Object({
      environment: Type.String(),
      live: Type.Boolean(),
      lastStatus: Type.Union([DeploymentStatus, Type.Null()]),
    }),
  ),
});
export type Release = Type.Static<typeof Release>;

export const CreateReleaseBody = Type.Object(
  {
    version: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z][0-9A-Za-z.+_-]*$' }),
    artifact: Type.String({
      minLength: 1,
      maxLength: 500,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$',
      description: 'Reference the launcher runs (build path or image); never a command line',
    }),
    commit: Type.Optional(Type.String({ maxLength: 64 })),
    changelog: Type.Optional(Type.String({ maxLength: 20000 })),
    buildUrl: Type.Optional(Type.String({ maxLength: 2000, format: 'uri' })),
    testResults: Type.Optional(TestResults),
  },
  strict,
);
export type CreateReleaseBody = Type.Static<typeof CreateReleaseBody>;

const STEP_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped'] as const;
export const StepStatus = Type.Enum(STEP_STATUSES);
export type StepStatus = Type.Static<typeof StepStatus>;

export const Step = Type.Object({
  position: Type.Integer(),
  name: Type.String(),
  status: StepStatus,
  message: Type.Union([Type.String(), Type.Null()]),
  startedAt: NullableTimestamp,
  finishedAt: NullableTimestamp,
});
export type Step = Type.Static<typeof Step>;

export const Deployment = Type.Object({
  id: Type.String(),
  application: Type.String(),
  environment: Type.String(),
  release: Type.Object({ version: Type.String(), artifact: Type.String() }),
  fromVersion: Type.Union([Type.String(), Type.Null()]),
  configVersion: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Configuration version this deployment ships',
  }),
  kind: Type.Union(
    [
      Type.Literal('deploy'),
      Type.Literal('promote'),
      Type.Literal('rollback'),
      Type.Literal('scale'),
      Type.Literal('drain'),
    ],
    {
      description:
        'scale: a new replica count for the live release; drain: the live release moved off a draining host (strategy is then `rolling`)',
    },
  ),
  strategy: StrategyName,
  status: DeploymentStatus,
  waitingFor: WaitingFor,
  actions: DeploymentActions,
  options: Type.Record(Type.String(), Type.Unknown(), {
    description: 'The strategy options it runs with, defaults filled in (docs/deployments.md)',
  }),
  steps: Type.Array(Step),
  progress: DeploymentProgress,
  analysis: Type.Array(AnalysisResult),
  traffic: Type.Object({ requests: Type.Integer(), failed: Type.Integer() }),
  reason: Type.Union([Type.String(), Type.Null()]),
  actor: Type.String(),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  startedAt: NullableTimestamp,
  finishedAt: NullableTimestamp,
});
export type Deployment = Type.Static<typeof Deployment>;

export const DeploymentListQuery = Type.Object(
  {
    app: Type.Optional(Name),
    env: Type.Optional(Name),
    status: Type.Optional(DeploymentStatus),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  strict,
);
export type DeploymentListQuery = Type.Static<typeof DeploymentListQuery>;

/** Admins only, with a reason: deploy although a freeze window is active (audited `freeze.override`). */
export const OverrideFreeze = Type.Boolean({
  description: 'Admins only, with a reason: go ahead although a freeze window is active (audited)',
});

export const CreateDeploymentBody = Type.Object(
  {
    version: Type.String({ minLength: 1, maxLength: 64 }),
    strategy: StrategyName,
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    reason: Type.Optional(ActionReason),
    override: Type.Optional(
      Type.Boolean({
        description:
          'Admins only, with a reason: deploy although the release has not succeeded in the previous environment (or failed there, into a protected one); audited as promotion.override',
      }),
    ),
    overrideFreeze: Type.Optional(OverrideFreeze),
  },
  strict,
);
export type CreateDeploymentBody = Type.Static<typeof CreateDeploymentBody>;

export const EnvNameParam = Name;

/** What a runtime driver (or a host's supervisor) can do. */
export const RuntimeCapabilities = Type.Object({
  hosts: Type.Union([Type.Literal('local'), Type.Literal('fleet'), Type.Literal('cluster')]),
  survivesControlPlaneRestart: Type.Boolean(),
  cgroups: Type.Boolean({ description: 'memory and CPU limits are enforced (control groups)' }),
  cgroupVersion: Type.Union([Type.Literal(1), Type.Literal(2), Type.Null()]),
  cgroupsUnavailable: Type.Union([Type.String(), Type.Null()], {
    description: 'why limits are not enforced here (e.g. the worker is not root); null when they are',
  }),
});
export type RuntimeCapabilities = Type.Static<typeof RuntimeCapabilities>;

/** An enrolled host as a runtime: what its agent's supervisor enforces (from its agent's hello). */
export const HostRuntime = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  connected: Type.Boolean({ description: 'its agent is connected to a control-plane process now' }),
  capabilities: Type.Union([RuntimeCapabilities, Type.Null()], {
    description: 'null until its agent has said (it says on each connection)',
  }),
});

/** One runtime in use: this machine, the enrolled hosts, or Kubernetes (docs/hosts.md, docs/kubernetes.md). */
export const RuntimeInUse = Type.Object({
  kind: Type.Union([Type.Literal('local'), Type.Literal('hosts'), Type.Literal('kubernetes')]),
  environments: Type.Integer({ minimum: 0, description: 'environments that run their instances here' }),
  capabilities: Type.Union([RuntimeCapabilities, Type.Null()], {
    description: 'null for hosts (each host says its own) or a Kubernetes target that cannot be reached',
  }),
  hosts: Type.Optional(Type.Array(HostRuntime, { description: 'kind hosts: every enrolled host' })),
});
export type RuntimeInUse = Type.Static<typeof RuntimeInUse>;

/** The runtime driver the workers run instances with, and what it can do (GET /runtime). */
export const RuntimeInfo = Type.Object({
  driver: Type.String({ description: "local: processes on the worker's own machine" }),
  capabilities: RuntimeCapabilities,
  runtimes: Type.Array(RuntimeInUse, {
    description:
      'every runtime in use: local (always), hosts (when a host is enrolled or an environment is placed on hosts), kubernetes (when an environment targets it)',
  }),
});
export type RuntimeInfo = Type.Static<typeof RuntimeInfo>;

/** PUT …/resources: the environment, and the deployment rolling the instances (null: nothing ran). */
export const ResourcesChange = Type.Object({
  environment: Environment,
  deployment: Type.Union([Deployment, Type.Null()]),
  enforced: Type.Boolean({ description: 'whether the runtime enforces the limits (see GET /runtime)' }),
  notEnforcedReason: Type.Union([Type.String(), Type.Null()]),
});
export type ResourcesChange = Type.Static<typeof ResourcesChange>;
