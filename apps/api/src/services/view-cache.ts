import type { Database } from '@qubot/db';

/**
 * Serialised read views (the environment pipeline the dashboard and CLI poll), kept while no
 * event has been committed since they were built. Every change to what such a view shows is
 * committed together with an event (`environment.updated`, `deployment.*`, …), and events are
 * numbered gap-free by event_counter, so "the counter has not moved" means "nothing announced
 * has changed". Checking the counter is one indexed single-row read per request instead of the
 * view's queries, and a change is visible in the very next read — also one made by another
 * process, and also before this process's event bus has dispatched it. `maxAgeMs` bounds how
 * long a change that no event announces (none is known) could stay hidden.
 */
export function createViewCache(deps: {
  db: Pick<Database, 'pool'>;
  maxAgeMs?: number;
  maxEntries?: number;
}) {
  const maxAgeMs = deps.maxAgeMs ?? 1000;
  const maxEntries = deps.maxEntries ?? 1000;
  const entries = new Map<string, { seq: string; builtAt: number; body: Promise<string> }>();
  let hits = 0;
  let builds = 0;

  function readSeq(): Promise<string> {
    // A named statement: parsed and planned once per connection.
    return deps.db.pool
      .query<{ v: string }>({
        name: 'qubot_view_cache_seq',
        text: 'SELECT value::text AS v FROM event_counter WHERE id = 1',
      })
      .then(({ rows }) => rows[0]?.v ?? '0');
  }

  // Concurrent reads share counter reads, group-commit style: a read that is already running may
  // have looked before this request arrived (and miss a change its caller just made), so a
  // request joins only the read that starts after it. Under load that is one counter read per
  // round trip for all waiting requests, instead of one each.
  let running: Promise<string> | null = null;
  let queued: Promise<string> | null = null;
  let seqReads = 0;
  function start(): Promise<string> {
    seqReads++;
    const p = readSeq().finally(() => {
      if (running === p) running = null;
    });
    running = p;
    return p;
  }
  function committedSeq(): Promise<string> {
    if (!running) return start();
    queued ??= running
      .catch(() => {})
      .then(() => {
        queued = null;
        return start();
      });
    return queued;
  }

  return {
    /** The view under `key`: cached if still current, else `build()` (one build per change, shared). */
    async get(key: string, build: () => Promise<string>): Promise<string> {
      // Read before building: a view built after this read is at least this new.
      const seq = await committedSeq();
      const now = Date.now();
      const entry = entries.get(key);
      if (entry && entry.seq === seq && now - entry.builtAt < maxAgeMs) {
        hits++;
        return entry.body;
      }
      builds++;
      const body = build();
      if (entries.size >= maxEntries) entries.clear();
      const fresh = { seq, builtAt: now, body };
      entries.set(key, fresh);
      // A failed build (404, database away) is not kept.
      body.catch(() => {
        if (entries.get(key) === fresh) entries.delete(key);
      });
      return body;
    },
    /** Drop everything (tests; an application renamed or deleted also moves the counter). */
    clear(): void {
      entries.clear();
    },
    stats: () => ({ hits, builds, seqReads, entries: entries.size }),
  };
}
export type ViewCache = ReturnType<typeof createViewCache>;
