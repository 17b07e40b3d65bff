// Keeps the instances' health in the database current between deployments. Deployments only probe
// the instances they wait for; a process that crashes, is restarted by its supervisor or stops
// answering later would otherwise look healthy on the dashboard forever. Every few seconds one
// process in the cluster — whoever holds the advisory lock, as for the metrics sampler — probes
// every running instance (supervisor status file, then an HTTP health check) and, only when the
// health flag, status or restart count moved, writes those columns and appends one
// `environment.updated` per environment that changed. See docs/deployments.md, "Health monitoring".
import { createInstanceRepo, createTransact, type Database, type InstanceStatus, type Tx } from '@qubot/db';
import type { OomRecord, RuntimeDriver } from '@qubot/runtime';
import { createClusterTask } from '../lib/cluster-task.ts';
import type { Engine } from './engine.ts';

const LOCK_NAMESPACE = 0x51b2;

export interface HealthMonitorOptions {
  db: Pick<Database, 'url' | 'prisma'>;
  driver: Pick<RuntimeDriver, 'status' | 'checkHealth'>;
  engine: Pick<Engine, 'announce'>;
  /** Appends `instance.oom_killed` (the event log's record of an OOM kill, with its figures). */
  recordOom?: (tx: Tx, oom: OomEvent) => Promise<void>;
  intervalMs: number;
  /** Instances probed at once; default 8. */
  concurrency?: number;
  /** HTTP health check timeout; default 1 s (a slower answer counts as a failure). */
  probeTimeoutMs?: number;
  /**
   * Consecutive failed HTTP checks before a live process is marked unhealthy; default 2, so one
   * slow answer on a busy machine does not flap the dashboard. A dead process counts at once.
   */
  failureThreshold?: number;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** What one probe says about an instance; compared with its row to decide whether to write. */
export interface Observation {
  status: InstanceStatus;
  healthy: boolean;
  restarts: number;
}

/** An OOM kill the monitor saw, for the event log. */
export interface OomEvent {
  environmentId: string;
  instanceId: string;
  pool: string;
  version: string;
  oomKills: number;
  oom: OomRecord;
}

/**
 * The row's new health from the supervisor and the HTTP probe. Supervisor gone: crashed (it never
 * comes back by itself). Supervisor alive but its process down (back-off, starting again): unhealthy.
 */
export function observe(
  st: {
    supervisorAlive: boolean;
    alive: boolean;
    restarts: number;
    state: string;
    lastExitReason?: string | null;
  },
  probeHealthy: boolean | null,
  rowRestarts: number,
): Observation {
  // An unreadable status file says nothing about restarts: keep what the row has.
  const restarts = st.state === 'unknown' ? rowRestarts : Math.max(rowRestarts, st.restarts);
  if (!st.supervisorAlive) return { status: 'crashed', healthy: false, restarts };
  // Down because its memory limit killed it (being started again): that, not a generic failure.
  if (!st.alive && st.lastExitReason === 'oom') return { status: 'oom_killed', healthy: false, restarts };
  if (!st.alive || !probeHealthy) return { status: 'unhealthy', healthy: false, restarts };
  return { status: 'running', healthy: true, restarts };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

export function createHealthMonitor(opts: HealthMonitorOptions) {
  const instances = createInstanceRepo(opts.db.prisma);
  const transact = createTransact(opts.db.prisma);
  const concurrency = opts.concurrency ?? 8;
  const probeTimeoutMs = opts.probeTimeoutMs ?? 1_000;
  const failureThreshold = Math.max(1, opts.failureThreshold ?? 2);
  /** Consecutive failed HTTP checks per instance (the leader's memory; a new leader starts afresh). */
  const failures = new Map<string, number>();
  /** One round: probe, compare, write what changed. Returns the environments announced. */
  async function checkAll(): Promise<string[]> {
    // `starting` and `stopping` belong to the deployment bringing them up or down; `crashed` and
    // `stopped` are final. Only settled instances are watched.
    // Instances of a deployment still in progress are its own to judge (it may be starting,
    // replacing or re-adopting them after a worker crash); the monitor takes over once it ends.
    const rows = await instances.listWatched();
    const seen = await mapLimit(rows, concurrency, async (row) => {
      const st = await opts.driver.status({ id: row.id });
      // No status file at all says nothing about the instance: leave its row as it is. Nor does a
      // dead supervisor: the reconcile loop (reconciler.ts) puts a new one over the instance, or
      // marks the row crashed when it cannot.
      if ((st.state === 'unknown' && st.supervisorPid === null) || !st.supervisorAlive) {
        return { row, next: { status: row.status, healthy: row.healthy, restarts: row.restarts }, oom: null };
      }
      // OOM kills since the row was written (the supervisor counts them; the figures are its).
      const oom = st.oomKills > row.oomKills && st.lastOom ? { kills: st.oomKills, last: st.lastOom } : null;
      let probe: boolean | null = null;
      if (st.alive) {
        const res = await opts.driver.checkHealth(
          { id: row.id, host: row.host, port: row.port, healthPath: row.environment.application.healthPath },
          probeTimeoutMs,
        );
        probe = res.healthy;
        const n = probe ? 0 : (failures.get(row.id) ?? 0) + 1;
        failures.set(row.id, n);
        // Not yet enough failures in a row: a healthy row keeps its health for now.
        if (!probe && row.healthy && n < failureThreshold) probe = true;
      } else {
        failures.delete(row.id);
      }
      return { row, next: observe(st, probe, row.restarts), oom };
    });
    for (const id of failures.keys()) if (!rows.some((r) => r.id === id)) failures.delete(id);
    const changed = seen.filter(
      ({ row, next, oom }) =>
        row.status !== next.status ||
        row.healthy !== next.healthy ||
        row.restarts !== next.restarts ||
        oom !== null,
    );
    const byEnv = new Map<string, typeof changed>();
    for (const c of changed) byEnv.set(c.row.environmentId, [...(byEnv.get(c.row.environmentId) ?? []), c]);
    const announced: string[] = [];
    for (const [environmentId, list] of byEnv) {
      const wrote = await transact(async (tx) => {
        let n = 0;
        const now = new Date();
        for (const { row, next, oom } of list) {
          // Compare-and-set against what was read: if a deployment moved the row meanwhile (to
          // `stopping`, say), its write wins and this observation is dropped; the next round
          // looks again. Only the health columns are touched, never pools, ids or rows.
          const wrote = await instances.updateIfUnchanged(
            row.id,
            row,
            {
              status: next.status,
              healthy: next.healthy,
              restarts: next.restarts,
              ...(next.healthy ? { lastHealthAt: now } : {}),
              ...(oom ? { oomKills: oom.kills, lastOom: { ...oom.last } } : {}),
            },
            tx,
          );
          n += wrote;
          // Recorded once: the row's count moved with this write, so the next round sees no news.
          if (wrote > 0 && oom && opts.recordOom) {
            await opts.recordOom(tx, {
              environmentId,
              instanceId: row.id,
              pool: row.pool,
              version: row.release.version,
              oomKills: oom.kills,
              oom: oom.last,
            });
          }
        }
        if (n > 0) await opts.engine.announce(tx, null, environmentId);
        return n;
      });
      if (wrote > 0) {
        announced.push(environmentId);
        opts.log.info(
          {
            environmentId,
            instances: list.map(({ row, next, oom }) => ({
              id: row.id,
              from: row.status,
              to: next.status,
              healthy: next.healthy,
              restarts: next.restarts,
              ...(oom ? { oom: oom.last } : {}),
            })),
          },
          'instance health changed',
        );
      }
    }
    return announced;
  }

  const task = createClusterTask({
    url: opts.db.url,
    namespace: LOCK_NAMESPACE,
    name: 'health-monitor',
    intervalMs: opts.intervalMs,
    round: async () => {
      await checkAll();
    },
    onError: (err) => opts.log.warn({ err }, 'instance health check failed'),
  });

  return { start: task.start, stop: task.stop, isLeader: task.isLeader, rounds: task.rounds };
}
export type HealthMonitor = ReturnType<typeof createHealthMonitor>;
