// The control plane's end of the agents' connections (docs/hosts.md). Each host's agent keeps one
// websocket here; the hub records its heartbeats (figures, last seen), keeps the instance reports
// it sends, pushes the host's desired state (from the database: its live instances, plus the spec
// of those being started), answers the driver's questions (a free port, logs) and marks hosts lost
// whose heartbeats stopped: their instances become `lost`, leave the routing at once, and are
// replaced elsewhere.
//
// Every control-plane process runs a hub and accepts agents, whatever its role: the hubs relay to
// each other through PostgreSQL (agent-relay.ts), so a worker drives an agent connected to an API
// process — its desired state, requests and log follows go to the process holding the connection,
// and that process's reports of the host reach every hub.
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
  type DriverCapabilities,
  type InstanceSpec,
  parseMessage,
  type ServerToAgent,
} from '@qubot/runtime';
import type { WebSocket } from 'ws';
import { appendHostUpdated } from '../views/host-events.ts';
import { type AgentRelayOptions, createAgentRelay } from './agent-relay.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface AgentHubOptions {
  db: Pick<Database, 'prisma' | 'url'>;
  /** Encrypts what the hubs tell each other (agent-relay.ts): the control plane's secret box. */
  seal?: AgentRelayOptions['seal'];
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** How often agents send heartbeats; default 2 s. */
  heartbeatMs?: number;
  /** A host with no heartbeat for this long is lost; default 10 s. */
  lostAfterMs?: number;
  /**
   * A heartbeat's figures become a `host.updated` event at most this often per host (state changes
   * always do); default 10 s. Heartbeats themselves are not stored (the events table is history).
   */
  eventEveryMs?: number;
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

type AgentRequest =
  | { type: 'allocate' }
  | { type: 'logs'; id: string; lines: number }
  | { type: 'follow'; id: string };
type AgentReply = Extract<AgentToServer, { type: 'reply' }>;

/** What the hubs of the control-plane processes tell each other (agent-relay.ts). */
export type HubMessage =
  /** To the process(es) holding the host's connection: send the agent this desired state. */
  | { k: 'desired'; hostId: string; instances: DesiredInstance[] }
  /** From the holder, to everyone: the host's latest report. */
  | {
      k: 'report';
      hostId: string;
      instances: AgentInstanceReport[];
      capabilities: DriverCapabilities | null;
    }
  /** From the holder: the agent (re)connected — whoever has work for it pushes its desired state. */
  | { k: 'hello'; hostId: string }
  /** From the holder: the connection ended. */
  | { k: 'gone'; hostId: string }
  /** To the holder: ask the agent, reply to `from`. */
  | { k: 'req'; hostId: string; rid: string; from: string; msg: AgentRequest }
  | { k: 'rep'; to: string; rid: string; reply: AgentReply }
  /** Lines of a followed log, to the follower's process; `unfollow` to the holder. */
  | { k: 'lines'; to: string; rid: string; lines: string[] }
  | { k: 'unfollow'; hostId: string; rid: string };

export function createAgentHub(opts: AgentHubOptions) {
  const { prisma } = opts.db;
  const relay = createAgentRelay<HubMessage>({
    db: opts.db,
    log: opts.log,
    ...(opts.seal ? { seal: opts.seal } : {}),
  });
  const hosts: HostRepo = createHostRepo(prisma);
  const transact = createTransact(prisma);
  const heartbeatMs = opts.heartbeatMs ?? 2_000;
  const lostAfterMs = opts.lostAfterMs ?? 10_000;
  const eventEveryMs = opts.eventEveryMs ?? 10_000;
  /** When this process last announced each host (`host.updated`). */
  const announced = new Map<string, number>();
  /** `host.updated` for the host, in its own transaction. */
  const announce = async (hostId: string) => {
    announced.set(hostId, Date.now());
    await transact((tx) => appendHostUpdated(tx, hostId)).catch((err) =>
      opts.log.warn({ err, hostId }, 'could not announce the host'),
    );
  };
  const connections = new Map<string, Connection>();
  /** The last report of each host (kept across a disconnection: the instances likely still run). */
  const reports = new Map<string, Map<string, AgentInstanceReport>>();
  /** Specs of instances being started, by instance id (until the host reports it). */
  const pending = new Map<string, { hostId: string; spec: InstanceSpec }>();
  /** Instances being stopped: left out of the desired state whatever their row says. */
  const stopping = new Set<string>();
  const waiters = new Set<Waiter>();
  const replies = new Map<string, (msg: AgentReply) => void>();
  /** Followed logs by request id: where their lines go (here, or relayed to the asker). */
  const streams = new Map<string, (lines: string[]) => void>();
  /** When another process last relayed a report of the host (its agent is connected there). */
  const remoteSeen = new Map<string, number>();
  /** What each host's supervisor enforces, from its agent's hello. */
  const capabilities = new Map<string, DriverCapabilities>();
  /** A host reported through another process is taken as connected for this long after. */
  const remoteFreshMs = 3 * heartbeatMs + 1_000;
  let generation = 0;
  let requestSeq = 0;
  const publish = (msg: HubMessage) =>
    relay.publish(msg).catch((err) => opts.log.warn({ err, kind: msg.k }, 'agent relay publish failed'));
  const isConnected = (hostId: string) =>
    connections.has(hostId) || Date.now() - (remoteSeen.get(hostId) ?? 0) < remoteFreshMs;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  /** Writes started by closing connections (the disconnected state), awaited by stop(). */
  const writes = new Set<Promise<unknown>>();

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

  /**
   * The host's desired state: its live instances (not being stopped), with specs where starting —
   * sent to its agent here, or relayed to the process that holds its connection.
   */
  async function pushDesired(hostId: string): Promise<void> {
    const rows = await hosts.liveInstancesOn(hostId);
    const instances: DesiredInstance[] = rows
      .filter((r) => r.status !== 'stopping' && !stopping.has(r.id))
      .map((r) => {
        const p = pending.get(r.id);
        return p ? { id: r.id, spec: p.spec } : { id: r.id };
      });
    if (connections.has(hostId)) send(hostId, { type: 'desired', generation: ++generation, instances });
    else await publish({ k: 'desired', hostId, instances });
  }

  function storeReport(hostId: string, list: AgentInstanceReport[]) {
    const map = new Map(list.map((r) => [r.id, r]));
    reports.set(hostId, map);
    for (const [id, p] of pending)
      if (p.hostId === hostId && map.get(id)?.supervisorAlive) pending.delete(id);
    settle();
  }

  /** A report from this process's connection: kept, and told to every other hub. */
  async function reported(hostId: string, list: AgentInstanceReport[]) {
    storeReport(hostId, list);
    await publish({ k: 'report', hostId, instances: list, capabilities: capabilities.get(hostId) ?? null });
  }

  /** Another process's hub said something. */
  async function relayed(msg: HubMessage) {
    switch (msg.k) {
      case 'desired':
        if (connections.has(msg.hostId))
          send(msg.hostId, { type: 'desired', generation: ++generation, instances: msg.instances });
        return;
      case 'report':
        remoteSeen.set(msg.hostId, Date.now());
        if (msg.capabilities) capabilities.set(msg.hostId, msg.capabilities);
        storeReport(msg.hostId, msg.instances);
        return;
      case 'hello':
        remoteSeen.set(msg.hostId, Date.now());
        // Specs of instances this process is starting there, and stops it is making, go again.
        if ([...pending.values()].some((p) => p.hostId === msg.hostId) || stopping.size > 0)
          await pushDesired(msg.hostId);
        return;
      case 'gone':
        remoteSeen.delete(msg.hostId);
        return;
      case 'req': {
        if (!connections.has(msg.hostId)) return;
        const answer = (reply: AgentReply) => publish({ k: 'rep', to: msg.from, rid: msg.rid, reply });
        if (msg.msg.type === 'follow')
          streams.set(msg.rid, (lines) => void publish({ k: 'lines', to: msg.from, rid: msg.rid, lines }));
        await request(msg.hostId, msg.msg, 10_000, msg.rid).then(answer, (err: Error) =>
          answer({ type: 'reply', requestId: msg.rid, ok: false, error: err.message }),
        );
        return;
      }
      case 'rep':
        if (msg.to === relay.self) replies.get(msg.rid)?.(msg.reply);
        return;
      case 'lines':
        if (msg.to === relay.self) streams.get(msg.rid)?.(msg.lines);
        return;
      case 'unfollow':
        if (streams.delete(msg.rid)) send(msg.hostId, { type: 'unfollow', requestId: msg.rid });
        return;
    }
  }
  relay.onMessage((msg) => {
    void relayed(msg).catch((err) => opts.log.warn({ err, kind: msg.k }, 'agent relay message failed'));
  });

  async function heartbeat(c: Connection, figures: AgentFigures, first = false): Promise<boolean> {
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
    // A connection's first heartbeat is a state change (connected); later ones, figures.
    const last = announced.get(c.hostId);
    if (first || last === undefined || Date.now() - last >= eventEveryMs) await announce(c.hostId);
    return true;
  }

  /** A new agent connection (`GET /api/v1/agent/connect`); the credential is its Bearer header. */
  async function accept(socket: WebSocket, authorization: string | undefined): Promise<void> {
    if (stopped) {
      // Shutting down: the agent comes back to whichever process serves it next.
      socket.close(1012, 'the control plane is restarting');
      return;
    }
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
        void publish({ k: 'gone', hostId: host.id });
        // Awaited by stop(): the database must not close under it.
        const write = prisma.host
          .updateMany({ where: { id: host.id }, data: { connected: false } })
          .then(() => announce(host.id))
          .catch(() => {})
          .finally(() => writes.delete(write));
        writes.add(write);
        opts.log.info({ host: host.name }, 'agent disconnected');
      }
    });
    send(host.id, { type: 'welcome', hostId: host.id, name: host.name, heartbeatMs });
    opts.log.info({ host: host.name, address: host.address }, 'agent connected');
  }

  async function handle(c: Connection, msg: AgentToServer) {
    switch (msg.type) {
      case 'hello':
        if (msg.capabilities) capabilities.set(c.hostId, msg.capabilities);
        await reported(c.hostId, msg.instances);
        if (await heartbeat(c, msg, true)) {
          await pushDesired(c.hostId);
          await publish({ k: 'hello', hostId: c.hostId });
        }
        return;
      case 'heartbeat':
        await reported(c.hostId, msg.instances);
        await heartbeat(c, msg);
        return;
      case 'report':
        await reported(c.hostId, msg.instances);
        return;
      case 'reply':
        replies.get(msg.requestId)?.(msg);
        return;
      case 'lines':
        streams.get(msg.requestId)?.(msg.lines);
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

  /** Asks the host's agent (here, or through the process holding its connection) and waits. */
  function request(
    hostId: string,
    msg: AgentRequest,
    timeoutMs = 10_000,
    requestId = `${relay.self}-${++requestSeq}`,
  ): Promise<Extract<AgentToServer, { type: 'reply'; ok: true }>> {
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
      if (send(hostId, { ...msg, requestId } as ServerToAgent)) return;
      if (!connections.has(hostId) && isConnected(hostId)) {
        void publish({ k: 'req', hostId, rid: requestId, from: relay.self, msg });
        return;
      }
      clearTimeout(t);
      replies.delete(requestId);
      reject(new Error('the host agent is not connected'));
    });
  }

  /**
   * Follows an instance's log on its host: `onLines` with each batch of new lines until `signal`
   * aborts; resolves once the agent follows it.
   */
  async function follow(
    hostId: string,
    id: string,
    onLines: (lines: string[]) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const rid = `${relay.self}-${++requestSeq}`;
    streams.set(rid, onLines);
    const end = () => {
      if (!streams.delete(rid)) return;
      if (!send(hostId, { type: 'unfollow', requestId: rid })) void publish({ k: 'unfollow', hostId, rid });
    };
    signal.addEventListener('abort', end, { once: true });
    try {
      await request(hostId, { type: 'follow', id }, 10_000, rid);
    } catch (err) {
      end();
      throw err;
    }
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
        await appendHostUpdated(tx, host.id);
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
    follow,
    isConnected,
    /** Hosts whose agent is connected to this process or (by their reports) to another one. */
    connectedHosts: () => [...new Set([...connections.keys(), ...remoteSeen.keys()])].filter(isConnected),
    /** What the host's supervisor enforces (from its agent's hello); null before it said. */
    capabilitiesOf: (hostId: string) => capabilities.get(hostId) ?? null,
    /** The host's last report of the instance (null: it never reported it). */
    reportOf(hostId: string, id: string): AgentInstanceReport | null {
      return reports.get(hostId)?.get(id) ?? null;
    },
    reportsOf: (hostId: string) => [...(reports.get(hostId)?.values() ?? [])],
    /** Whether the host has reported since it connected (it tells what it runs). */
    hasReported: (hostId: string) => reports.has(hostId) && isConnected(hostId),
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
    /** Joins the other processes' hubs (every process, whatever its role). */
    listen: () => {
      stopped = false;
      return relay.start();
    },
    /** Starts looking for lost hosts (worker role). */
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
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      // Terminated, not closed: a connection to a host that was cut off never answers a close
      // handshake, and the server's shutdown would wait for it.
      await Promise.all(
        [...connections.values()].map(
          (c) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 2_000);
              c.socket.once('close', () => {
                clearTimeout(t);
                resolve();
              });
              c.socket.terminate();
            }),
        ),
      );
      await Promise.allSettled([...writes]);
      connections.clear();
      await relay.stop();
    },
  };
}
export type AgentHub = ReturnType<typeof createAgentHub>;
