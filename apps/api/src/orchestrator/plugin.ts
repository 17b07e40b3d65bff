import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
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
}

declare module 'fastify' {
  interface FastifyInstance {
    orchestrator: Orchestrator;
  }
}

/** The deployment orchestrator: a domain plugin; its worker role starts with the app and stops with it. */
export default fp(
  async (app: FastifyInstance, opts: OrchestratorPluginOptions) => {
    const orchestrator = createOrchestrator({
      db: app.db,
      log: app.log,
      // Registered after the services when the app has them (tests may build it without).
      effectiveConfig: (app as Partial<FastifyInstance>).services?.effectiveConfig,
      ...opts,
    });
    app.decorate('orchestrator', orchestrator);
    app.addHook('onReady', async () => {
      await orchestrator.start();
    });
    app.addHook('onClose', async () => {
      await orchestrator.stop();
    });
  },
  { name: 'orchestrator', dependencies: ['database'] },
);
