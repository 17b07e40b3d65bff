import type { Environment, TrafficBody } from '@qubot/api-contract';
import type { Color, DeploymentState, Weights } from '@qubot/core';
import {
  appendAudit,
  type DeploymentWriteRepo,
  type EnvironmentRepo,
  type Prisma,
  type ReleaseRepo,
  TRANSACTION_MAX_WAIT_MS,
  type Transact,
  type Tx,
} from '@qubot/db';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import type { OrchestratorPort } from '../lib/orchestrator-port.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { environmentView } from '../views/views.ts';
import type { CatalogService } from './catalog-service.ts';
import type { DeploymentCommandService } from './deployment-command-service.ts';
import { requireReason } from './require-reason.ts';

/**
 * POST /apps/:app/environments/:env/traffic. With a blue-green deployment waiting for its
 * switch, this is the switch. With no deployment running, it moves traffic between the colours
 * that are running (e.g. back to a warm colour), atomically on the router.
 */
export function createTrafficService(deps: {
  transact: Transact;
  environments: Pick<EnvironmentRepo, 'lock' | 'update' | 'findView'>;
  deploymentWrites: Pick<DeploymentWriteRepo, 'findActive' | 'listCleaningUp'>;
  releases: Pick<ReleaseRepo, 'find'>;
  catalog: Pick<CatalogService, 'requireEnvironment' | 'getEnvironment'>;
  commands: Pick<DeploymentCommandService, 'act' | 'snapshot'>;
  orchestrator: Pick<OrchestratorPort, 'applyIn' | 'announce' | 'ensureRouter' | 'syncRouting'>;
}) {
  const { transact, environments, orchestrator } = deps;
  const writes = deps.deploymentWrites;

  function weightsOf(body: TrafficBody): Weights {
    if ((body.activeColor === undefined) === (body.weights === undefined)) {
      throw AppError.badField('body', 'send either activeColor or weights');
    }
    if (body.activeColor) {
      return body.activeColor === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
    }
    const w: Weights = { blue: 0, green: 0 };
    const seen = new Set<Color>();
    for (const [i, e] of (body.weights ?? []).entries()) {
      if (seen.has(e.pool)) throw AppError.badField(`body.weights[${i}].pool`, `${e.pool} is listed twice`);
      seen.add(e.pool);
      w[e.pool] = e.weight;
    }
    if (w.blue + w.green !== 100) throw AppError.badField('body.weights', 'must sum to 100');
    return w;
  }

  const syncRouter = (environmentId: string) => deps.orchestrator.syncRouting(environmentId);

  /**
   * The router refused: put back what the environment was, unless someone changed it since
   * (then theirs stands and their push carries it), and try to put the router back too —
   * the runtime's reconcile loop keeps trying should it still be unreachable.
   */
  async function compensate(
    ctx: RequestContext,
    env: { id: string; name: string },
    restore: {
      traffic: Prisma.InputJsonValue;
      activeColor: Color | null;
      liveReleaseId: string | null;
      previousReleaseId: string | null;
    },
    ours: Date,
    target: string,
  ) {
    const restored = await transact(
      async (tx) => {
        const now = await environments.lock(env.id, tx);
        if (now.updatedAt.getTime() !== ours.getTime()) return false;
        await environments.update(env.id, restore, tx);
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'environment.traffic.reverted',
          target,
          targetType: 'environment',
          targetId: env.id,
          reason: 'the traffic router did not take the change',
          before: null,
          after: { activeColor: restore.activeColor, traffic: restore.traffic },
        });
        await orchestrator.announce(tx, null, env.id);
        return true;
      },
      { timeout: 10_000, maxWait: TRANSACTION_MAX_WAIT_MS },
    );
    if (restored) await syncRouter(env.id).catch(() => {});
  }

  /**
   * What a traffic request means for the environment now (under its lock when `tx` holds it): the
   * switch of a blue-green deployment waiting for it, nothing to change, or a change — or a refusal
   * (a deployment in progress, a pool with no healthy instance).
   */
  async function assess(tx: Tx, env: { id: string; name: string }, weights: Weights, body: TrafficBody) {
    const before = await environments.lock(env.id, tx);
    if (before.routerStatus === 'handover') {
      throw AppError.conflict(
        `the traffic provider of ${env.name} is being changed (to ${before.trafficProvider}); try again in a moment`,
        { reason: 'handover_in_progress' },
      );
    }
    const active = await writes.findActive(env.id, tx);
    if (active) {
      const s = active.state as unknown as DeploymentState;
      if (s.waitingFor === 'switch' && weights[s.input.newColor] === 100) {
        return { kind: 'switch' as const, deploymentId: active.id };
      }
      throw AppError.conflict(
        `a deployment is in progress in ${env.name} (${active.id}); use its controls or roll it back`,
        { reason: 'active_deployment', activeDeploymentId: active.id },
      );
    }
    // Already so (a repeated click, a retry): nothing to write, nothing to push.
    const current: Weights = { blue: 0, green: 0 };
    for (const t of (Array.isArray(before.traffic) ? before.traffic : []) as {
      pool: Color;
      weight: number;
    }[]) {
      if (t.pool === 'blue' || t.pool === 'green') current[t.pool] = t.weight;
    }
    const wanted: Color = weights.blue >= weights.green ? 'blue' : 'green';
    if (
      current.blue === weights.blue &&
      current.green === weights.green &&
      before.activeColor === wanted &&
      (await writes.listCleaningUp(env.id, tx)).length === 0
    ) {
      return { kind: 'unchanged' as const };
    }
    const snap = await deps.commands.snapshot(env.id, tx);
    for (const pool of ['blue', 'green'] as Color[]) {
      if (weights[pool] > 0 && snap.pools[pool].healthy === 0) {
        throw AppError.conflict(`pool ${pool} has no healthy instances to send traffic to`, {
          field: body.weights ? 'body.weights' : 'body.activeColor',
          reason: 'pool_empty',
        });
      }
    }
    return { kind: 'change' as const, before, snap };
  }

  return {
    async setTraffic(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: TrafficBody,
    ): Promise<{ status: 200 | 202; environment: Environment }> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'traffic', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      const weights = weightsOf(body);
      const reason = env.protected
        ? requireReason(body.reason, `${env.name} is a protected environment`)
        : (body.reason ?? null);
      const audit = { action: 'environment.traffic' as const, target: `${app.name}/${env.name}` };
      // Refusals that need no router come first, so a doomed request never waits for one (nor
      // asks a worker for it); the transaction below assesses again under the environment's lock.
      const first = await transact((tx) => assess(tx, env, weights, body), {
        timeout: 10_000,
        maxWait: TRANSACTION_MAX_WAIT_MS,
      });
      if (first.kind === 'switch') {
        await deps.commands.act(ctx, first.deploymentId, 'switch', reason, audit);
        return { status: 202, environment: await deps.catalog.getEnvironment(app.name, env.name) };
      }
      // The router must be there before we decide (starting one can take seconds: never in a
      // transaction). A worker does it (orchestrator port): this process may hold no runtime.
      await orchestrator.ensureRouter(env.id).catch((err: Error) => {
        throw new AppError(
          ErrorCode.Unavailable,
          `the traffic router of ${env.name} could not be reached; nothing was changed (${err.message})`,
          { reason: 'router_unavailable' },
        );
      });
      // Decide and persist under the environment's lock, in a short transaction: the active
      // deployment check, the snapshot and the write see the same environment, and a deployment
      // created at the same time (launch() takes the same lock) plans from what this leaves.
      const decision = await transact(
        async (tx) => {
          const assessed = await assess(tx, env, weights, body);
          if (assessed.kind !== 'change') return assessed;
          const { before, snap } = assessed;
          const activeColor: Color = weights.blue >= weights.green ? 'blue' : 'green';
          // The old colour's scale-down (blue-green rollback window) must not stop what is live now.
          for (const old of await writes.listCleaningUp(env.id, tx)) {
            const res = await orchestrator.applyIn(tx, old.id, { type: 'superseded' });
            if (res.kind === 'ignored' && res.message.includes('under way')) {
              throw AppError.conflict(
                'the old colour is being scaled down right now; try again in a moment',
                {
                  reason: 'scale_down_in_progress',
                },
              );
            }
          }
          const liveVersion = snap.pools[activeColor].version;
          const liveRelease = liveVersion ? await deps.releases.find(app.id, liveVersion, tx) : null;
          const changedLive = liveRelease && liveRelease.id !== before.liveReleaseId;
          const restore = {
            traffic: before.traffic as Prisma.InputJsonValue,
            activeColor: before.activeColor,
            liveReleaseId: before.liveReleaseId,
            previousReleaseId: before.previousReleaseId,
          };
          const updated = await environments.update(
            env.id,
            {
              traffic: (['blue', 'green'] as Color[]).map((pool) => ({
                pool,
                version: snap.pools[pool].version,
                weight: weights[pool],
              })),
              activeColor,
              ...(changedLive
                ? { liveReleaseId: liveRelease.id, previousReleaseId: before.liveReleaseId }
                : {}),
            },
            tx,
          );
          await appendAudit(tx, {
            ...ctx.auditFields(),
            ...audit,
            targetType: 'environment',
            targetId: env.id,
            reason,
            before: { activeColor: before.activeColor, traffic: before.traffic as object },
            after: { activeColor, weights: { ...weights } },
          });
          await orchestrator.announce(tx, null, env.id);
          return { kind: 'set' as const, restore, updatedAt: updated.updatedAt };
        },
        { timeout: 10_000, maxWait: TRANSACTION_MAX_WAIT_MS },
      );
      if (decision.kind === 'unchanged') {
        // Still make sure the router has it: a repeated request heals a router that missed it.
        await syncRouter(env.id).catch((err: Error) => {
          throw new AppError(
            ErrorCode.Unavailable,
            `the traffic router of ${env.name} could not be reached (${err.message})`,
            { reason: 'router_unavailable' },
          );
        });
        return { status: 200, environment: await deps.catalog.getEnvironment(app.name, env.name) };
      }
      if (decision.kind === 'switch') {
        await deps.commands.act(ctx, decision.deploymentId, 'switch', reason, audit);
        return { status: 202, environment: await deps.catalog.getEnvironment(app.name, env.name) };
      }
      // Committed: now make the router serve it. The database is the source of truth, so the
      // router gets what the environment says now (a later change may already have committed).
      try {
        await syncRouter(env.id);
      } catch (err) {
        await compensate(ctx, env, decision.restore, decision.updatedAt, audit.target);
        throw new AppError(
          ErrorCode.Unavailable,
          `the traffic router of ${env.name} did not take the change; nothing was changed (${(err as Error).message})`,
          { reason: 'router_unavailable' },
        );
      }
      const row = await environments.findView(app.id, env.name);
      if (!row) throw AppError.notFound(`environment "${env.name}"`);
      return { status: 200, environment: environmentView(row) };
    },
  };
}
export type TrafficService = ReturnType<typeof createTrafficService>;
