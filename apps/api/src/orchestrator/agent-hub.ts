// The control plane's end of the agents' connections (docs/hosts.md). Each host's agent keeps one
// websocket here; the hub records its heartbeats (figures, last seen), keeps the instance reports
// it sends, pushes the host's desired state (from the database: its live instances, plus the spec
// of those being started), answers the driver's questions (a free port, logs) and marks hosts lost
// whose heartbeats stopped: their instances become `lost`, leave the routing at once, and are
// replaced elsewhere.
import { createHash } from 'node:crypto';
import {
  appendAudit,
  createHostRepo,
  createTransact,
  type Database,
  type HostRepo,
  LIVE_INSTANCE_STATUSES,
} from '@qubot/db';
import {
  AgentClose,
  type AgentFigures,
  type AgentInstanceReport,
  type AgentToServer,
  type DesiredInstance,
  type InstanceSpec,
  parseMessage,
  type ServerToAgent,
} from '@qubot/runtime';
import type { WebSocket } from 'ws';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface AgentHubOptions {
  db: Pick<Database, 'prisma'>;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** How often agents send heartbeats; default 2 s. */
  heartbeatMs?: number;
  /** A host with no heartbeat for this long is lost; default 10 s. */
  lostAfterMs?: number;
  /** How often lost hosts are looked for; default 1 s. */
  checkIntervalMs?: number;
  /**
   * A host was lost: its instances in these environments were marked `lost`. The orchestrator
   * takes them out of the routing and has them replaced.
   */
  onLost?: (host: { id: string; name: string }, environmentIds: string[]) => Promise<void>;
}

interface Connection {
  socket: WebSocket;
  hostId: string;
  name: string;
  address: string;
}

type Waiter = { check: () => boolean; resolve: () => void };

export function createAgentHub(opts: AgentHubOptions) {
  const { prisma } = opts.db;
  const hosts: HostRepo = createHostRepo(prisma);
  const transact = createTransact(prisma);
  const heartbeatMs = opts.heartbeatMs ?? 2_000;
  const lostAfterMs = opts.lostAfterMs ?? 10_000;
  const connections = new Map<string, Connection>();
  /** The last report of each host (kept across a disconnection: the instances likely still run). */
  const reports = new Map<string, Map<string, AgentInstanceReport>>();
  /** Specs of instances being started, by instance id (until the host reports it). */
  const pending = new Map<string, { hostId: string; spec: InstanceSpec }>();
  /** Instances being stopped: left out of the desired state whatever their row says. */
  const stopping = new Set<string>();
  const waiters = new Set<Waiter>();
  const replies = new Map<string, (msg: Extract<AgentToServer, { type: 'reply' }>) => void>();
  let generation = 0;
  let requestSeq = 0;
  let timer: NodeJS.Timeout | null = null;

  const settle = () => {
    for (const w of waiters) {
      if (w.check()) {
        waiters.delete(w);
        w.resolve();
      }
    }
  };

  function send(hostId: string, msg: ServerToAgent): boolean {
    const c = connections.get(hostId);
    if (c?.socket.readyState !== 1) return false;
    c.socket.send(JSON.stringify(msg));
    return true;
  }

  /** The host's desired state: its live instances (not being stopped), with specs where starting. */
  async function pushDesired(hostId: string): Promise<void> {
    if (!connections.has(hostId)) return;
    const rows = await hosts.liveInstancesOn(hostId);
    const instances: DesiredInstance[] = rows
      .filter((r) => r.status !== 'stopping' && !stopping.has(r.id))
      .map((r) => {
        const p = pending.get(r.id);
        return p ? { id: r.id, spec: p.spec } : { id: r.id };
      });
    send(hostId, { type: 'desired', generation: ++generation, instances });
  }

  function storeReport(hostId: string, list: AgentInstanceReport[]) {
    const map = new Map(list.map((r) => [r.id, r]));
    reports.set(hostId, map);
    for (const [id, p] of pending)
      if (p.hostId === hostId && map.get(id)?.supervisorAlive) pending.delete(id);
    settle();
  }

  async function heartbeat(c: Connection, figures: AgentFigures): Promise<boolean> {
    // Refused once revoked: one conditional UPDATE, so a revoke between two beats takes effect.
    const res = await prisma.host.updateMany({
      where: { id: c.hostId, revokedAt: null },
      data: {
        lastSeenAt: new Date(),
        connected: true,
        lostAt: null,
        agentVersion: figures.agentVersion.slice(0, 50),
        cpuPercent: figures.cpuPercent,
        memoryUsedBytes:
          figures.memoryUsedBytes === null ? null : BigInt(Math.round(figures.memoryUsedBytes)),
        memoryTotalBytes:
          figures.memoryTotalBytes === null ? null : BigInt(Math.round(figures.memoryTotalBytes)),
      },
    });
    if (res.count === 0) {
      c.socket.close(AgentClose.Revoked, 'host credential revoked');
      return false;
    }
    return true;
  }

  /** A new agent connection (`GET /api/v1/agent/connect`); the credential is its Bearer header. */
  async function accept(socket: WebSocket, authorization: string | undefined): Promise<void> {
    const bearer = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    const host = bearer ? await hosts.findByCredentialHash(sha256(bearer)) : null;
    if (!host || host.revokedAt) {
      socket.close(AgentClose.Revoked, 'unknown or revoked host credential');
      return;
    }
    const previous = connections.get(host.id);
    if (previous && previous.socket !== socket)
      previous.socket.close(AgentClose.Replaced, 'replaced by a new connection');
    const c: Connection = { socket, hostId: host.id, name: host.name, address: host.address };
    connections.set(host.id, c);
    socket.on('message', (data) => {
      const msg = parseMessage<AgentToServer>(data);
      if (!msg) return;
      void handle(c, msg).catch((err) => opts.log.warn({ err, host: c.name }, 'agent message failed'));
    });
    socket.on('close', () => {
      if (connections.get(host.id) === c) {
        connections.delete(host.id);
        void prisma.host.updateMany({ where: { id: host.id }, data: { connected: false } }).catch(() => {});
        opts.log.info({ host: host.name }, 'agent disconnected');
      }
    });
    send(host.id, { type: 'welcome', hostId: host.id, name: host.name, heartbeatMs });
    opts.log.info({ host: host.name, address: host.address }, 'agent connected');
  }

  async function handle(c: Connection, msg: AgentToServer) {
    switch (msg.type) {
      case 'hello':
        storeReport(c.hostId, msg.instances);
        if (await heartbeat(c, msg)) await pushDesired(c.hostId);
        return;
      case 'heartbeat':
        storeReport(c.hostId, msg.instances);
        await heartbeat(c, msg);
        return;
      case 'report':
        storeReport(c.hostId, msg.instances);
        return;
      case 'reply':
        replies.get(msg.requestId)?.(msg);
        return;
    }
  }

  /** Resolves when `check` holds (re-checked at each report), false after `timeoutMs`. */
  function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: Waiter = { check, resolve: () => resolve(true) };
      waiters.add(w);
      setTimeout(() => {
        if (waiters.delete(w)) resolve(false);
      }, timeoutMs).unref();
    });
  }

  /** Asks the host's agent and waits for its answer. */
  function request(
    hostId: string,
    msg: { type: 'allocate' } | { type: 'logs'; id: string; lines: number },
    timeoutMs = 10_000,
  ): Promise<Extract<AgentToServer, { type: 'reply'; ok: true }>> {
    const requestId = `r${++requestSeq}`;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        replies.delete(requestId);
        reject(new Error(`host agent did not answer within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      replies.set(requestId, (reply) => {
        clearTimeout(t);
        replies.delete(requestId);
        if (reply.ok) resolve(reply);
        else reject(new Error(reply.error));
      });
      if (!send(hostId, { ...msg, requestId } as ServerToAgent)) {
        clearTimeout(t);
        replies.delete(requestId);
        reject(new Error('the host agent is not connected'));
      }
    });
  }

  /** Hosts whose heartbeats stopped: lost, with their instances. Safe in several processes at once. */
  async function checkLost(now = new Date()) {
    const lost = await hosts.markLost(new Date(now.getTime() - lostAfterMs), now);
    for (const host of lost) {
      // Its connection, if this process still holds one, is dead (no heartbeat): drop it.
      connections.get(host.id)?.socket.terminate();
      const affected = await transact(async (tx) => {
        const rows = await tx.instance.findMany({
          where: { hostId: host.id, status: { in: LIVE_INSTANCE_STATUSES } },
          select: { id: true, environmentId: true },
        });
        await tx.instance.updateMany({
          where: { id: { in: rows.map((r) => r.id) } },
          data: { status: 'lost', healthy: false, stoppedAt: now },
        });
        await appendAudit(tx, {
          actor: 'system',
          role: 'admin',
          requestId: `host-lost-${host.id}`,
          clientIp: null,
          userAgent: null,
          action: 'host.lost',
          targetType: 'host',
          targetId: host.id,
          target: host.name,
          reason: `no heartbeat for ${Math.round(lostAfterMs / 1000)} s`,
          after: { instances: rows.map((r) => r.id) },
        });
        return rows;
      });
      opts.log.warn(
        { host: host.name, instances: affected.map((r) => r.id) },
        'host lost; its instances are replaced',
      );
      const envs = [...new Set(affected.map((r) => r.environmentId))];
      await opts
        .onLost?.(host, envs)
        .catch((err) => opts.log.warn({ err, host: host.name }, 'could not act on a lost host'));
    }
    return lost;
  }

  return {
    accept,
    pushDesired,
    waitFor,
    request,
    checkLost,
    isConnected: (hostId: string) => connections.has(hostId),
    connectedHosts: () => [...connections.keys()],
    /** The host's last report of the instance (null: it never reported it). */
    reportOf(hostId: string, id: string): AgentInstanceReport | null {
      return reports.get(hostId)?.get(id) ?? null;
    },
    reportsOf: (hostId: string) => [...(reports.get(hostId)?.values() ?? [])],
    /** Whether the host has reported since it connected (it tells what it runs). */
    hasReported: (hostId: string) => reports.has(hostId) && connections.has(hostId),
    expectStart(id: string, hostId: string, spec: InstanceSpec) {
      pending.set(id, { hostId, spec });
      stopping.delete(id);
    },
    expectStop(id: string) {
      pending.delete(id);
      stopping.add(id);
    },
    forgetStop: (id: string) => stopping.delete(id),
    /** Closes the connection of a revoked host (credentials-changed notice). */
    revoked(hostId: string) {
      connections.get(hostId)?.socket.close(AgentClose.Revoked, 'host credential revoked');
    },
    start() {
      if (timer) return;
      // A control plane that was down longer than the lost timeout finds every heartbeat old: its
      // agents get one lost timeout to reconnect before any host is judged (docs/hosts.md).
      const judgeFrom = Date.now() + lostAfterMs;
      timer = setInterval(() => {
        if (Date.now() < judgeFrom) return;
        void checkLost().catch((err) => opts.log.warn({ err }, 'lost-host check failed'));
      }, opts.checkIntervalMs ?? 1_000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      // Terminated, not closed: a connection to a host that was cut off never answers a close
      // handshake, and the server's shutdown would wait for it.
      for (const c of connections.values()) c.socket.terminate();
      connections.clear();
    },
  };
}
export type AgentHub = ReturnType<typeof createAgentHub>;
