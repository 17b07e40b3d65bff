// A periodic task that runs in exactly one process of the cluster: whoever holds a PostgreSQL
// advisory lock on a dedicated connection. The others try again each interval and take over as
// soon as the holder's connection dies (PostgreSQL releases the lock with it). Used by the metrics
// sampler and the instance health monitor.
import pg from 'pg';

export interface ClusterTaskOptions {
  /** Database URL for the dedicated connection that holds the lock. */
  url: string;
  /** Lock identity: (namespace, hashtext(name)). */
  namespace: number;
  name: string;
  intervalMs: number;
  /** One round, run only while this process holds the lock; receives the lock's connection. */
  round: (client: pg.Client) => Promise<void>;
  /** Called when a round throws; the task goes on at the next interval. */
  onError: (err: unknown) => void;
}

export function createClusterTask(opts: ClusterTaskOptions) {
  let client: pg.Client | null = null;
  let leader = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let inFlight: Promise<void> | null = null;
  let rounds = 0;

  function drop(c: pg.Client) {
    if (client !== c) return;
    client = null;
    leader = false;
    c.end().catch(() => {});
  }

  async function becomeLeader(): Promise<pg.Client | null> {
    if (leader && client) return client;
    const c = new pg.Client({ connectionString: opts.url });
    c.on('error', () => drop(c));
    c.on('end', () => drop(c));
    try {
      await c.connect();
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [
        opts.namespace,
        opts.name,
      ]);
      if (!rows[0]?.ok || stopped) {
        await c.end().catch(() => {});
        return null;
      }
      client = c;
      leader = true;
      return c;
    } catch {
      await c.end().catch(() => {});
      return null;
    }
  }

  function schedule() {
    timer = setTimeout(() => {
      inFlight = tick().finally(() => {
        inFlight = null;
      });
    }, opts.intervalMs);
    timer.unref();
  }

  async function tick(): Promise<void> {
    timer = null;
    if (stopped) return;
    try {
      const c = await becomeLeader();
      if (c) {
        await opts.round(c);
        rounds++;
      }
    } catch (err) {
      opts.onError(err);
    }
    if (!stopped) schedule();
  }

  return {
    start(): void {
      if (timer || stopped) return;
      schedule();
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
    /** Whether this process is the one running the task (tests, diagnostics). */
    isLeader: () => leader,
    /** Rounds completed as leader (tests await rounds instead of sleeping). */
    rounds: () => rounds,
  };
}
