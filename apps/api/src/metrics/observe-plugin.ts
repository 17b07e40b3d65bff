import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createObserveService, type ObserveService } from './observe-service.ts';
import { createMetricsSampler } from './sampler.ts';
import { createMetricsHistory } from './samples.ts';

export interface ObserveOptions {
  /** How often the routers are sampled (ms); 0 turns the sampler off in this process. Default 2000. */
  sampleIntervalMs?: number;
  /** How much history each process keeps for the chart's first render (ms). Default 10 minutes. */
  historyMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    observe: ObserveService;
  }
}

/**
 * Live router figures and logs for the dashboard. Every process keeps the samples it hears on
 * `qubot_metrics` (event bus) in memory; every process also runs a sampler, of which only the
 * advisory-lock holder samples, so the cluster publishes each environment once per interval.
 */
export default fp(
  async (app: FastifyInstance, opts: ObserveOptions) => {
    const intervalMs = opts.sampleIntervalMs ?? 2000;
    const history = createMetricsHistory(
      Math.ceil((opts.historyMs ?? 600_000) / Math.max(intervalMs || 2000, 500)),
    );
    app.eventBus.onEphemeral((m) => {
      const sample = m.body.sample as Parameters<typeof history.add>[1] | undefined;
      if (sample && typeof sample.at === 'string') history.add(m.environmentId, sample);
    });
    const sampler =
      intervalMs > 0
        ? createMetricsSampler({ db: app.db, runtime: app.orchestrator.runtime, intervalMs, log: app.log })
        : null;
    app.decorate(
      'observe',
      createObserveService({
        deployments: app.repos.deployments,
        instances: app.repos.instances,
        catalog: app.services.catalog,
        history,
        runtime: () => app.orchestrator.runtime,
        driver: () => app.orchestrator.driver,
        intervalMs: intervalMs || 2000,
      }),
    );
    app.addHook('onReady', async () => {
      sampler?.start();
    });
    app.addHook('onClose', async () => {
      await sampler?.stop();
    });
  },
  { name: 'observe', dependencies: ['database', 'event-bus', 'orchestrator', 'services'] },
);
