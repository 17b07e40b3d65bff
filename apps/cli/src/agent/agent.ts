// `qubot agent` (docs/hosts.md): runs on a host, enrols once with a one-time token, then keeps ONE
// outbound websocket to the control plane — no port of its own is opened. It runs instances with
// the same supervisor as the control plane's local driver (detached processes that outlive the
// agent), and converges to the desired state it is sent: start what is missing, keep what runs,
// stop what is no longer wanted. Restarted, it finds its instances on disk and re-adopts them.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { backoffDelay } from '@qubot/core';
import {
  AgentClose,
  type AgentFigures,
  type AgentInstanceReport,
  type AgentToServer,
  type DesiredInstance,
  followLog,
  freePort,
  LocalDriver,
  type LogFollower,
  parseMessage,
  type ServerToAgent,
} from '@qubot/runtime';
import WebSocket from 'ws';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  /** The control plane's base URL, e.g. `http://10.77.0.1:8080`. */
  server: string;
  dataDir: string;
  /** This host's address: instances listen on it, the control plane and routers reach them there. */
  address: string;
  /** Host name at enrolment; default the machine's host name. */
  name: string;
  /** One-time enrolment token; needed only the first time (the credential is kept in dataDir). */
  enrolToken?: string | undefined;
  capacity?: number | undefined;
  /** Base for relative launcher working directories; default the current directory. */
  workspaceDir?: string | undefined;
  log: (msg: string, extra?: object) => void;
}

interface Enrolment {
  server: string;
  hostId: string;
  name: string;
  credential: string;
}

export class AgentError extends Error {
  override name = 'AgentError';
}

/** Reads the kept credential, or enrols with the token and keeps it (owner-only file). */
export async function ensureEnrolled(opts: AgentOptions): Promise<Enrolment> {
  const file = join(opts.dataDir, 'agent.json');
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Enrolment;
    if (kept.credential && kept.hostId) return kept;
  } catch {
    // not enrolled yet
  }
  if (!opts.enrolToken)
    throw new AgentError(`not enrolled yet (no ${file}): pass --enrol with a token an admin created`);
  const res = await fetch(new URL('/api/v1/agent/enrol', opts.server), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token: opts.enrolToken,
      name: opts.name,
      address: opts.address,
      agentVersion: AGENT_VERSION,
      ...(opts.capacity ? { capacity: opts.capacity } : {}),
    }),
  });
  const body = (await res.json().catch(() => null)) as
    | { hostId: string; name: string; credential: string; error?: undefined }
    | { error: { message: string } }
    | null;
  if (!res.ok || !body || body.error)
    throw new AgentError(`enrolment refused (${res.status}): ${body?.error?.message ?? 'no answer'}`);
  const kept: Enrolment = {
    server: opts.server,
    hostId: body.hostId,
    name: body.name,
    credential: body.credential,
  };
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(kept, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return kept;
}

/** CPU use between two calls, percent of all cores. */
function cpuMeter() {
  const sample = () =>
    cpus().reduce(
      (acc, c) => {
        const t = c.times;
        acc.idle += t.idle;
        acc.total += t.user + t.nice + t.sys + t.idle + t.irq;
        return acc;
      },
      { idle: 0, total: 0 },
    );
  let last = sample();
  return () => {
    const now = sample();
    const total = now.total - last.total;
    const idle = now.idle - last.idle;
    last = now;
    return total > 0 ? Math.max(0, Math.min(100, (100 * (total - idle)) / total)) : null;
  };
}

export interface RunningAgent {
  enrolment: Enrolment;
  driver: LocalDriver;
  /** Resolves once connected (the first welcome). */
  connected(): Promise<void>;
  /** Closes the connection; instances keep running (they outlive the agent). */
  stop(): Promise<void>;
  /** Resolves when the agent gives up for good (credential revoked). */
  done: Promise<void>;
}

export async function runAgent(opts: AgentOptions): Promise<RunningAgent> {
  const enrolment = await ensureEnrolled(opts);
  const driver = new LocalDriver({
    dataDir: join(opts.dataDir, 'runtime'),
    host: opts.address,
    ...(opts.workspaceDir ? { workspaceDir: opts.workspaceDir } : {}),
  });
  const cpu = cpuMeter();
  const figures = (): AgentFigures => ({
    agentVersion: AGENT_VERSION,
    cpuPercent: cpu(),
    memoryUsedBytes: totalmem() - freemem(),
    memoryTotalBytes: totalmem(),
  });

  async function reports(): Promise<AgentInstanceReport[]> {
    return Promise.all(
      driver.scan().map(async ({ record }) => {
        const st = await driver.status({ id: record.id });
        return {
          ...st,
          supervisorPid: st.supervisorAlive ? st.supervisorPid : null,
          environment: record.environment,
          host: record.host,
          port: record.port,
          logPath: record.logPath,
          config: record.config ?? null,
          usage: driver.resourceUsage({ id: record.id }),
        };
      }),
    );
  }

  /** Makes this machine match `desired`; never starts what runs, never repeats a stop. */
  async function converge(desired: DesiredInstance[]) {
    const wanted = new Map(desired.map((d) => [d.id, d]));
    const present = driver.scan();
    const presentIds = new Set(present.map((s) => s.record.id));
    for (const { record } of present) {
      if (wanted.has(record.id)) continue;
      const st = await driver.status({ id: record.id });
      if (st.supervisorAlive || st.alive) {
        opts.log('stopping an instance no longer wanted here', { instance: record.id });
        await driver.stop({ id: record.id });
      }
      driver.forget(record.id);
    }
    for (const d of desired) {
      if (presentIds.has(d.id)) {
        const st = await driver.status({ id: d.id });
        if (!st.supervisorAlive && st.state !== 'stopped' && st.state !== 'failed') {
          const back = await driver.resupervise(d.id);
          opts.log('instance supervisor was gone; put back', {
            instance: d.id,
            adopted: back?.adopted ?? null,
          });
        }
        continue;
      }
      if (!d.spec) continue;
      opts.log('starting instance', { instance: d.id, version: d.spec.version, port: d.spec.address?.port });
      try {
        await driver.start({
          ...d.spec,
          address: { host: opts.address, port: d.spec.address?.port ?? (await freePort(opts.address)) },
          // The instance listens on this host's address (the launcher's HOST), where it is routed to.
          env: { ...d.spec.env, HOST: opts.address },
        });
      } catch (err) {
        opts.log('could not start instance', { instance: d.id, error: (err as Error).message });
      }
    }
  }

  let socket: WebSocket | null = null;
  /** Instance logs followed for the control plane, by request id; all end with the connection. */
  const followers = new Map<string, LogFollower>();
  const unfollowAll = () => {
    for (const f of followers.values()) f.stop();
    followers.clear();
  };
  let stopped = false;
  let attempt = 0;
  let heartbeat: NodeJS.Timeout | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let finish: () => void = () => {};
  const done = new Promise<void>((r) => {
    finish = r;
  });
  let onConnected: () => void = () => {};
  let connectedOnce = new Promise<void>((r) => {
    onConnected = r;
  });

  // Convergence runs one at a time; the newest desired state wins.
  let latest: { generation: number; instances: DesiredInstance[] } | null = null;
  let converging = false;
  async function convergeLoop() {
    if (converging) return;
    converging = true;
    try {
      while (latest) {
        const job = latest;
        latest = null;
        await converge(job.instances);
        send({ type: 'report', generation: job.generation, instances: await reports() });
      }
    } finally {
      converging = false;
    }
  }

  function send(msg: AgentToServer) {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
  }

  async function onMessage(raw: unknown) {
    const msg = parseMessage<ServerToAgent>(raw);
    if (!msg) return;
    switch (msg.type) {
      case 'welcome': {
        attempt = 0;
        // Said once the control plane listens (its welcome): a hello sent on open could arrive
        // before the server has taken the connection (it checks the credential first) and be lost.
        void reports()
          .then((instances) =>
            send({
              type: 'hello',
              address: opts.address,
              instances,
              capabilities: driver.capabilities,
              ...figures(),
            }),
          )
          .catch(() => {});
        if (heartbeat) clearInterval(heartbeat);
        heartbeat = setInterval(() => {
          void reports()
            .then((instances) => send({ type: 'heartbeat', instances, ...figures() }))
            .catch(() => {});
        }, msg.heartbeatMs);
        onConnected();
        opts.log('connected to the control plane', { host: msg.name, hostId: msg.hostId });
        return;
      }
      case 'desired':
        latest = { generation: msg.generation, instances: msg.instances };
        await convergeLoop();
        return;
      case 'allocate':
        try {
          send({ type: 'reply', requestId: msg.requestId, ok: true, port: await freePort(opts.address) });
        } catch (err) {
          send({ type: 'reply', requestId: msg.requestId, ok: false, error: (err as Error).message });
        }
        return;
      case 'logs':
        try {
          send({
            type: 'reply',
            requestId: msg.requestId,
            ok: true,
            lines: await driver.logs({ id: msg.id }, msg.lines),
          });
        } catch (err) {
          send({ type: 'reply', requestId: msg.requestId, ok: false, error: (err as Error).message });
        }
        return;
      case 'follow': {
        const requestId = msg.requestId;
        const follower = followLog(driver.localLogFile({ id: msg.id }), (lines) =>
          send({ type: 'lines', requestId, lines }),
        );
        followers.set(requestId, follower);
        await follower.ready;
        send({ type: 'reply', requestId, ok: true });
        return;
      }
      case 'unfollow':
        followers.get(msg.requestId)?.stop();
        followers.delete(msg.requestId);
        return;
    }
  }

  function connect() {
    if (stopped) return;
    const url = new URL('/api/v1/agent/connect', opts.server);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${enrolment.credential}` } });
    socket = ws;
    ws.on('message', (data) => {
      onMessage(data).catch((err) => opts.log('message handling failed', { error: (err as Error).message }));
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      unfollowAll();
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      if (socket === ws) socket = null;
      if (stopped) return;
      if (code === AgentClose.Revoked) {
        opts.log('the control plane refused this host credential (revoked); enrol again with a new token');
        stopped = true;
        finish();
        return;
      }
      connectedOnce = new Promise<void>((r) => {
        onConnected = r;
      });
      const delay = backoffDelay(attempt++, { baseMs: 200, maxMs: 5_000 });
      opts.log('connection to the control plane lost; reconnecting', { code, inMs: delay });
      reconnectTimer = setTimeout(connect, delay);
    });
  }
  connect();

  return {
    enrolment,
    driver,
    connected: () => connectedOnce,
    done,
    async stop() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (heartbeat) clearInterval(heartbeat);
      unfollowAll();
      socket?.close(1000, 'agent stopping');
      finish();
    },
  };
}
