// Samples every environment router's per-pool figures every few seconds and publishes each
// sample with `pg_notify('qubot_metrics', …)`. Every API process LISTENs (event bus) and keeps the
// recent ones in memory and forwards them to the sockets watching that environment. One sampler
// runs in the cluster: whoever holds the advisory lock; the others stand by and take over when
// its connection dies.
import type { MetricsMessage } from '@qubot/api-contract';
import { createEnvironmentRepo, type Database } from '@qubot/db';
import type { PoolWindowStats } from '@qubot/runtime';
import type pg from 'pg';
import { METRICS_CHANNEL } from '../events/event-bus.ts';
import { createClusterTask } from '../lib/cluster-task.ts';
import type { TrafficSample } from '../lib/orchestrator-port.ts';
import { advanceCounter, counted } from '../orchestrator/engine.ts';
import type { EnvironmentRuntime } from '../orchestrator/runtime.ts';
import { type PoolTotals, toSample } from './samples.ts';

const LOCK_NAMESPACE = 0x51b1;
/** pg_notify refuses payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;

export interface SamplerOptions {
  db: Pick<Database, 'url' | 'prisma'>;
  runtime: Pick<EnvironmentRuntime, 'providerFor' | 'trafficWindow' | 'sampleTraffic'>;
  intervalMs: number;
  log: { warn(obj: object, msg: string): void };
}

export function createMetricsSampler(opts: SamplerOptions) {
  const environments = createEnvironmentRepo(opts.db.prisma);
  const totals = new Map<string, PoolTotals>();
  async function sampleAll(c: pg.Client): Promise<void> {
    const envs = await environments.listForSampling();
    const messages: string[] = [];
    await Promise.all(
      envs.map(async (env) => {
        const provider = opts.runtime.providerFor(env);
        if (!provider) return;
        let pools: PoolWindowStats[];
        try {
          // A provider with counters only (HAProxy): the interval comes from the totals' difference.
          const window = await opts.runtime.trafficWindow(env, opts.intervalMs, { provider, settleMs: 0 });
          pools = window?.pools ?? [];
        } catch {
          // The router is away (restarting, stopped): no sample this round.
          totals.delete(env.id);
          return;
        }
        const { sample, totals: next } = toSample(totals.get(env.id), pools, Date.now(), opts.intervalMs);
        totals.set(env.id, next);
        let deployment: MetricsMessage['deployment'] = null;
        const active = env.deployments[0];
        const counter = active?.trafficCounter as Parameters<typeof advanceCounter>[0];
        if (active && counter) {
          // The same arithmetic the engine stores at each transition, shown between transitions.
          const now: TrafficSample | null = await opts.runtime.sampleTraffic(env.id);
          const served = counted(now ? advanceCounter(counter, now) : counter);
          deployment = {
            id: active.id,
            traffic: { requests: Math.max(0, served.requests), failed: Math.max(0, served.errors) },
          };
        }
        const message: MetricsMessage = {
          type: 'metrics',
          environmentId: env.id,
          environment: `${env.application.name}/${env.name}`,
          sample,
          deployment,
        };
        const text = JSON.stringify(message);
        if (Buffer.byteLength(text) > MAX_PAYLOAD) {
          opts.log.warn({ environment: message.environment, bytes: text.length }, 'metrics sample too large');
          return;
        }
        messages.push(text);
      }),
    );
    // One connection, one query at a time.
    for (const text of messages) await c.query('SELECT pg_notify($1, $2)', [METRICS_CHANNEL, text]);
  }

  const task = createClusterTask({
    url: opts.db.url,
    namespace: LOCK_NAMESPACE,
    name: 'metrics-sampler',
    intervalMs: opts.intervalMs,
    round: sampleAll,
    onError: (err) => opts.log.warn({ err }, 'metrics sampling failed'),
  });

  return { start: task.start, stop: task.stop, isLeader: task.isLeader };
}
export type MetricsSampler = ReturnType<typeof createMetricsSampler>;
