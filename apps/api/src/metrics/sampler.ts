// Samples every environment router's per-pool figures every few seconds and publishes each
// sample with `pg_notify('qubot_metrics', …)`. Every API process LISTENs (event bus) and keeps the
// recent ones in memory and forwards them to the sockets watching that environment. One sampler
// runs in the cluster: whoever holds the advisory lock; the others stand by and take over when
// its connection dies.
import type { MetricsMessage } from '@qubot/api-contract';
import type { Database } from '@qubot/db';
import pg from 'pg';
import { METRICS_CHANNEL } from '../events/event-bus.ts';
import { advanceCounter, counted, type TrafficSample } from '../orchestrator/engine.ts';
import type { EnvironmentRuntime } from '../orchestrator/runtime.ts';
import { type PoolTotals, toSample } from './samples.ts';

const LOCK_NAMESPACE = 0x51b1;
/** pg_notify refuses payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;

export interface SamplerOptions {
  db: Pick<Database, 'url' | 'prisma'>;
  runtime: Pick<EnvironmentRuntime, 'clientFor' | 'sampleTraffic'>;
  intervalMs: number;
  log: { warn(obj: object, msg: string): void };
}

export function createMetricsSampler(opts: SamplerOptions) {
  const { prisma } = opts.db;
  const totals = new Map<string, PoolTotals>();
  let client: pg.Client | null = null;
  let leader = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let inFlight: Promise<void> | null = null;

  async function becomeLeader(): Promise<boolean> {
    if (leader && client) return true;
    const c = new pg.Client({ connectionString: opts.db.url });
    c.on('error', () => drop(c));
    c.on('end', () => drop(c));
    try {
      await c.connect();
      const { rows } = await c.query<{ ok: boolean }>(
        "SELECT pg_try_advisory_lock($1, hashtext('metrics-sampler')) AS ok",
        [LOCK_NAMESPACE],
      );
      if (!rows[0]?.ok || stopped) {
        await c.end().catch(() => {});
        return false;
      }
      client = c;
      leader = true;
      return true;
    } catch {
      await c.end().catch(() => {});
      return false;
    }
  }

  function drop(c: pg.Client) {
    if (client !== c) return;
    client = null;
    leader = false;
    c.end().catch(() => {});
  }

  async function sampleAll(c: pg.Client): Promise<void> {
    const envs = await prisma.environment.findMany({
      where: { routerPid: { not: null }, routerControlPort: { not: null }, routerSecret: { not: null } },
      select: {
        id: true,
        name: true,
        routerControlPort: true,
        routerSecret: true,
        application: { select: { name: true } },
        deployments: {
          where: { status: { in: ['running', 'paused'] } },
          select: { id: true, trafficCounter: true },
          take: 1,
        },
      },
    });
    const messages: string[] = [];
    await Promise.all(
      envs.map(async (env) => {
        const router = opts.runtime.clientFor(env);
        if (!router) return;
        let stats: Awaited<ReturnType<typeof router.allStats>>;
        try {
          stats = await router.allStats(opts.intervalMs);
        } catch {
          // The router is away (restarting, stopped): no sample this round.
          totals.delete(env.id);
          return;
        }
        const { sample, totals: next } = toSample(
          totals.get(env.id),
          stats.pools,
          Date.now(),
          opts.intervalMs,
        );
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

  async function tick(): Promise<void> {
    timer = null;
    if (stopped) return;
    try {
      if (await becomeLeader()) {
        const c = client;
        if (c) await sampleAll(c);
      }
    } catch (err) {
      opts.log.warn({ err }, 'metrics sampling failed');
    }
    if (!stopped) {
      timer = setTimeout(run, opts.intervalMs);
      timer.unref();
    }
  }
  function run() {
    inFlight = tick().finally(() => {
      inFlight = null;
    });
  }

  return {
    start(): void {
      if (timer || stopped) return;
      timer = setTimeout(run, opts.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await inFlight;
      const c = client;
      client = null;
      leader = false;
      await c?.end().catch(() => {});
    },
    /** Whether this process is the one sampling (tests, diagnostics). */
    isLeader: () => leader,
  };
}
export type MetricsSampler = ReturnType<typeof createMetricsSampler>;
