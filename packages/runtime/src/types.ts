import type { PodTemplate } from './kubernetes/objects.ts';

/** How an application's instances are launched; configured by an admin per application. */
export interface LauncherConfig {
  /** Command template, e.g. `node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port}`. */
  command: string;
  /** Working directory; relative paths are resolved against the driver's `workspaceDir`. */
  cwd?: string;
  /** Extra environment for every instance of the application. */
  env?: Record<string, string>;
}

export interface InstanceResources {
  /**
   * Memory limit, MiB. Enforced (control group) where the driver declares `cgroups`; always passed
   * to the instance as QUBOT_MEMORY_LIMIT_MB.
   */
  memoryMb?: number;
  /** CPU limit in CPUs (0.2 = a fifth of one). Enforced like `memoryMb`; passed as QUBOT_CPU_LIMIT. */
  cpus?: number;
}

/** Where an instance answers: the driver chooses it, the orchestrator stores and routes to it. */
export interface InstanceAddress {
  host: string;
  port: number;
  /** The enrolled host it is placed on (hosts driver); absent on this machine. */
  hostId?: string | null;
}

/** What a driver may weigh when placing a new instance. */
export interface PlacementRequest {
  environmentId: string;
  /** The release it runs: instances of one release are spread first (a rolling update stays spread). */
  releaseId?: string;
  /** The environment's placement setting: `local` (this machine) or `hosts` (docs/hosts.md). */
  placement: 'local' | 'hosts';
}

/** What a health probe needs to reach an instance. */
export interface ProbeTarget extends InstanceAddress {
  id: string;
  /** Path answered by healthy instances, e.g. `/healthz`. */
  healthPath: string;
}

/** Why an instance last exited: on its own, by a signal, or killed by its memory limit. */
export type ExitReason = 'exit' | 'signal' | 'oom';

/** The figures of an OOM kill: the limit in force and the peak usage of the run it ended. */
export interface OomRecord {
  at: string;
  limitBytes: number | null;
  peakBytes: number | null;
}

export interface InstanceSpec {
  /** Unique and stable (the database id): names the instance's directory, logs and status. */
  instanceId: string;
  /** Grouping key for `stopAll`, e.g. `qubot-one/staging`. */
  environment: string;
  version: string;
  /** The release's artifact reference (data, never a command line). */
  artifact: string;
  /** `blue`, `green`, `canary`, … */
  pool: string;
  launcher: LauncherConfig;
  /** The address from `allocateAddress` (recorded before the start); a free one when omitted. */
  address?: InstanceAddress;
  env?: Record<string, string>;
  /**
   * The environment's configuration (docs/configuration.md): passed to the instance as environment
   * variables; the driver records its version and the hash of what it really passed.
   */
  config?: { version: number; values: Record<string, string> };
  resources?: InstanceResources;
  /** Path answered by healthy instances; default `/healthz`. */
  healthPath?: string;
  /**
   * The application's pod template, for the Kubernetes driver (its launcher: data, never a
   * command line); other drivers use `launcher`.
   */
  podTemplate?: PodTemplate;
}

/** What the control plane stores about a running instance, and hands back to `adopt`. */
export interface InstanceRecord {
  id: string;
  environment: string;
  pool: string;
  version: string;
  artifact: string;
  host: string;
  port: number;
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** `host:port`, the form the traffic router takes as a target. */
  target: string;
  /** The supervisor: the process to track and signal. Survives instance restarts. */
  supervisorPid: number;
  /** The instance process at the time of the last status read (changes on restart). */
  pid: number | null;
  logPath: string;
  statusPath: string;
  healthPath: string;
  startedAt: string;
  /** The configuration the supervisor was given (null: none was passed). */
  config?: { version: number; hash: string } | null;
}

/** Fields `adopt` needs; anything else is re-read from the instance's status file. */
export type AdoptableRecord = Pick<InstanceRecord, 'id' | 'port'> &
  Partial<Pick<InstanceRecord, 'supervisorPid' | 'pid' | 'logPath' | 'host' | 'healthPath'>>;

export type SupervisorState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'failed';

export interface InstanceStatus {
  id: string;
  state: SupervisorState | 'unknown';
  /** Supervisor and instance are both alive. */
  alive: boolean;
  supervisorPid: number | null;
  supervisorAlive: boolean;
  pid: number | null;
  restarts: number;
  lastExitCode: number | null;
  lastExitSignal: string | null;
  lastExitReason: ExitReason | null;
  /** Times the instance was killed by its memory limit; the figures of the last time. */
  oomKills: number;
  lastOom: OomRecord | null;
  startedAt: string | null;
  updatedAt: string | null;
}

/** Live figures of an instance's control group (drivers with `cgroups`). */
export interface ResourceUsage {
  memoryLimitBytes: number | null;
  memoryPeakBytes: number | null;
  oomKills: number;
  cpuThrottledPeriods: number;
  cpuThrottledUsec: number;
}

export interface HealthResult {
  id: string;
  healthy: boolean;
  /** HTTP status, when the instance answered at all. */
  status: number | null;
  error: string | null;
  latencyMs: number;
}

export interface WaitHealthyResult {
  /** Every instance answered 2xx before the deadline. */
  ok: boolean;
  /** Last result per instance. */
  results: HealthResult[];
}

export interface AdoptResult {
  id: string;
  /** Supervisor alive (and recognisably ours). */
  alive: boolean;
  /** The port answered HTTP (any status). */
  answering: boolean;
  healthy: boolean;
  /** The refreshed record, when the instance could be adopted. */
  record: InstanceRecord | null;
  error: string | null;
}

export interface StopOptions {
  /** Grace period for the instance after SIGTERM before SIGKILL; default the driver's. */
  timeoutMs?: number;
}

export interface DriverCapabilities {
  /** Where instances run: `local` — this machine (the local driver). */
  hosts: 'local' | 'fleet' | 'cluster';
  /** Whether instances survive a control-plane restart. */
  survivesControlPlaneRestart: boolean;
  /** Memory and CPU limits are enforced with control groups (false: recorded and passed on only). */
  cgroups: boolean;
  /** Which cgroup hierarchy enforces them, when `cgroups`. */
  cgroupVersion: 1 | 2 | null;
  /** Why limits are not enforced, when `cgroups` is false (e.g. not root). */
  cgroupsUnavailable: string | null;
}

/** What `resupervise` did: a new supervisor adopted the running instance, or started it again. */
export interface ResuperviseResult {
  record: InstanceRecord;
  adopted: boolean;
}

/**
 * The one interface the orchestrator knows. The local driver runs processes on this machine; a
 * hosts or Kubernetes driver would map instances to agents' processes or pods. The driver chooses
 * each instance's address (`allocateAddress`); the orchestrator stores it and routes to it, and
 * assumes no host, port range or header of its own.
 */
export interface RuntimeDriver {
  readonly kind: string;
  readonly capabilities: DriverCapabilities;
  /** An address for a new instance, handed out before it starts so it can be recorded first. */
  allocateAddress(request?: PlacementRequest): Promise<InstanceAddress>;
  start(spec: InstanceSpec): Promise<InstanceRecord>;
  /** Graceful: SIGTERM (in-flight requests finish), SIGKILL after the timeout. Idempotent. */
  stop(instance: Pick<InstanceRecord, 'id'> & Partial<InstanceRecord>, options?: StopOptions): Promise<void>;
  /** Stops every instance of an environment known to this driver (also those it did not start). */
  stopAll(environment: string, options?: StopOptions): Promise<void>;
  status(instance: Pick<InstanceRecord, 'id'>): Promise<InstanceStatus>;
  /**
   * Puts a new supervisor over an instance whose supervisor died; it keeps its id and address.
   * Null when there is nothing to supervise from.
   */
  resupervise(id: string): Promise<ResuperviseResult | null>;
  checkHealth(target: ProbeTarget, timeoutMs?: number): Promise<HealthResult>;
  waitHealthy(targets: ProbeTarget[], timeoutMs: number, signal?: AbortSignal): Promise<WaitHealthyResult>;
  /** Re-attaches to instances after a control-plane restart. */
  adopt(records: AdoptableRecord[]): Promise<AdoptResult[]>;
  /** Last `lines` lines of the instance's captured stdout/stderr. */
  logs(instance: Pick<InstanceRecord, 'id'>, lines?: number): Promise<string[]>;
  /** The file on this machine its log is appended to (for following it live); null where none. */
  localLogFile(instance: Pick<InstanceRecord, 'id'>): string | null;
  /**
   * Follows the instance's log live where there is no local file (a pod's log, `follow=true`):
   * `onLine` for each new line until `signal` aborts; resolves once the stream is open.
   */
  followLogs?(
    instance: Pick<InstanceRecord, 'id'>,
    onLine: (line: string) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /**
   * Drivers that own traffic objects of their own (Kubernetes: the stable and preview Services,
   * the HTTPRoute) keep them in step with the environment's weights, per pool in percent.
   */
  setTraffic?(environment: string, weights: Record<string, number>): Promise<unknown>;
  /** Instances started or adopted by this driver object, optionally for one environment. */
  list(environment?: string): InstanceRecord[];
  /** Control-group figures of an instance; null without `cgroups` or when it has none. */
  resourceUsage(instance: Pick<InstanceRecord, 'id'>): ResourceUsage | null;
}
