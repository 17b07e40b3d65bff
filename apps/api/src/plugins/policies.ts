// Promotion policies (docs/deployments.md "Promotion policies"): the service, and in worker
// processes the runner that evaluates them. The runner is event-driven: any stored event
// (a release registered, a deployment finished, a policy changed, a freeze window removed —
// every one is announced by NOTIFY, from any process) schedules one coalesced sweep; a timer wakes
// it when the earliest soak ends; a slow safety sweep covers a lost notification. A sweep reads
// only the automatic policies' environments and a few keyed rows each (policy-repo.ts), never
// deployment history. Every worker runs it: exactly once comes from the claim, not a leader.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createPolicyService, type PolicyHooks, type PolicyService } from '../services/policy-service.ts';

export interface PolicyPluginOptions {
  /** Evaluate policies in this process (worker roles); off for apps built by tests. */
  run: boolean;
  /** Safety sweep even without events (default 30 s). */
  safetyIntervalMs?: number;
  /** Sweeps start at most this often while events stream in (default 250 ms). */
  coalesceMs?: number;
  hooks?: PolicyHooks;
}

declare module 'fastify' {
  interface FastifyInstance {
    policies: PolicyService & { runner: PolicyRunner | null };
  }
}

export interface PolicyRunner {
  start(): void;
  stop(): Promise<void>;
  /** Ask for a sweep soon (coalesced). */
  poke(): void;
  /** Sweeps completed. */
  sweeps(): number;
  /** Resolves when the next sweep completes (tests await it instead of sleeping). */
  nextSweep(): Promise<void>;
}

export function createPolicyRunner(opts: {
  sweep: PolicyService['sweep'];
  safetyIntervalMs: number;
  coalesceMs: number;
  onError: (err: unknown) => void;
  onActed?: (envName: string, deploymentId: string) => void;
}): PolicyRunner {
  let timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (the safety sweep, a soak's end, or a coalesced poke). */
  let timerDueAt = 0;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = true;
  let count = 0;
  let waiters: Array<() => void> = [];

  function arm(delayMs: number) {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timerDueAt = Date.now() + Math.max(0, delayMs);
    timer = setTimeout(
      () => {
        timer = null;
        run();
      },
      Math.max(0, delayMs),
    );
    timer.unref();
  }

  function run() {
    if (stopped) return;
    if (running !== null) {
      again = true;
      return;
    }
    running = (async () => {
      let next = opts.safetyIntervalMs;
      try {
        const { results, nextDueAt } = await opts.sweep();
        for (const r of results) if (r.deploymentId) opts.onActed?.(r.environment, r.deploymentId);
        if (nextDueAt) next = Math.min(next, nextDueAt.getTime() - Date.now() + 50);
      } catch (err) {
        opts.onError(err);
      } finally {
        count++;
        running = null;
        const done = waiters;
        waiters = [];
        for (const w of done) w();
      }
      if (again) {
        again = false;
        arm(opts.coalesceMs);
      } else arm(next);
    })();
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      arm(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
    poke() {
      if (stopped) return;
      if (running !== null) again = true;
      // Between sweeps a timer is always armed — usually the safety sweep or a soak's end, far
      // off. Bring it forward; only a timer already due within the coalescing delay absorbs the
      // poke (a burst of events makes one sweep, not one each).
      else if (!timer || timerDueAt > Date.now() + opts.coalesceMs) arm(opts.coalesceMs);
    },
    sweeps: () => count,
    nextSweep: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
      }),
  };
}

export default fp(
  async (app: FastifyInstance, opts: PolicyPluginOptions) => {
    const { repos, services } = app;
    const service = createPolicyService({
      transact: repos.transact,
      policies: repos.policies,
      environments: repos.environments,
      deploymentWrites: repos.deploymentWrites,
      catalog: services.catalog,
      freeze: services.freeze,
      commands: services.deploymentCommands,
      ...(opts.hooks ? { hooks: opts.hooks } : {}),
    });
    const runner = opts.run
      ? createPolicyRunner({
          sweep: () => service.sweep(),
          safetyIntervalMs: opts.safetyIntervalMs ?? 30_000,
          coalesceMs: opts.coalesceMs ?? 250,
          onError: (err) => app.log.error({ err }, 'promotion policy sweep failed'),
          onActed: (environment, deploymentId) =>
            app.log.info({ environment, deploymentId }, 'promotion policy started a deployment'),
        })
      : null;
    app.decorate('policies', Object.assign(service, { runner }));
    if (!runner) return;
    app.eventBus.onNotified(() => runner.poke());
    // A lost LISTEN connection may have dropped notifications: sweep when it is back.
    app.eventBus.onListening((up) => {
      if (up) runner.poke();
    });
    app.addHook('onReady', async () => runner.start());
    app.addHook('onClose', async () => runner.stop());
  },
  { name: 'policies', dependencies: ['database', 'services', 'event-bus', 'orchestrator'] },
);
