import type { Database } from '@qubot/db';

/**
 * Serialised read views (the environment pipeline the dashboard and CLI poll), kept while nothing
 * they show has changed. Every change to what such a view shows is committed together with an
 * event (`environment.updated`, `deployment.*`, …), and each event is announced by a NOTIFY
 * delivered after its commit, so:
 *
 * - While the event bus's LISTEN connection is up, a view is current until the next event
 *   notification arrives: a read costs no database round trip at all. A change committed by
 *   another process (or by this one's orchestrator) is seen once its notification arrives
 *   (about a millisecond: `bench/README.md`, "The read path").
 * - For a moment after a change made through this process's API (`localWrite()`, called before
 *   its response is sent), and whenever the LISTEN connection is down, the read checks the
 *   event counter instead — one indexed single-row read, shared by concurrent requests — so a
 *   client always reads its own writes in the very next read, and no missed notification can
 *   keep a view stale.
 *
 * `maxAgeMs` bounds how long a change that no event announces (none is known) could stay hidden.
 * No read waits for that age limit while reads keep coming: a read that finds its view current but
 * older than `refreshAfterMs` (half of `maxAgeMs`) is answered from it at once and starts one
 * rebuild in the background, which replaces the view if nothing changed meanwhile. Before, every
 * request arriving during the once-a-second rebuild waited for it (16–190 ms under load): that
 * was the pipeline read's tail latency (bench/README.md, "The read path").
 */
export function createViewCache(deps: {
  db: Pick<Database, 'pool'>;
  maxAgeMs?: number;
  /** A read of a current view older than this starts a background rebuild (default maxAgeMs / 2). */
  refreshAfterMs?: number;
  maxEntries?: number;
  /** How long after a change made through this API process reads check the counter. */
  localWriteMs?: number;
  /** Bodies (Buffers) kept at most, in bytes, whatever the number of entries. */
  maxBytes?: number;
  /** false: every read builds (QUBOT_VIEW_CACHE=off; benchmarks of the database path). */
  enabled?: boolean;
}) {
  const enabled = deps.enabled ?? true;
  const maxAgeMs = deps.maxAgeMs ?? 1000;
  const refreshAfterMs = deps.refreshAfterMs ?? maxAgeMs / 2;
  const maxEntries = deps.maxEntries ?? 1000;
  const maxBytes = deps.maxBytes ?? 32 * 1024 * 1024;
  const localWriteMs = deps.localWriteMs ?? 1000;
  // Notification mode: on while the event bus listens (`listening(true)`); `epoch` moves on every
  // change of it, so a view tagged before a gap in notifications never counts as current.
  let listening = false;
  let epoch = 0;
  let notified = 0;
  let checkCounterUntil = 0;
  interface Entry {
    seq: string;
    /** When its build started: what it shows was read after this. */
    builtAt: number;
    body: Promise<unknown>;
    bytes: number;
    /** The body has resolved (a build still running is never refreshed ahead). */
    settled: boolean;
    /** A background rebuild of it is running. */
    refreshing: boolean;
  }
  const entries = new Map<string, Entry>();
  // Bytes of the Buffer bodies held (a replaced body's bytes are taken off): list pages (up to 200
  // deployments) are cached too, keyed by their query, so the entry count alone does not bound the
  // memory.
  let bytes = 0;
  let hits = 0;
  let builds = 0;
  let refreshes = 0;

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

  /**
   * Rebuilds `entry` while reads go on being answered from it. The rebuild read the database after
   * `entry.seq` was current, so it is at least that new: it takes the entry's place under the same
   * seq, unless the entry was replaced or dropped meanwhile (a change arrived: that read built a
   * fresh view and waited for it). A failed rebuild leaves the entry as it was, to its max age.
   */
  function refreshAhead(key: string, entry: Entry, build: () => Promise<unknown>): void {
    entry.refreshing = true;
    builds++;
    refreshes++;
    const builtAt = Date.now();
    const body = build();
    body.then(
      (value) => {
        if (entries.get(key) !== entry) return;
        const next: Entry = { seq: entry.seq, builtAt, body, bytes: 0, settled: true, refreshing: false };
        entries.set(key, next);
        if (!Buffer.isBuffer(value)) return;
        next.bytes = value.length;
        bytes += value.length - entry.bytes;
      },
      () => {
        entry.refreshing = false;
      },
    );
  }

  return {
    /** The view under `key`: cached if still current, else `build()` (one build per change, shared). */
    async get<T>(key: string, build: () => Promise<T>): Promise<T> {
      if (!enabled) {
        builds++;
        return build();
      }
      // Read before building: a view built after this read is at least this new.
      const seq =
        listening && Date.now() >= checkCounterUntil ? `n${epoch}:${notified}` : `c${await committedSeq()}`;
      const now = Date.now();
      const entry = entries.get(key);
      if (entry && entry.seq === seq && now - entry.builtAt < maxAgeMs) {
        hits++;
        if (entry.settled && !entry.refreshing && now - entry.builtAt >= refreshAfterMs)
          refreshAhead(key, entry, build);
        return entry.body as Promise<T>;
      }
      builds++;
      const body = build();
      if (entries.size >= maxEntries || bytes > maxBytes) {
        entries.clear();
        bytes = 0;
      } else if (entry) {
        bytes -= entry.bytes;
      }
      const fresh: Entry = { seq, builtAt: now, body, bytes: 0, settled: false, refreshing: false };
      entries.set(key, fresh);
      body.then(
        (value) => {
          fresh.settled = true;
          if (entries.get(key) !== fresh || !Buffer.isBuffer(value)) return;
          fresh.bytes = value.length;
          bytes += value.length;
        },
        // A failed build (404, database away) is not kept.
        () => {
          if (entries.get(key) === fresh) entries.delete(key);
        },
      );
      return body;
    },
    /** An event notification arrived (event-bus `onNotified`): views built before it are stale. */
    notified(seq: number): void {
      if (seq > notified) notified = seq;
      else epoch++;
    },
    /** The event bus's LISTEN connection came up or went down (event-bus `onListening`). */
    listening(up: boolean): void {
      listening = up;
      epoch++;
    },
    /** A change was made through this process's API: its client's next read must see it. */
    localWrite(): void {
      checkCounterUntil = Date.now() + localWriteMs;
    },
    /** Drop everything (tests; an application renamed or deleted also moves the counter). */
    clear(): void {
      entries.clear();
      bytes = 0;
    },
    stats: () => ({ hits, builds, refreshes, seqReads, entries: entries.size, bytes, listening }),
  };
}
export type ViewCache = ReturnType<typeof createViewCache>;
