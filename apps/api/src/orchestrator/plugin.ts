import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../lib/app-error.ts';
import { type RequestContext, SYSTEM_ACTOR } from '../lib/request-context.ts';
import { type Autoscaler, createAutoscaler } from './autoscaler.ts';
import { createOrchestrator, type Orchestrator } from './orchestrator.ts';

export interface OrchestratorPluginOptions {
  /** Drive deployments in this process (`--role worker|all`); otherwise only enqueue work. */
  worker: boolean;
  /** QUBOT_DATA_DIR: runtime state (instances, routers) lives under `<dataDir>/runtime`. */
  dataDir: string;
  workspaceDir?: string;
  concurrency?: number;
  sweepIntervalMs?: number;
  healthIntervalMs?: number;
  stopTimeoutMs?: number;
  /** Instance health monitor interval (worker role); default 5000 ms, 0 turns it off here. */
  healthMonitorIntervalMs?: number;
  /** Reconcile loop interval (worker role): routers, supervisors, routing; default 1000 ms, 0 = off. */
  reconcileIntervalMs?: number;
  /** API-only process: how long it waits for a worker to do router work it asked for; default 15 s. */
  routingTimeoutMs?: number;
  /** Autoscaling evaluation interval (worker role, one evaluator in the cluster); default 5000 ms, 0 = off here. */
  autoscaleIntervalMs?: number;
  /** A "no change" decision of the same kind is recorded again after this long; default 60 s. */
  autoscaleQuietMs?: number;
  /** Host agents (docs/hosts.md): heartbeat interval, lost timeout. */
  agents?: { heartbeatMs?: number; lostAfterMs?: number; checkIntervalMs?: number; eventEveryMs?: number };
}

const AUTOSCALER = 'system:autoscaler';
const autoscalerContext = (): RequestContext => {
  const ctx: RequestContext = {
    actor: { ...SYSTEM_ACTOR, name: AUTOSCALER },
    requestId: `autoscaler-${randomBytes(4).toString('hex')}`,
    clientIp: null,
    userAgent: null,
    auditFields: () => ({
      actor: AUTOSCALER,
      role: SYSTEM_ACTOR.role,
      requestId: ctx.requestId,
      clientIp: null,
      userAgent: null,
    }),
  };
  return ctx;
};

declare module 'fastify' {
  interface FastifyInstance {
    orchestrator: Orchestrator;
    /** The autoscaling evaluator of this process (worker role), leader or standing by; null otherwise. */
    autoscaler: Autoscaler | null;
  }
}

/** The deployment orchestrator: a domain plugin; its worker role starts with the app and stops with it. */
export default fp(
  async (app: FastifyInstance, opts: OrchestratorPluginOptions) => {
    const { autoscaleIntervalMs = 5_000, autoscaleQuietMs, ...rest } = opts;
    const orchestrator = createOrchestrator({
      db: app.db,
      log: app.log,
      // Registered after the services when the app has them (tests may build it without).
      effectiveConfig: (app as Partial<FastifyInstance>).services?.effectiveConfig,
      secrets: (app as Partial<FastifyInstance>).services?.secrets,
      // Instances lost with their host: the same replica count again, as a scale (docs/hosts.md).
      replaceLost: async (environmentId, reason) => {
        const env = await app.db.prisma.environment.findUnique({
          where: { id: environmentId },
          select: { replicas: true, application: { select: { id: true, name: true } } },
        });
        if (!env) return true;
        try {
          await app.services.scaling.scaleTo(
            autoscalerContext(),
            environmentId,
            env.application,
            env.replicas,
            {
              reason,
              auditAction: 'host.lost',
            },
          );
          return true;
        } catch (err) {
          if (err instanceof AppError && err.statusCode === 409) return false;
          throw err;
        }
      },
      ...rest,
    });
    app.decorate('orchestrator', orchestrator);
    const autoscaler =
      opts.worker && autoscaleIntervalMs > 0
        ? createAutoscaler({
            db: app.db,
            runtime: orchestrator.runtime,
            intervalMs: autoscaleIntervalMs,
            ...(autoscaleQuietMs ? { quietMs: autoscaleQuietMs } : {}),
            log: app.log,
            scale: (env, replicas, reason, inTx) =>
              app.services.scaling.scaleTo(
                autoscalerContext(),
                env.id,
                { id: env.applicationId, name: env.applicationName },
                replicas,
                { reason, auditAction: 'environment.autoscale', inTx },
              ),
          })
        : null;
    app.decorate('autoscaler', autoscaler);
    app.addHook('onReady', async () => {
      await orchestrator.start();
      autoscaler?.start();
    });
    app.addHook('onClose', async () => {
      await autoscaler?.stop();
      await orchestrator.stop();
    });
  },
  { name: 'orchestrator', dependencies: ['database'] },
);
