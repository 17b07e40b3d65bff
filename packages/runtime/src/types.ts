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
  /** Advisory only on the local driver (passed as QUBOT_MEMORY_LIMIT_MB); see README. */
  memoryMb?: number;
  /** Advisory only on the local driver (passed as QUBOT_CPU_LIMIT). */
  cpus?: number;
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
  /** Fixed port; a free one is allocated when omitted. */
  port?: number;
  env?: Record<string, string>;
  /**
   * The environment's configuration (docs/configuration.md): passed to the instance as environment
   * variables; the driver records its version and the hash of what it really passed.
   */
  config?: { version: number; values: Record<string, string> };
  resources?: InstanceResources;
  /** Path answered by healthy instances; default `/healthz`. */
  healthPath?: string;
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
  startedAt: string | null;
  updatedAt: string | null;
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
  /** Whether instances survive a control-plane restart. */
  survivesControlPlaneRestart: boolean;
  /** Whether memory / CPU limits are enforced (`false`: recorded and passed on, not enforced). */
  enforcesMemoryLimit: boolean;
  enforcesCpuLimit: boolean;
}

/**
 * What the orchestrator needs from a runtime. The local driver runs processes; a Kubernetes driver
 * would map instances to pods and `stopAll` to deleting an environment's Deployments.
 */
export interface RuntimeDriver {
  readonly kind: string;
  readonly capabilities: DriverCapabilities;
  start(spec: InstanceSpec): Promise<InstanceRecord>;
  /** Graceful: SIGTERM (in-flight requests finish), SIGKILL after the timeout. Idempotent. */
  stop(instance: Pick<InstanceRecord, 'id'> & Partial<InstanceRecord>, options?: StopOptions): Promise<void>;
  /** Stops every instance of an environment known to this driver (also those it did not start). */
  stopAll(environment: string, options?: StopOptions): Promise<void>;
  status(instance: Pick<InstanceRecord, 'id'>): Promise<InstanceStatus>;
  checkHealth(instance: InstanceRecord, timeoutMs?: number): Promise<HealthResult>;
  waitHealthy(
    instances: InstanceRecord[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitHealthyResult>;
  /** Re-attaches to instances after a control-plane restart. */
  adopt(records: AdoptableRecord[]): Promise<AdoptResult[]>;
  /** Last `lines` lines of the instance's captured stdout/stderr. */
  logs(instance: Pick<InstanceRecord, 'id'>, lines?: number): Promise<string[]>;
  /** Instances started or adopted by this driver object, optionally for one environment. */
  list(environment?: string): InstanceRecord[];
}
