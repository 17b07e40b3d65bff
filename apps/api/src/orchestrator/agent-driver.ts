// The hosts runtime driver (docs/hosts.md): instances run on enrolled hosts, through their agents.
// It places each new instance on a host (spread over the environment's ready hosts, honouring each
// host's capacity, never on a cordoned, draining, lost or revoked one), and drives the agents
// through the hub: a start or a stop changes the host's desired state and waits for the agent to
// report that it converged. Health is probed from here, at the host's address.
//
// `PlacementDriver` is the one driver the orchestrator holds: it sends each environment's new
// instances to this driver or to the local one ("this machine") by the environment's `placement`,
// and every later call for an instance to the driver that runs it.
import { createHostRepo, type Database, LIVE_INSTANCE_STATUSES } from '@qubot/db';
import {
  type AdoptableRecord,
  type AdoptResult,
  type AgentInstanceReport,
  checkHealth,
  type DriverCapabilities,
  type HealthResult,
  type InstanceAddress,
  type InstanceRecord,
  type InstanceSpec,
  type InstanceStatus,
  instanceTarget,
  instanceUrl,
  type PlacementRequest,
  type ProbeTarget,
  type ResourceUsage,
  type ResuperviseResult,
  type RuntimeDriver,
  type StopOptions,
  type WaitHealthyResult,
  waitHealthy,
} from '@qubot/runtime';
import type { AgentHub } from './agent-hub.ts';

const START_TIMEOUT_MS = 30_000;
/**
 * After a control-plane restart the agents reconnect within seconds (back-off up to 5 s): how long
 * placement and re-supervision wait for a host that was connected before to be back before
 * deciding without it (docs/hosts.md "Control-plane restarts").
 */
const RECONNECT_WAIT_MS = 15_000;

/** An instance's status with nothing known of it: no supervisor, never exited. */
function unknownStatus(id: string, known: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    id,
    state: 'unknown',
    alive: false,
    supervisorPid: null,
    supervisorAlive: false,
    pid: null,
    restarts: 0,
    lastExitCode: null,
    lastExitSignal: null,
    lastExitReason: null,
    oomKills: 0,
    lastOom: null,
    startedAt: null,
    updatedAt: null,
    ...known,
  };
}

export class NoHostError extends Error {
  override name = 'NoHostError';
}

function recordFrom(
  r: AgentInstanceReport,
  spec?: Pick<InstanceSpec, 'pool' | 'version' | 'artifact' | 'healthPath'>,
): InstanceRecord {
  const address = { host: r.host, port: r.port };
  return {
    id: r.id,
    environment: r.environment,
    pool: spec?.pool ?? '',
    version: spec?.version ?? '',
    artifact: spec?.artifact ?? '',
    host: r.host,
    port: r.port,
    url: instanceUrl(address),
    target: instanceTarget(address),
    supervisorPid: r.supervisorPid ?? 0,
    pid: r.pid,
    logPath: r.logPath,
    statusPath: '',
    healthPath: spec?.healthPath ?? '/healthz',
    startedAt: r.startedAt ?? new Date().toISOString(),
    config: r.config,
  };
}

/** How many instance → host entries the driver keeps (a read of the row finds any other). */
export const PLACED_MAX = 10_000;

export function createAgentDriver(deps: {
  db: Pick<Database, 'prisma'>;
  hub: AgentHub;
  /** How many instance → host entries to keep (PLACED_MAX). */
  rememberMax?: number;
}) {
  const rememberMax = deps.rememberMax ?? PLACED_MAX;
  const { prisma } = deps.db;
  const hosts = createHostRepo(prisma);
  const { hub } = deps;
  /**
   * Instance id → its host, null for one on this machine: from each start, else from its row (a
   * row's host is set when it is created and never changes, so a row found says it for good).
   */
  const placed = new Map<string, string | null>();
  /** Remembers where an instance is; stopped ones are forgotten, and the oldest beyond the bound. */
  function remember(id: string, hostId: string | null): void {
    placed.delete(id);
    placed.set(id, hostId);
    if (placed.size > rememberMax) {
      const oldest = placed.keys().next().value;
      if (oldest !== undefined) placed.delete(oldest);
    }
  }

  async function hostOf(id: string): Promise<string | null> {
    const known = placed.get(id);
    if (known !== undefined) return known;
    const row = await prisma.instance.findUnique({ where: { id }, select: { hostId: true } });
    if (row) remember(id, row.hostId);
    return row?.hostId ?? null;
  }

  /**
   * Whether the host has reported to this process, waiting (bounded) for a host that is neither
   * lost nor revoked: a worker that just started must not take a host's silence for an empty host.
   */
  async function reported(hostId: string): Promise<boolean> {
    if (hub.hasReported(hostId)) return true;
    const row = await prisma.host.findUnique({
      where: { id: hostId },
      select: { lostAt: true, revokedAt: true },
    });
    if (!row || row.lostAt || row.revokedAt) return false;
    return hub.waitFor(() => hub.hasReported(hostId), RECONNECT_WAIT_MS);
  }

  const capabilities: DriverCapabilities = {
    hosts: 'fleet',
    survivesControlPlaneRestart: true,
    // Each agent enforces limits where its machine allows (its local driver); not known here.
    cgroups: false,
    cgroupVersion: null,
    cgroupsUnavailable: 'enforced by each host agent where its machine allows (docs/hosts.md)',
  };

  const driver = {
    kind: 'hosts',
    capabilities,
    /** Whether an instance runs on a host (known to this driver). */
    owns: async (id: string) => (await hostOf(id)) !== null,
    /** The same, from what this driver already knows (no database read): for synchronous callers. */
    knownOnHost: (id: string) => Boolean(placed.get(id)),
    /** How many instances the driver remembers the host of (bounded by `rememberMax`). */
    rememberedCount: () => placed.size,
    /** Forgets where a stopped instance was (a later call reads its row again). */
    forget: (id: string) => {
      placed.delete(id);
    },

    /**
     * A host for a new instance of `environment`: among the connected hosts that are schedulable,
     * not lost or revoked and below capacity, the one with the fewest instances of this environment,
     * then the fewest in all. The port is one the host's agent found free.
     */
    async allocateAddress(request?: PlacementRequest): Promise<InstanceAddress> {
      const eligible = (await hosts.listHosts()).filter(
        (h) => h.scheduling === 'schedulable' && !h.lostAt && !h.revokedAt,
      );
      // Hosts whose row says they were connected but that have not come back to this process yet
      // (it just started): wait for them, so placement still spreads after a control-plane restart.
      const returning = eligible.filter((h) => h.connected && !hub.isConnected(h.id));
      if (returning.length > 0)
        await hub.waitFor(() => returning.every((h) => hub.isConnected(h.id)), RECONNECT_WAIT_MS);
      const candidates = eligible.filter((h) => hub.isConnected(h.id));
      if (candidates.length === 0)
        throw new NoHostError('no host can take an instance: none is connected, schedulable and not lost');
      const live = await prisma.instance.findMany({
        where: {
          hostId: { in: candidates.map((h) => h.id) },
          status: { in: LIVE_INSTANCE_STATUSES.filter((st) => st !== 'stopping') },
        },
        select: { hostId: true, environmentId: true, releaseId: true },
      });
      const count = (id: string, f: (i: (typeof live)[number]) => boolean = () => true) =>
        live.filter((i) => i.hostId === id && f(i)).length;
      const sameEnv = (i: (typeof live)[number]) => i.environmentId === request?.environmentId;
      const sameRelease = (i: (typeof live)[number]) => sameEnv(i) && i.releaseId === request?.releaseId;
      // Spread: fewest of this release here, then of this environment, then of all.
      const ranked = candidates
        .filter((h) => count(h.id) < h.capacity)
        .sort(
          (a, b) =>
            count(a.id, sameRelease) - count(b.id, sameRelease) ||
            count(a.id, sameEnv) - count(b.id, sameEnv) ||
            count(a.id) - count(b.id) ||
            a.name.localeCompare(b.name),
        );
      const host = ranked[0];
      if (!host) throw new NoHostError('every ready host is at its capacity');
      const reply = await hub.request(host.id, { type: 'allocate' });
      if (!reply.port) throw new Error(`host ${host.name} gave no port`);
      return { host: host.address, port: reply.port, hostId: host.id };
    },

    async start(spec: InstanceSpec): Promise<InstanceRecord> {
      const hostId = spec.address?.hostId ?? (await hostOf(spec.instanceId));
      if (!hostId || !spec.address) throw new Error(`instance ${spec.instanceId} has no host address`);
      remember(spec.instanceId, hostId);
      hub.expectStart(spec.instanceId, hostId, spec);
      await hub.pushDesired(hostId);
      const up = await hub.waitFor(
        () => hub.reportOf(hostId, spec.instanceId)?.supervisorAlive === true,
        START_TIMEOUT_MS,
      );
      const report = hub.reportOf(hostId, spec.instanceId);
      if (!up || !report)
        throw new Error(`host agent did not start ${spec.instanceId} within ${START_TIMEOUT_MS / 1000}s`);
      return recordFrom(report, spec);
    },

    async stop(instance: Pick<InstanceRecord, 'id'>, options: StopOptions = {}): Promise<void> {
      const hostId = await hostOf(instance.id);
      if (!hostId) return;
      placed.delete(instance.id);
      hub.expectStop(instance.id);
      await hub.pushDesired(hostId);
      // A host that is not connected converges when it comes back (the row is stopped by then).
      if (!hub.isConnected(hostId)) return;
      await hub.waitFor(
        () => {
          const r = hub.reportOf(hostId, instance.id);
          return !r || (!r.supervisorAlive && !r.alive);
        },
        (options.timeoutMs ?? 10_000) + 5_000,
      );
    },

    async stopAll(environment: string, options?: StopOptions): Promise<void> {
      const ids = hub
        .connectedHosts()
        .flatMap((h) => hub.reportsOf(h).filter((r) => r.environment === environment));
      await Promise.all(ids.map((r) => driver.stop({ id: r.id }, options)));
    },

    /**
     * What the host last reported. A host that has not reported (yet) tells nothing: `unknown`
     * with no supervisor, which the reconciler and the health monitor leave alone — until the host
     * is lost, when its rows are marked `lost` and replaced.
     */
    async status(instance: Pick<InstanceRecord, 'id'>): Promise<InstanceStatus> {
      const hostId = await hostOf(instance.id);
      const r = hostId ? hub.reportOf(hostId, instance.id) : null;
      const silent = !hostId || !hub.hasReported(hostId);
      if (!r) return unknownStatus(instance.id);
      // Disconnected (not yet lost): the last report stands; nothing is restarted meanwhile.
      const { environment: _e, host: _h, port: _p, logPath: _l, config: _c, usage: _u, ...status } = r;
      return silent ? { ...status, supervisorAlive: true } : status;
    },

    /** The agent puts supervisors back itself when it converges: push its desired state, wait. */
    async resupervise(id: string): Promise<ResuperviseResult | null> {
      const hostId = await hostOf(id);
      if (!hostId || !(await reported(hostId))) return null;
      await hub.pushDesired(hostId);
      await hub.waitFor(() => hub.reportOf(hostId, id)?.supervisorAlive === true, 10_000);
      const r = hub.reportOf(hostId, id);
      return r?.supervisorAlive ? { record: recordFrom(r), adopted: r.alive } : null;
    },

    checkHealth(target: ProbeTarget, timeoutMs?: number): Promise<HealthResult> {
      return checkHealth(target, timeoutMs);
    },
    waitHealthy(targets: ProbeTarget[], timeoutMs: number, signal?: AbortSignal): Promise<WaitHealthyResult> {
      return waitHealthy(targets, timeoutMs, signal);
    },

    /**
     * After a control-plane restart the agents reconnect on their own: an instance on a host is
     * taken as alive (its row says where it answers) and probed; the host's reports take over
     * when it connects, and a host that never does is lost and its instances replaced.
     */
    async adopt(records: AdoptableRecord[]): Promise<AdoptResult[]> {
      return Promise.all(
        records.map(async (r): Promise<AdoptResult> => {
          const hostId = await hostOf(r.id);
          const host = r.host ?? '';
          const report = hostId ? hub.reportOf(hostId, r.id) : null;
          const record: InstanceRecord = report
            ? recordFrom(report)
            : recordFrom({
                ...unknownStatus(r.id, {
                  supervisorAlive: true,
                  alive: true,
                  supervisorPid: r.supervisorPid ?? null,
                  pid: r.pid ?? null,
                }),
                environment: '',
                host,
                port: r.port,
                logPath: r.logPath ?? '',
                config: null,
              });
          const probe = await checkHealth(
            { id: r.id, host, port: r.port, healthPath: r.healthPath ?? '/healthz' },
            2_000,
          );
          return {
            id: r.id,
            alive: true,
            answering: probe.status !== null,
            healthy: probe.healthy,
            record,
            error: null,
          };
        }),
      );
    },

    async logs(instance: Pick<InstanceRecord, 'id'>, lines = 200): Promise<string[]> {
      const hostId = await hostOf(instance.id);
      if (!hostId) return [];
      return (await hub.request(hostId, { type: 'logs', id: instance.id, lines })).lines ?? [];
    },
    /** The instance's log as its host's agent writes it, through the hub (any process). */
    async followLogs(
      instance: Pick<InstanceRecord, 'id'>,
      onLine: (line: string) => void,
      signal: AbortSignal,
    ): Promise<void> {
      const hostId = await hostOf(instance.id);
      if (!hostId) throw new Error(`instance ${instance.id} runs on no host`);
      await hub.follow(hostId, instance.id, (lines) => lines.forEach(onLine), signal);
    },
    localLogFile: (): string | null => null,
    list(environment?: string): InstanceRecord[] {
      return hub
        .connectedHosts()
        .flatMap((h) => hub.reportsOf(h))
        .filter((r) => environment === undefined || r.environment === environment)
        .map((r) => recordFrom(r));
    },
    /** The figures the instance's host last reported from its control group (none: unknown). */
    resourceUsage(instance: Pick<InstanceRecord, 'id'>): ResourceUsage | null {
      const hostId = placed.get(instance.id);
      return hostId ? (hub.reportOf(hostId, instance.id)?.usage ?? null) : null;
    },
  };
  return driver;
}
export type AgentDriver = ReturnType<typeof createAgentDriver>;

/**
 * The orchestrator's one driver: new instances of an environment go where its `placement` says;
 * every other call goes to the driver that runs the instance.
 */
export function createPlacementDriver(local: RuntimeDriver, agents: AgentDriver): RuntimeDriver {
  const pick = async (id: string): Promise<RuntimeDriver> => ((await agents.owns(id)) ? agents : local);
  return {
    kind: local.kind,
    capabilities: { ...local.capabilities, hosts: local.capabilities.hosts },
    allocateAddress: (request?: PlacementRequest) =>
      request?.placement === 'hosts' ? agents.allocateAddress(request) : local.allocateAddress(request),
    start: (spec) => (spec.address?.hostId ? agents.start(spec) : local.start(spec)),
    stop: async (instance, options) => {
      await (await pick(instance.id)).stop(instance, options);
      agents.forget(instance.id);
    },
    stopAll: async (environment, options) => {
      await Promise.all([local.stopAll(environment, options), agents.stopAll(environment, options)]);
    },
    status: async (instance) => (await pick(instance.id)).status(instance),
    resupervise: async (id) => (await pick(id)).resupervise(id),
    checkHealth: (target, timeoutMs) => local.checkHealth(target, timeoutMs),
    waitHealthy: (targets, timeoutMs, signal) => local.waitHealthy(targets, timeoutMs, signal),
    adopt: async (records) => {
      const owned = await Promise.all(records.map((r) => agents.owns(r.id)));
      const [onHosts, here] = [records.filter((_, i) => owned[i]), records.filter((_, i) => !owned[i])];
      return [...(await local.adopt(here)), ...(await agents.adopt(onHosts))];
    },
    logs: async (instance, lines) => (await pick(instance.id)).logs(instance, lines),
    followLogs: async (instance, onLine, signal) => {
      const d = await pick(instance.id);
      if (!d.followLogs) throw new Error(`the ${d.kind} driver follows no log stream`);
      return d.followLogs(instance, onLine, signal);
    },
    // An instance on a host has no log file here (its agent serves `logs`).
    localLogFile: (instance) => (agents.knownOnHost(instance.id) ? null : local.localLogFile(instance)),
    list: (environment) => [...local.list(environment), ...agents.list(environment)],
    resourceUsage: (instance) =>
      agents.knownOnHost(instance.id) ? agents.resourceUsage(instance) : local.resourceUsage(instance),
  };
}
