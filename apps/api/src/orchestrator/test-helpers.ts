// Integration-test harness: the API with a real worker (pg-boss, local driver, routers) on a
// fresh database and a temporary data directory. close() stops every process it started.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLineOf, freePort, signal, tsxLoader } from '@qubot/runtime';
import { EmulatedApiServer, kubeconfigFor, qubotOneRunner } from '@qubot/runtime/test-apiserver';
import pino from 'pino';
import { expect } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import type { AppOptions } from '../app.ts';
import { REPO_ROOT } from '../demo.ts';
import type { RoleName } from '../lib/request-context.ts';
import type { WebhookPluginOptions } from '../plugins/webhooks.ts';
import { createOrchestrator, type OrchestratorOptions } from './orchestrator.ts';

export const APP = 'qubot-one';
/** A deployment's final statuses (`until` waits for one of them). */
export const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

export async function startHarness(
  opts: {
    role?: RoleName;
    worker?: boolean;
    healthMonitorIntervalMs?: number;
    reconcileIntervalMs?: number;
    routingTimeoutMs?: number;
    /** The autoscaler (off unless given: no test sees it act unless it asks). */
    autoscaleIntervalMs?: number;
    autoscaleQuietMs?: number;
    /** Promotion policies (plugins/policies.ts); none run unless asked. */
    policies?: AppOptions['policies'];
    /** Webhook delivery options (the webhook worker runs where the orchestrator's does). */
    webhooks?: Partial<WebhookPluginOptions>;
    /** Host agents' timings (docs/hosts.md). */
    agents?: OrchestratorOptions['agents'];
  } = {},
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'qubot-orch-'));
  const t = await buildTestApp({
    app: {
      orchestrator: {
        worker: opts.worker ?? true,
        dataDir,
        workspaceDir: REPO_ROOT,
        sweepIntervalMs: 1_000,
        healthIntervalMs: 150,
        stopTimeoutMs: 3_000,
        healthMonitorIntervalMs: opts.healthMonitorIntervalMs ?? 300,
        reconcileIntervalMs: opts.reconcileIntervalMs ?? 500,
        ...(opts.routingTimeoutMs ? { routingTimeoutMs: opts.routingTimeoutMs } : {}),
        autoscaleIntervalMs: opts.autoscaleIntervalMs ?? 0,
        ...(opts.agents ? { agents: opts.agents } : {}),
        ...(opts.autoscaleQuietMs ? { autoscaleQuietMs: opts.autoscaleQuietMs } : {}),
      },
      ...(opts.policies ? { policies: opts.policies } : {}),
      ...(opts.webhooks ? { webhooks: opts.webhooks } : {}),
    },
  });
  const auth = await t.as(opts.role ?? 'release-manager');
  const post = async (url: string, payload: object = {}, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: `/api/v1${url}`, payload, headers: { ...auth, ...headers } });
  const get = async (url: string) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const deployment = (id: string) => get(`/deployments/${id}`);
  const environment = (env: string) => get(`/apps/${APP}/environments/${env}`);

  /** Polls until the deployment reaches one of `statuses` (fails fast on another final status). */
  async function until(id: string, statuses: string[], timeout = 60_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const d = await deployment(id);
      if (statuses.includes(d.status))
        return d as Record<string, unknown> & { status: string; waitingFor: string | null };
      if (Date.now() > deadline)
        throw new Error(
          `deployment ${id} is ${d.status}, not ${statuses.join('|')}: ${JSON.stringify(d.steps)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A reason is given unless the body says otherwise (protected environments require one). */
  async function deploy(env: string, body: object, expected = 202) {
    const res = await post(`/apps/${APP}/environments/${env}/deployments`, { reason: 'test', ...body });
    expect(res.statusCode, res.body).toBe(expected);
    return res.json();
  }

  return {
    ...t,
    dataDir,
    auth,
    post,
    get,
    deployment,
    environment,
    until,
    deploy,
    async close() {
      await t.app.orchestrator.stop();
      await t.app.orchestrator.runtime.stopEverything();
      await t.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
export type Harness = Awaited<ReturnType<typeof startHarness>>;

/**
 * A worker beside an API-only harness (`startHarness({ worker: false })`), in this process, on the
 * harness's database and runtime directory; started. Stop it with `stop()`.
 */
export async function startWorker(h: Harness, opts: Partial<OrchestratorOptions> = {}) {
  const worker = createOrchestrator({
    db: h.db,
    dataDir: h.dataDir,
    worker: true,
    workspaceDir: REPO_ROOT,
    log: h.app.log,
    healthIntervalMs: 150,
    stopTimeoutMs: 3_000,
    ...opts,
  });
  await worker.start();
  return worker;
}

/**
 * A logger for an orchestrator that keeps what it writes (info and up): `lines` to print when a
 * test fails, `next(msg)` resolves with the first entry with that message, logged or to come.
 */
export function recordingLog() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const waiting: { msg: string; resolve: (line: (typeof lines)[number]) => void }[] = [];
  const log = pino(
    { level: 'info' },
    {
      write(chunk: string) {
        const line = JSON.parse(chunk) as (typeof lines)[number];
        lines.push(line);
        for (const w of waiting.filter((x) => x.msg === line.msg)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(line);
        }
      },
    },
  );
  return {
    log,
    lines,
    next: (msg: string) =>
      new Promise<(typeof lines)[number]>((resolve) => {
        const seen = lines.find((l) => l.msg === msg);
        if (seen) resolve(seen);
        else waiting.push({ msg, resolve });
      }),
    /** The entries at warn and up, and those of the given messages, one line each. */
    dump: (...msgs: string[]) =>
      lines
        .filter((l) => l.level >= 40 || msgs.includes(l.msg))
        .map((l) => JSON.stringify({ ...l, err: (l.err as { message?: string } | undefined)?.message }))
        .join('\n'),
  };
}

/** Short timings so a test runs in seconds, not minutes. */
export const FAST = {
  healthTimeoutSeconds: 20,
};

/** An API token for `role`, created by an admin through the API; its secret. */
export async function createToken(h: Pick<Harness, 'app' | 'as'>, role: RoleName, name = `test ${role}`) {
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: await h.as('admin'),
    payload: { name, role },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().secret as string;
}

/** `env` at one replica with `version` live (blue-green, no rollback window left open). */
export async function liveWithOneReplica(h: Harness, env: string, version = '1.0.0') {
  const one = await h.app.inject({
    method: 'PATCH',
    url: `/api/v1/apps/${APP}/environments/${env}/settings`,
    headers: await h.as('admin'),
    payload: { replicas: 1, reason: 'test' },
  });
  expect(one.statusCode, one.body).toBe(200);
  const d = await h.deploy(env, {
    version,
    strategy: 'blue-green',
    options: { ...FAST, rollbackWindowSeconds: 0 },
  });
  expect((await h.until(d.id, ['succeeded', 'failed', 'rolled_back', 'aborted'])).status).toBe('succeeded');
  await settled(h, env);
}

/** Sets an environment's traffic provider through the settings API, as an admin; the response. */
export async function setTrafficProvider(
  h: Pick<Harness, 'app' | 'as'>,
  env: string,
  provider: 'node' | 'haproxy',
  expected: number | null = 200,
) {
  const res = await h.app.inject({
    method: 'PATCH',
    url: `/api/v1/apps/${APP}/environments/${env}/settings`,
    payload: { trafficProvider: provider, reason: `serve ${env} with ${provider}` },
    headers: await h.as('admin'),
  });
  if (expected !== null) expect(res.statusCode, res.body).toBe(expected);
  return res;
}

/** Router processes of a harness's data directory still running, by kind (`ps` and /proc). */
export function routerProcessesOf(dataDir: string) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  const pids = (match: (args: string, pid: number) => boolean) =>
    out.split('\n').flatMap((l) => {
      const m = /^\s*(\d+)\s+(.*)$/.exec(l);
      return m && match(m[2] as string, Number(m[1])) ? [Number(m[1])] : [];
    });
  // A Node router runs in its environment's router directory (under the data directory).
  const cwd = (pid: number) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      return '';
    }
  };
  return {
    node: pids((args, pid) => args.includes('router-main') && cwd(pid).startsWith(dataDir)),
    haproxy: pids((args) => /haproxy -f/.test(args) && args.includes(dataDir)),
  };
}

/** The process listening on an address's port (`ss`): its command name and pid, or null. */
export async function listenerOf(address: string): Promise<{ command: string; pid: number } | null> {
  const port = new URL(address).port;
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(out);
  return m ? { command: m[1] as string, pid: Number(m[2]) } : null;
}

/** A separate control-plane process in the worker role, on the harness's database and data directory. */
export function spawnWorkerProcess(h: Pick<Harness, 'db' | 'dataDir'>): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'apps/api/src/main.ts'), '--role', 'worker', '--port', '0'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: h.db.url, QUBOT_DATA_DIR: h.dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

/** Until no deployment of `env` has work left (e.g. its rollback window closed); bounded. */
export async function settled(h: Pick<Harness, 'db'>, env: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await h.db.prisma.deployment.count({
      where: {
        environment: { name: env },
        OR: [
          { status: { in: ['pending', 'running', 'paused'] } },
          { status: 'succeeded', state: { path: ['phase'], equals: 'cleanup' } },
        ],
      },
    });
    if (open === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`deployments of ${env} still have work left`);
}

/**
 * An emulated Kubernetes API server whose pods are Qubot-One processes, a kubeconfig file for it,
 * and `environment` of the harness pointed at its namespace `namespace` (pod template registered,
 * runtime target set, both through the API as an admin). `close()` stops the server.
 */
export async function pointAtEmulatedCluster(
  h: Pick<Harness, 'app' | 'as'>,
  environment: string,
  namespace: string,
  /** A Gateway for canary HTTPRoutes (the emulated server then serves the Gateway API). */
  opts: { gateway?: string } = {},
) {
  const token = randomBytes(16).toString('hex');
  const api = new EmulatedApiServer({
    runContainer: qubotOneRunner(REPO_ROOT, tsxLoader()),
    token,
    probePeriodMs: 100,
    ...(opts.gateway ? { gatewayApi: true } : {}),
  });
  await api.start();
  const dir = mkdtempSync(join(tmpdir(), 'qubot-kube-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, kubeconfigFor(api.url, token));
  const admin = await h.as('admin');
  const tpl = await h.app.inject({
    method: 'PUT',
    url: `/api/v1/apps/${APP}/pod-template`,
    headers: admin,
    payload: {
      podTemplate: {
        containerPort: await freePort(),
        healthPath: '/healthz',
        terminationGracePeriodSeconds: 5,
      },
    },
  });
  expect(tpl.statusCode, tpl.body).toBe(200);
  const target = await h.app.inject({
    method: 'PUT',
    url: `/api/v1/apps/${APP}/environments/${environment}/runtime`,
    headers: admin,
    payload: {
      target: 'kubernetes',
      namespace,
      credentials: { source: 'kubeconfig', path: kubeconfig },
      ...(opts.gateway ? { gateway: opts.gateway } : {}),
    },
  });
  expect(target.statusCode, target.body).toBe(200);
  return {
    api,
    async close() {
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The environment's scaling decisions, oldest first. */
export const scalingDecisions = (h: Pick<Harness, 'db'>, env: string) =>
  h.db.prisma.scalingDecision.findMany({ where: { environment: { name: env } }, orderBy: { id: 'asc' } });

/** Waits for the environment's first recorded autoscaler decision with this action, and returns it. */
export async function awaitScalingDecision(
  h: Pick<Harness, 'db'>,
  env: string,
  action: 'scale_up' | 'scale_down',
  timeoutMs: number,
) {
  await expect
    .poll(async () => (await scalingDecisions(h, env)).find((d) => d.action === action), {
      timeout: timeoutMs,
      interval: 200,
    })
    .toBeTruthy();
  const found = (await scalingDecisions(h, env)).find((d) => d.action === action);
  if (!found) throw new Error(`no ${action} decision`);
  return found;
}

/**
 * A real `qubot agent` on 127.0.0.1 enrolled as host `name` with the harness's server (listening at
 * `server`); resolves once the host is ready. `stop()` kills the agent, then the instances it ran
 * (they outlive their agent by design) and removes its data directory.
 */
export async function startLocalAgent(h: Pick<Harness, 'app' | 'as' | 'db'>, server: string, name: string) {
  const dir = mkdtempSync(join(tmpdir(), 'qubot-agent-'));
  const log: string[] = [];
  const admin = await h.as('admin');
  const token = await h.app.inject({
    method: 'POST',
    url: '/api/v1/hosts/enrolment-tokens',
    payload: { name },
    headers: admin,
  });
  expect(token.statusCode, token.body).toBe(201);
  const cli = join(REPO_ROOT, 'apps/cli/bin/qubot.mjs');
  const args = ['agent', '--server', server, '--enrol', token.json().secret, '--address', '127.0.0.1'];
  const agent = spawn(process.execPath, [cli, ...args, '--name', name, '--data-dir', dir], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  agent.stderr?.on('data', (d: Buffer) => log.push(d.toString().trim()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: admin });
    const host = (res.json().items as { name: string; state: string }[]).find((x) => x.name === name);
    if (host?.state === 'ready') break;
    if (Date.now() > deadline) throw new Error(`host ${name} not ready (${host?.state}):\n${log.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    agent,
    log,
    /** The agent's data directory (its instances under `runtime/instances/<id>`). */
    dir,
    async stop() {
      agent.kill('SIGKILL');
      await killAgentProcesses(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * SIGKILLs what an agent with data directory `dir` started, found in /proc rather than from pids
 * recorded earlier: its supervisors (their command line names a spec under `dir`), then their
 * instances (`QUBOT_INSTANCE_ID` one of the instance directories under `dir`). The pids in the
 * database were not enough: killing the recorded supervisor and instance pids left instances
 * running as orphans (ppid 1) after every run of host-drained.test.ts and agent-hub-cluster.test.ts.
 * Resolves once none is left (bounded).
 */
async function killAgentProcesses(dir: string) {
  let ids: Set<string>;
  try {
    ids = new Set(readdirSync(join(dir, 'runtime', 'instances')));
  } catch {
    return; // nothing started
  }
  const environOf = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    } catch {
      return []; // gone, or not ours to read
    }
  };
  const ours = () => {
    const supervisors: number[] = [];
    const instances: number[] = [];
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      if (` ${commandLineOf(Number(pid)) ?? ''}`.includes(` ${dir}/`)) supervisors.push(Number(pid));
      else if (
        environOf(pid).some(
          (v) => v.startsWith('QUBOT_INSTANCE_ID=') && ids.has(v.slice('QUBOT_INSTANCE_ID='.length)),
        )
      )
        instances.push(Number(pid));
    }
    return { supervisors, instances };
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { supervisors, instances } = ours();
    if (supervisors.length + instances.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`processes of the agent in ${dir} survive SIGKILL: ${[...supervisors, ...instances]}`);
    // Supervisors first, so none restarts an instance killed after it.
    for (const pid of [...supervisors, ...instances]) signal(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const MiB = 1024 * 1024;

/** An instance as its environment's view lists it: what `awaitOomKilled` reads. */
interface OomView {
  id: string;
  status: string;
  oom: { kills: number; limitBytes: number | null; peakBytes: number | null } | null;
}

/**
 * Has instance `inst` of `app`/`env` — the `hog` fixture (packages/runtime/src/test-fixtures) under
 * a memory limit of `limitMb` — allocate far past it, and again at every restart (it stays down, OOM
 * after OOM); waits until the environment's view shows it `oom_killed`, then checks the figures
 * there (kills, limit, peak) and in the first `instance.oom_killed` event. Returns that event's
 * payload. The fixture's sticky file is removed afterwards, also when a check fails.
 */
export async function awaitOomKilled(
  h: Pick<Harness, 'get' | 'db'>,
  app: string,
  env: string,
  inst: { id: string; host: string; port: number },
  limitMb: number,
) {
  const find = async () =>
    ((await h.get(`/apps/${app}/environments/${env}`)).instances as OomView[]).find((x) => x.id === inst.id);
  try {
    const asked = await fetch(`http://${inst.host}:${inst.port}/alloc?mb=300&sticky=1`).then(
      (r) => r.status,
      () => 'killed',
    );
    expect(asked).toBe('killed');
    await expect
      .poll(async () => (await find())?.status, { timeout: 30_000, interval: 100 })
      .toBe('oom_killed');
    const seen = await find();
    expect(seen?.oom?.kills).toBeGreaterThanOrEqual(1);
    expect(seen?.oom?.limitBytes).toBe(limitMb * MiB);
    expect(seen?.oom?.peakBytes).toBeGreaterThan((limitMb - 4) * MiB);
    // The event log has it, with the figures.
    const [event] = await h.db.prisma.event.findMany({
      where: { type: 'instance.oom_killed' },
      orderBy: { seq: 'asc' },
      take: 1,
    });
    expect(event?.payload).toMatchObject({
      application: app,
      environment: env,
      instanceId: inst.id,
      limitBytes: limitMb * MiB,
    });
    return event?.payload;
  } finally {
    rmSync(join(tmpdir(), `qubot-hog-${inst.id}.sticky`), { force: true });
  }
}
