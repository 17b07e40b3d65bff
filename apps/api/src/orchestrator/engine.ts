// Applies one event to one deployment, durably: lock the row, run the pure state machine
// (packages/core), save the new state, its steps and what the environment looks like now,
// append the events (and the audit entry of a person's action) — all in one transaction.
// Commands are executed by the worker only after this commit (persist before acting).
import {
  type Color,
  type DeploymentEvent,
  type DeploymentState,
  isTerminalStatus,
  transition,
} from '@qubot/core';
import {
  appendAudit,
  appendEvent,
  createDeploymentRepo,
  createDeploymentWriteRepo,
  createEnvironmentRepo,
  createTransact,
  type Database,
  type LockedDeployment,
  type Prisma,
  type Tx,
} from '@qubot/db';
import type { ApplyOptions, ApplyResult, TrafficSample } from '../lib/orchestrator-port.ts';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import { deploymentView } from '../views/views.ts';

interface TrafficCounter {
  base: TrafficSample;
  last: TrafficSample;
  acc: TrafficSample;
}

/** Requests through the environment since `base`, surviving router restarts (counters going back to 0). */
export function advanceCounter(prev: TrafficCounter | null, sample: TrafficSample): TrafficCounter {
  if (!prev) return { base: sample, last: sample, acc: { requests: 0, errors: 0 } };
  if (sample.requests < prev.last.requests) {
    // The router restarted: bank what was counted before, count again from zero.
    return {
      base: { requests: 0, errors: 0 },
      last: sample,
      acc: {
        requests: prev.acc.requests + prev.last.requests - prev.base.requests,
        errors: prev.acc.errors + prev.last.errors - prev.base.errors,
      },
    };
  }
  return { ...prev, last: sample };
}
export const counted = (c: TrafficCounter): TrafficSample => ({
  requests: c.acc.requests + c.last.requests - c.base.requests,
  errors: c.acc.errors + c.last.errors - c.base.errors,
});

export function createEngine(db: Pick<Database, 'prisma'>) {
  const writes = createDeploymentWriteRepo(db.prisma);
  const reads = createDeploymentRepo(db.prisma);
  const environments = createEnvironmentRepo(db.prisma);
  const transact = createTransact(db.prisma);

  /** Appends `deployment.updated` and `environment.updated` with the full views; call last in a transaction. */
  async function announce(tx: Tx, deploymentId: string | null, environmentId: string, created = false) {
    const env = await environments.get(environmentId, tx);
    if (deploymentId) {
      const row = await reads.findById(deploymentId, tx);
      if (row) {
        await appendEvent(tx, {
          type: created ? 'deployment.created' : 'deployment.updated',
          applicationId: row.applicationId,
          environmentId: row.environmentId,
          deploymentId: row.id,
          payload: deploymentView(row) as unknown as Prisma.InputJsonValue,
        });
      }
    }
    await appendEnvironmentUpdated(tx, env);
  }

  async function applyIn(
    tx: Tx,
    deploymentId: string,
    event: DeploymentEvent,
    opts: ApplyOptions = {},
  ): Promise<ApplyResult> {
    const now = opts.now ?? Date.now();
    const row = await writes.lock(deploymentId, tx);
    if (!row) return { kind: 'missing' };
    const before = row.state as unknown as DeploymentState;
    const res = transition(before, event, now);
    if (res.rejected) return { kind: 'rejected', message: res.rejected, state: before };
    if (res.ignored) return { kind: 'ignored', message: res.ignored, state: before };
    const s = res.state;

    await opts.effects?.(tx, row);

    const running = !isTerminalStatus(before.status) || before.status !== s.status;
    let counter = row.trafficCounter as unknown as TrafficCounter | null;
    if (opts.traffic && running && s.status !== 'pending') counter = advanceCounter(counter, opts.traffic);
    const served = counter ? counted(counter) : null;
    await writes.save(
      deploymentId,
      {
        status: s.status,
        waitingFor: s.waitingFor,
        state: s as unknown as Prisma.InputJsonValue,
        progress: s.progress as unknown as Prisma.InputJsonValue,
        analysis: s.analysis as unknown as Prisma.InputJsonValue,
        error: s.outcome && s.outcome.status !== 'succeeded' ? s.outcome.reason : null,
        startedAt: s.startedAt ? new Date(s.startedAt) : null,
        finishedAt: s.finishedAt ? new Date(s.finishedAt) : null,
        ...(counter && served
          ? {
              trafficCounter: counter as unknown as Prisma.InputJsonValue,
              requestsServed: BigInt(Math.max(0, served.requests)),
              requestsFailed: BigInt(Math.max(0, served.errors)),
            }
          : {}),
      },
      s.steps,
      tx,
    );

    if (!isTerminalStatus(before.status) && isTerminalStatus(s.status) && s.outcome) {
      await settleEnvironment(tx, row, s);
    }
    if (opts.audit) await appendAudit(tx, opts.audit);
    await announce(tx, deploymentId, row.environmentId, opts.created);
    return { kind: 'applied', state: s, commands: res.commands };
  }

  /** What is live once the deployment is over. */
  async function settleEnvironment(tx: Tx, row: LockedDeployment, s: DeploymentState) {
    const outcome = s.outcome;
    if (!outcome) return;
    if (outcome.status === 'succeeded') {
      const env = await environments.get(row.environmentId, tx);
      await environments.update(
        row.environmentId,
        {
          liveReleaseId: row.releaseId,
          previousReleaseId:
            env.liveReleaseId && env.liveReleaseId !== row.releaseId
              ? env.liveReleaseId
              : env.previousReleaseId,
          activeColor: outcome.liveColor as Color | null,
        },
        tx,
      );
    } else if (outcome.liveColor) {
      await environments.update(
        row.environmentId,
        {
          activeColor: outcome.liveColor as Color,
          // A scale that did not finish went back to the count it started from: say so.
          ...(s.input.scale ? { replicas: Math.max(1, s.input.scale.from) } : {}),
        },
        tx,
      );
    }
  }

  return {
    announce,
    applyIn,
    apply(deploymentId: string, event: DeploymentEvent, opts: ApplyOptions = {}) {
      return transact((tx) => applyIn(tx, deploymentId, event, opts), { timeout: 20_000 });
    },
  };
}
export type Engine = ReturnType<typeof createEngine>;
