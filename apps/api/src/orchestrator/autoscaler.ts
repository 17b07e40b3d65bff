// The autoscaler (docs/scaling.md "Autoscaling"): every few seconds one process of the cluster —
// whoever holds its advisory lock (lib/cluster-task.ts) — evaluates each enabled policy from
// figures measured now: the traffic provider's request counter of the live pool (rate between two
// readings), or the CPU time of each live instance from /proc. Never from history. The decision
// (packages/core decideScale) is recorded; a scale is started as a `scale` deployment through the
// scaling service, in the transaction that records the decision. A "no change" is recorded when
// its kind changes, and otherwise at most once per `quietMs`.
import { readFileSync } from 'node:fs';
import { type AutoscaleDecision, decideScale } from '@qubot/core';
import {
  appendEvent,
  createDeploymentWriteRepo,
  createInstanceRepo,
  createScalingRepo,
  createTransact,
  type Database,
  type Prisma,
  type Tx,
} from '@qubot/db';
import type { AppError } from '../lib/app-error.ts';
import { createClusterTask } from '../lib/cluster-task.ts';
import { decisionView } from '../views/scaling-views.ts';
import type { EnvironmentRuntime } from './runtime.ts';

const LOCK_NAMESPACE = 0x51b4;
/** Linux's USER_HZ: /proc times are in these ticks. */
const CLOCK_TICKS = 100;

export interface AutoscalerOptions {
  db: Pick<Database, 'url' | 'prisma'>;
  runtime: Pick<EnvironmentRuntime, 'providerFor'>;
  intervalMs: number;
  /** A "no change" decision of the same kind is recorded again after this long; default 60 s. */
  quietMs?: number;
  /**
   * Starts a scale (the scaling service's scaleTo, as the system actor): `inTx` runs in its
   * transaction with the new deployment's id. Throws an AppError 409 when the environment is busy.
   */
  scale: (
    env: { id: string; applicationId: string; applicationName: string },
    replicas: number,
    reason: string,
    inTx: (tx: Tx, deploymentId: string | null) => Promise<void>,
  ) => Promise<string | null>;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  now?: () => number;
}

/** utime + stime of a process, in clock ticks; null when it is gone. */
export function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

interface Reading {
  at: number;
  value: number;
}

export function createAutoscaler(opts: AutoscalerOptions) {
  const { prisma } = opts.db;
  const scaling = createScalingRepo(prisma);
  const instances = createInstanceRepo(prisma);
  const deployments = createDeploymentWriteRepo(prisma);
  const transact = createTransact(prisma);
  const now = opts.now ?? Date.now;
  const quietMs = opts.quietMs ?? 60_000;
  /** Last request-counter reading per environment (and pool), last CPU reading per instance. */
  const requestReadings = new Map<string, Reading & { pool: string }>();
  const cpuReadings = new Map<string, Reading & { pid: number }>();

  type Policy = Awaited<ReturnType<typeof scaling.listEnabled>>[number];

  async function measureRps(p: Policy, pool: string, serving: number) {
    const provider = opts.runtime.providerFor(p.environment);
    if (!provider) return { measured: null, unmeasured: 'no traffic router yet' };
    const totals = await provider.totals();
    const value = totals.pools[pool]?.requests ?? 0;
    const at = now();
    const prev = requestReadings.get(p.environmentId);
    requestReadings.set(p.environmentId, { at, value, pool });
    if (!prev || prev.pool !== pool || value < prev.value || at - prev.at < 200) {
      return { measured: null, unmeasured: 'first reading of the request counter' };
    }
    const rate = ((value - prev.value) * 1000) / (at - prev.at);
    return { measured: rate / Math.max(1, serving) };
  }

  function measureCpu(live: { id: string; pid: number | null }[]) {
    const at = now();
    const percents: number[] = [];
    for (const i of live) {
      if (!i.pid) continue;
      const ticks = cpuTicks(i.pid);
      if (ticks === null) continue;
      const prev = cpuReadings.get(i.id);
      cpuReadings.set(i.id, { at, value: ticks, pid: i.pid });
      if (!prev || prev.pid !== i.pid || at - prev.at < 200) continue;
      percents.push((((ticks - prev.value) / CLOCK_TICKS) * 100_000) / (at - prev.at));
    }
    if (percents.length === 0)
      return { measured: null, unmeasured: 'first reading of the instances’ CPU time' };
    return { measured: percents.reduce((a, b) => a + b, 0) / percents.length };
  }

  async function record(
    p: Policy,
    d: AutoscaleDecision,
    measured: number | null,
    deploymentId: string | null,
    tx?: Tx,
  ) {
    const write = async (t: Tx) => {
      const row = await scaling.recordDecision(
        {
          environmentId: p.environmentId,
          action: d.action,
          fromReplicas: d.from,
          toReplicas: d.to,
          metric: p.metric,
          measured: measured === null ? null : Math.round(measured * 100) / 100,
          target: p.target,
          reason: d.reason.slice(0, 1000),
          deploymentId,
        },
        t,
      );
      await scaling.markDecision(
        p.environmentId,
        {
          lastDecisionAt: row.at,
          lastDecisionKey: d.key,
          ...(deploymentId ? { lastScaleAt: row.at } : {}),
        },
        t,
      );
      await appendEvent(t, {
        type: 'autoscale.decision',
        applicationId: p.environment.applicationId,
        environmentId: p.environmentId,
        ...(deploymentId ? { deploymentId } : {}),
        payload: {
          application: p.environment.application.name,
          environment: p.environment.name,
          ...decisionView(row),
        } as unknown as Prisma.InputJsonValue,
      });
    };
    if (tx) await write(tx);
    else await transact(write);
  }

  async function evaluate(p: Policy) {
    const env = p.environment;
    const pool = env.activeColor;
    const live = pool
      ? (await instances.listLive(env.id, pool)).filter((i) => i.status === 'running' && i.healthy)
      : [];
    const active = await deployments.findActive(env.id);
    const busy =
      !env.liveReleaseId || !pool
        ? 'nothing is live to scale'
        : active
          ? `deployment ${active.id} (${active.kind}) is in progress`
          : (await deployments.hasOpenWork(env.id))
            ? 'a rollback window keeps the old colour warm'
            : env.routerStatus === 'handover'
              ? 'the traffic provider is being changed'
              : null;
    let m: { measured: number | null; unmeasured?: string };
    try {
      m = !pool
        ? { measured: null, unmeasured: 'nothing is live' }
        : p.metric === 'cpu'
          ? measureCpu(live)
          : await measureRps(p, pool, live.length);
    } catch (err) {
      m = { measured: null, unmeasured: `the figure could not be read: ${(err as Error).message}` };
    }
    const d = decideScale({
      policy: {
        minReplicas: p.minReplicas,
        maxReplicas: p.maxReplicas,
        metric: p.metric === 'cpu' ? 'cpu' : 'rps',
        target: p.target,
        cooldownSeconds: p.cooldownSeconds,
        lastScaleAt: p.lastScaleAt?.getTime() ?? null,
      },
      replicas: env.replicas,
      serving: live.length,
      measured: m.measured,
      ...(m.unmeasured ? { unmeasured: m.unmeasured } : {}),
      busy,
      now: now(),
    });
    if (d.action === 'scale_up' || d.action === 'scale_down') {
      try {
        await opts.scale(
          { id: env.id, applicationId: env.applicationId, applicationName: env.application.name },
          d.to,
          `autoscaling: ${d.reason}`,
          (tx, id) => record(p, d, m.measured, id, tx),
        );
        opts.log.info(
          { environment: env.name, from: d.from, to: d.to, reason: d.reason },
          'autoscaler scaled',
        );
      } catch (err) {
        // Something else took the environment between the check and the lock: that is the decision.
        const message = (err as AppError).message ?? String(err);
        await record(
          p,
          { ...d, action: 'blocked', key: 'blocked', reason: `${d.reason}; ${message}` },
          m.measured,
          null,
        );
      }
      return;
    }
    const quiet =
      p.lastDecisionKey === d.key &&
      p.lastDecisionAt !== null &&
      now() - p.lastDecisionAt.getTime() < quietMs;
    if (!quiet) await record(p, d, m.measured, null);
  }

  async function round() {
    for (const p of await scaling.listEnabled()) {
      try {
        await evaluate(p);
      } catch (err) {
        opts.log.warn({ err, environment: p.environment.name }, 'autoscaling evaluation failed');
      }
    }
  }

  const task = createClusterTask({
    url: opts.db.url,
    namespace: LOCK_NAMESPACE,
    name: 'autoscaler',
    intervalMs: opts.intervalMs,
    round,
    onError: (err) => opts.log.warn({ err }, 'autoscaler round failed'),
  });
  return { start: task.start, stop: task.stop, isLeader: task.isLeader, rounds: task.rounds, round };
}
export type Autoscaler = ReturnType<typeof createAutoscaler>;
