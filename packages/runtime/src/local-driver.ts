import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import {
  applyLimits,
  type CgroupPlacement,
  type CgroupSupport,
  detectCgroups,
  placementFor,
  readCpu,
  readMemory,
  removeGroup,
} from './cgroups.ts';
import { checkHealth, instanceTarget, instanceUrl, waitHealthy } from './health.ts';
import { LauncherError, renderLauncher, validateArtifactRef, validateLabel } from './launcher.ts';
import {
  entryArgs,
  freePort,
  isAlive,
  isOurProcess,
  processGroupOf,
  signal,
  tailFile,
  waitForExit,
} from './proc.ts';
import { readStatusFile, type SupervisorSpec, writeStatusFile } from './supervisor.ts';
import type {
  AdoptableRecord,
  AdoptResult,
  DriverCapabilities,
  HealthResult,
  InstanceAddress,
  InstanceRecord,
  InstanceSpec,
  InstanceStatus,
  ProbeTarget,
  ResourceUsage,
  ResuperviseResult,
  RuntimeDriver,
  StopOptions,
  WaitHealthyResult,
} from './types.ts';

/** Appears in the supervisor's command line; checked before signalling a PID read from disk. */
const SUPERVISOR_MARKER = 'supervisor-main';

export interface LocalDriverOptions {
  /** Instance directories (spec, status, log) go under `<dataDir>/instances/<instanceId>/`. */
  dataDir: string;
  /** Base for relative launcher working directories; default `process.cwd()`. */
  workspaceDir?: string;
  /** Interface instances listen on and are probed at; default 127.0.0.1. */
  host?: string;
  /** Grace period after SIGTERM; default 10 s. */
  stopTimeoutMs?: number;
  backoff?: Partial<SupervisorSpec['backoff']>;
  maxRestarts?: number | null;
  /** Variables copied from the control plane's environment; the rest (secrets!) is not passed on. */
  inheritEnv?: string[];
  maxLogBytes?: number;
  /**
   * Enforce memory/CPU limits with control groups: `auto` (default) where the hierarchy is
   * writable, `false` never. `cgroupRoot` / `cgroupParent` move them (tests).
   */
  cgroups?: 'auto' | false;
  cgroupRoot?: string;
  cgroupParent?: string;
  /**
   * Hashes the configuration an instance is started with (what drift compares); default SHA-256
   * of `canonicalConfig`. The control plane passes a keyed hash so secrets cannot be guessed from it.
   */
  configHasher?: (canonical: string) => string;
}

/** Key/value pairs as one canonical string: sorted by key, JSON. The input of every config hash. */
export function canonicalConfig(values: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(values)
      .sort()
      .map((k) => [k, values[k]]),
  );
}

const DEFAULT_INHERIT = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER'];

interface StoredInstance {
  spec: SupervisorSpec;
  record: InstanceRecord;
}

export class LocalDriver implements RuntimeDriver {
  readonly kind = 'local';
  readonly capabilities: DriverCapabilities;
  readonly cgroupSupport: CgroupSupport;
  readonly dataDir: string;
  private readonly workspaceDir: string;
  private readonly host: string;
  private readonly stopTimeoutMs: number;
  private readonly backoff: SupervisorSpec['backoff'];
  private readonly maxRestarts: number | null;
  private readonly inheritEnv: string[];
  private readonly maxLogBytes: number;
  private readonly known = new Map<string, InstanceRecord>();
  private readonly configHasher: (canonical: string) => string;

  constructor(options: LocalDriverOptions) {
    this.dataDir = resolve(options.dataDir);
    this.workspaceDir = resolve(options.workspaceDir ?? process.cwd());
    this.host = options.host ?? '127.0.0.1';
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.backoff = { initialMs: 500, maxMs: 30_000, resetAfterMs: 30_000, ...options.backoff };
    this.maxRestarts = options.maxRestarts ?? null;
    this.inheritEnv = options.inheritEnv ?? DEFAULT_INHERIT;
    this.maxLogBytes = options.maxLogBytes ?? 5 * 1024 * 1024;
    this.configHasher = options.configHasher ?? ((c) => createHash('sha256').update(c).digest('hex'));
    this.cgroupSupport =
      options.cgroups === false
        ? { writable: false, version: null, reason: 'control groups switched off for this driver' }
        : detectCgroups(options.cgroupRoot, options.cgroupParent);
    this.capabilities = {
      hosts: 'local',
      survivesControlPlaneRestart: true,
      cgroups: this.cgroupSupport.writable,
      cgroupVersion: this.cgroupSupport.writable ? this.cgroupSupport.version : null,
      cgroupsUnavailable: this.cgroupSupport.writable ? null : this.cgroupSupport.reason,
    };
  }

  /** A free port on this machine's instance interface. */
  async allocateAddress(): Promise<InstanceAddress> {
    return { host: this.host, port: await freePort(this.host) };
  }

  /** The instance's control group, when limits are enforced here. */
  placement(id: string): CgroupPlacement | null {
    return this.cgroupSupport.writable ? placementFor(this.cgroupSupport, id) : null;
  }

  instanceDir(id: string): string {
    validateLabel('instance id', id);
    return join(this.dataDir, 'instances', id);
  }

  /**
   * Whether `pid` is the supervisor of this very instance: its command line names the instance's
   * spec file. PIDs are reused (32768 of them on many systems): a pid read from disk that now
   * belongs to another instance's supervisor must not count as this one's.
   */
  private isSupervisorOf(id: string, pid: number | null | undefined): boolean {
    return isOurProcess(pid, SUPERVISOR_MARKER) && isOurProcess(pid, join(this.instanceDir(id), 'spec.json'));
  }

  /**
   * A live supervisor of the instance that no file names yet: the control plane died between its
   * spawn and the record naming it, before the supervisor's own first status write. Found by its
   * command line (rare path: a scan of /proc).
   */
  private unrecordedSupervisorOf(id: string): number | null {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (this.isSupervisorOf(id, pid)) return pid;
    }
    return null;
  }

  async start(spec: InstanceSpec): Promise<InstanceRecord> {
    validateLabel('instance id', spec.instanceId);
    validateLabel('version', spec.version);
    validateLabel('pool', spec.pool);
    validateArtifactRef(spec.artifact);
    if (!spec.environment || spec.environment.length > 200) throw new LauncherError('invalid environment');
    const healthPath = spec.healthPath ?? '/healthz';
    if (!healthPath.startsWith('/')) throw new LauncherError('healthPath must start with /');

    const existing = this.readStored(spec.instanceId);
    if (existing && this.isSupervisorOf(spec.instanceId, existing.record.supervisorPid)) {
      throw new LauncherError(
        `instance ${spec.instanceId} is already running (pid ${existing.record.supervisorPid})`,
      );
    }

    if (spec.address && spec.address.host !== this.host) {
      throw new LauncherError(`address ${spec.address.host} is not this machine's (${this.host})`);
    }
    const port = spec.address?.port ?? (await freePort(this.host));
    const values = {
      version: spec.version,
      artifact: spec.artifact,
      port: String(port),
      pool: spec.pool,
      instanceId: spec.instanceId,
    };
    let { command, args } = renderLauncher(spec.launcher.command, values);
    // Run `node` launchers with the control plane's own Node binary, independent of PATH.
    if (command === 'node') command = process.execPath;

    const env: Record<string, string> = {};
    for (const name of this.inheritEnv) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    Object.assign(env, spec.launcher.env, spec.config?.values, spec.env, {
      PORT: String(port),
      QUBOT_VERSION: spec.version,
      QUBOT_POOL: spec.pool,
      QUBOT_INSTANCE_ID: spec.instanceId,
      QUBOT_ARTIFACT: spec.artifact,
    });
    if (spec.resources?.memoryMb !== undefined) env.QUBOT_MEMORY_LIMIT_MB = String(spec.resources.memoryMb);
    if (spec.resources?.cpus !== undefined) env.QUBOT_CPU_LIMIT = String(spec.resources.cpus);

    const dir = this.instanceDir(spec.instanceId);
    // Logs, the spec (with the instance's environment variables) and status are the operator's
    // alone: owner-only directories and files, whatever the umask.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const cwd = spec.launcher.cwd
      ? isAbsolute(spec.launcher.cwd)
        ? spec.launcher.cwd
        : resolve(this.workspaceDir, spec.launcher.cwd)
      : this.workspaceDir;
    const cgroup = this.placement(spec.instanceId);
    if (cgroup) {
      applyLimits(cgroup, {
        ...(spec.resources?.memoryMb ? { memoryMb: spec.resources.memoryMb } : {}),
        ...(spec.resources?.cpus ? { cpus: spec.resources.cpus } : {}),
      });
    }
    const supervisorSpec: SupervisorSpec = {
      ...(cgroup ? { cgroup } : {}),
      id: spec.instanceId,
      command,
      args,
      cwd,
      env,
      logPath: join(dir, 'instance.log'),
      statusPath: join(dir, 'status.json'),
      stopTimeoutMs: this.stopTimeoutMs,
      backoff: this.backoff,
      maxRestarts: this.maxRestarts,
      maxLogBytes: this.maxLogBytes,
    };
    const specPath = join(dir, 'spec.json');
    const specText = JSON.stringify(supervisorSpec, null, 2);
    writeFileSync(specPath, specText, { mode: 0o600 });
    // Drift is judged on what the supervisor really got: the configuration's keys as read back
    // from the spec it starts from (a key the driver's own variables override counts as given).
    const given = (JSON.parse(specText) as SupervisorSpec).env;
    const config = spec.config
      ? {
          version: spec.config.version,
          hash: this.configHasher(
            canonicalConfig(
              Object.fromEntries(Object.keys(spec.config.values).map((k) => [k, given[k] ?? ''])),
            ),
          ),
        }
      : null;
    // A record exists before the process does: if the control plane dies between the spawn and
    // the final record below, adoption still finds the instance (through its status file).
    const recordPath = join(dir, 'record.json');
    const draft = (supervisorPid: number): InstanceRecord => ({
      id: spec.instanceId,
      environment: spec.environment,
      pool: spec.pool,
      version: spec.version,
      artifact: spec.artifact,
      host: this.host,
      port,
      url: instanceUrl({ host: this.host, port }),
      target: instanceTarget({ host: this.host, port }),
      supervisorPid,
      pid: null,
      logPath: supervisorSpec.logPath,
      statusPath: supervisorSpec.statusPath,
      healthPath,
      startedAt: new Date().toISOString(),
      config,
    });
    writeFileSync(recordPath, JSON.stringify(draft(0), null, 2), { mode: 0o600 });

    const supervisor = spawn(process.execPath, [...entryArgs('supervisor-main'), specPath], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
      // Own session and process group: a control-plane exit (or Ctrl-C on its terminal) leaves it be.
      detached: true,
      stdio: 'ignore',
    });
    const supervisorPid = await new Promise<number>((ok, fail) => {
      supervisor.once('spawn', () => ok(supervisor.pid as number));
      supervisor.once('error', fail);
    });
    supervisor.unref();

    const record = draft(supervisorPid);
    writeFileSync(recordPath, JSON.stringify(record, null, 2), { mode: 0o600 });
    this.known.set(record.id, record);
    return record;
  }

  /**
   * Puts a supervisor back over an instance whose supervisor died (SIGKILL, OOM killer). The
   * instance process usually lives on (it is in the dead supervisor's process group): the new
   * supervisor adopts it, so it keeps serving on its port without a restart; if it is gone too, the
   * new supervisor starts it again from the stored spec, on the same port. Either way the instance
   * keeps its id and port, so the routing table and the replica count do not change.
   * Returns null when there is nothing on disk to supervise from; `adopted` says whether the
   * running process was kept.
   */
  async resupervise(id: string): Promise<ResuperviseResult | null> {
    const stored = this.readStored(id);
    if (!stored) return null;
    const dir = this.instanceDir(id);
    const statusPath = join(dir, 'status.json');
    const st = readStatusFile(statusPath);
    const previous = st?.supervisorPid ?? stored.record.supervisorPid;
    if (this.isSupervisorOf(id, previous)) return { record: stored.record, adopted: false };
    if (!previous) {
      const running = this.unrecordedSupervisorOf(id);
      if (running) {
        const record = { ...stored.record, supervisorPid: running };
        writeFileSync(join(dir, 'record.json'), JSON.stringify(record, null, 2), { mode: 0o600 });
        this.known.set(id, record);
        return { record, adopted: false };
      }
    }
    const orphan = st?.pid ?? null;
    const adoptPid = orphan && isAlive(orphan) && processGroupOf(orphan) === previous ? orphan : null;
    const specPath = join(dir, 'spec.json');
    const supervisor = spawn(
      process.execPath,
      [...entryArgs('supervisor-main'), specPath, ...(adoptPid ? ['--adopt', String(adoptPid)] : [])],
      { cwd: dir, env: { PATH: process.env.PATH ?? '' }, detached: true, stdio: 'ignore' },
    );
    const supervisorPid = await new Promise<number>((ok, fail) => {
      supervisor.once('spawn', () => ok(supervisor.pid as number));
      supervisor.once('error', fail);
    });
    supervisor.unref();
    // Written before the new supervisor's own first write: until then a status read would still
    // name the dead supervisor, and a second reconcile round would start another one.
    writeStatusFile(statusPath, {
      id,
      state: adoptPid ? 'running' : 'starting',
      supervisorPid,
      pid: adoptPid,
      restarts: st?.restarts ?? 0,
      lastExitCode: st?.lastExitCode ?? null,
      lastExitSignal: st?.lastExitSignal ?? null,
      lastExitReason: st?.lastExitReason ?? null,
      oomKills: st?.oomKills ?? 0,
      lastOom: st?.lastOom ?? null,
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    const record: InstanceRecord = { ...stored.record, supervisorPid, pid: adoptPid };
    writeFileSync(join(dir, 'record.json'), JSON.stringify(record, null, 2), { mode: 0o600 });
    this.known.set(id, record);
    return { record, adopted: adoptPid !== null };
  }

  async stop(instance: Pick<InstanceRecord, 'id'> & Partial<InstanceRecord>, options: StopOptions = {}) {
    const stored = this.readStored(instance.id);
    // The status file names the current supervisor (a re-supervised instance has a new one).
    const current = readStatusFile(join(this.instanceDir(instance.id), 'status.json'))?.supervisorPid;
    const pid = this.isSupervisorOf(instance.id, current)
      ? (current as number)
      : (instance.supervisorPid ?? stored?.record.supervisorPid ?? null);
    const timeoutMs = options.timeoutMs ?? this.stopTimeoutMs;
    this.known.delete(instance.id);
    await this.stopProcesses(instance.id, pid, timeoutMs);
    // Its control group goes with it (the spec names it, whoever created it).
    const cgroup = stored?.spec.cgroup;
    if (cgroup) await removeGroup(cgroup).catch(() => {});
  }

  private async stopProcesses(id: string, pid: number | null, timeoutMs: number) {
    if (!pid) return;
    const ours = () => this.isSupervisorOf(id, pid);
    if (ours()) {
      signal(pid, 'SIGTERM');
      const gone = await waitForExit(pid, timeoutMs + 2_000, () => !ours());
      // The supervisor leads its own process group, so this also reaches an instance it left behind.
      if (!gone) signal(-pid, 'SIGKILL');
      await waitForExit(pid, 2_000, () => !ours());
      return;
    }
    // Supervisor killed outright: its instance may live on as an orphan in the supervisor's group.
    const orphan = readStatusFile(join(this.instanceDir(id), 'status.json'))?.pid ?? null;
    if (orphan && isAlive(orphan) && processGroupOf(orphan) === pid) {
      signal(-pid, 'SIGTERM');
      if (!(await waitForExit(orphan, timeoutMs))) signal(-pid, 'SIGKILL');
      await waitForExit(orphan, 2_000);
    }
  }

  /** Removes a stopped instance's directory (spec, status, log): a host agent forgets what it no longer runs. */
  forget(id: string): void {
    this.known.delete(id);
    rmSync(this.instanceDir(id), { recursive: true, force: true });
  }

  async stopAll(environment: string, options: StopOptions = {}) {
    const targets = this.scan().filter((s) => s.record.environment === environment);
    await Promise.all(targets.map((s) => this.stop(s.record, options)));
  }

  async status(instance: Pick<InstanceRecord, 'id'>): Promise<InstanceStatus> {
    const s = readStatusFile(join(this.instanceDir(instance.id), 'status.json'));
    const stored = this.readStored(instance.id);
    const supervisorPid = s?.supervisorPid ?? stored?.record.supervisorPid ?? null;
    const supervisorAlive = this.isSupervisorOf(instance.id, supervisorPid);
    const pid = supervisorAlive ? (s?.pid ?? null) : null;
    return {
      id: instance.id,
      state: s
        ? supervisorAlive || s.state === 'stopped' || s.state === 'failed'
          ? s.state
          : 'stopped'
        : 'unknown',
      alive: supervisorAlive && pid !== null && isAlive(pid),
      supervisorPid,
      supervisorAlive,
      pid,
      restarts: s?.restarts ?? 0,
      lastExitCode: s?.lastExitCode ?? null,
      lastExitSignal: s?.lastExitSignal ?? null,
      lastExitReason: s?.lastExitReason ?? null,
      oomKills: s?.oomKills ?? 0,
      lastOom: s?.lastOom ?? null,
      startedAt: s?.startedAt ?? null,
      updatedAt: s?.updatedAt ?? null,
    };
  }

  checkHealth(target: ProbeTarget, timeoutMs?: number): Promise<HealthResult> {
    return checkHealth(target, timeoutMs);
  }

  waitHealthy(targets: ProbeTarget[], timeoutMs: number, signal?: AbortSignal): Promise<WaitHealthyResult> {
    return waitHealthy(targets, timeoutMs, signal);
  }

  resourceUsage(instance: Pick<InstanceRecord, 'id'>): ResourceUsage | null {
    const cgroup = this.readStored(instance.id)?.spec.cgroup;
    if (!cgroup) return null;
    const mem = readMemory(cgroup);
    const cpu = readCpu(cgroup);
    if (!mem || !cpu) return null;
    return {
      memoryLimitBytes: mem.limitBytes,
      memoryPeakBytes: mem.peakBytes,
      oomKills: mem.oomKills,
      cpuThrottledPeriods: cpu.throttledPeriods,
      cpuThrottledUsec: cpu.throttledUsec,
    };
  }

  async adopt(records: AdoptableRecord[]): Promise<AdoptResult[]> {
    return Promise.all(
      records.map(async (r): Promise<AdoptResult> => {
        const fail = (error: string, alive = false): AdoptResult => ({
          id: r.id,
          alive,
          answering: false,
          healthy: false,
          record: null,
          error,
        });
        let stored: StoredInstance | null;
        try {
          stored = this.readStored(r.id);
        } catch (err) {
          return fail((err as Error).message);
        }
        if (!stored) return fail('no instance directory');
        // The status file names the supervisor that runs now (it may have been replaced, or the
        // control plane died before recording its pid); the others are older records.
        const candidates = [
          readStatusFile(join(this.instanceDir(r.id), 'status.json'))?.supervisorPid,
          r.supervisorPid,
          stored.record.supervisorPid,
        ];
        const supervisorPid =
          candidates.find((pid) => this.isSupervisorOf(r.id, pid)) ?? r.supervisorPid ?? null;
        if (!this.isSupervisorOf(r.id, supervisorPid)) return fail('supervisor is not running');
        const st = await this.status({ id: r.id });
        const host = r.host ?? stored.record.host;
        const healthPath = r.healthPath ?? stored.record.healthPath;
        const record: InstanceRecord = {
          ...stored.record,
          host,
          port: r.port,
          url: instanceUrl({ host, port: r.port }),
          target: instanceTarget({ host, port: r.port }),
          supervisorPid: supervisorPid as number,
          pid: st.pid,
          healthPath,
        };
        const probe = await checkHealth(record, 2_000);
        this.known.set(r.id, record);
        return {
          id: r.id,
          alive: true,
          answering: probe.status !== null,
          healthy: probe.healthy,
          record,
          error: probe.status === null ? probe.error : null,
        };
      }),
    );
  }

  logs(instance: Pick<InstanceRecord, 'id'>, lines = 200): Promise<string[]> {
    return tailFile(join(this.instanceDir(instance.id), 'instance.log'), lines);
  }

  localLogFile(instance: Pick<InstanceRecord, 'id'>): string {
    return join(this.instanceDir(instance.id), 'instance.log');
  }

  list(environment?: string): InstanceRecord[] {
    return [...this.known.values()].filter((r) => environment === undefined || r.environment === environment);
  }

  /** Every instance directory on disk (started by this or an earlier control-plane process). */
  scan(): StoredInstance[] {
    let ids: string[];
    try {
      ids = readdirSync(join(this.dataDir, 'instances'));
    } catch {
      return [];
    }
    return ids.flatMap((id) => {
      try {
        const s = this.readStored(id);
        return s ? [s] : [];
      } catch {
        return [];
      }
    });
  }

  private readStored(id: string): StoredInstance | null {
    const dir = this.instanceDir(id);
    try {
      return {
        spec: JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')) as SupervisorSpec,
        record: JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')) as InstanceRecord,
      };
    } catch {
      return null;
    }
  }
}
