import { backoffDelay } from '@qubot/core';
import { createApplicationRepo, createEnvironmentRepo, type Database, lastEventSeq } from '@qubot/db';
import pg from 'pg';
import { type Audience, viewFor } from './event-views.ts';
import { CREDENTIALS_CHANNEL, type CredentialChange, parseCredentialChange } from './revocation.ts';
import { createTopicNames, type TopicNames } from './topics.ts';

/** An event as the bus hands it to subscribers: read once per process, serialised once per audience. */
export interface BusEvent {
  seq: number;
  type: string;
  applicationId: string | null;
  environmentId: string | null;
  deploymentId: string | null;
  /** When it was stored (ms since the epoch). */
  createdAt: number;
  /** The stored payload (the writer's full view); never sent as is, see frame(). */
  payload: unknown;
  /** `,"event":…,"topics":…` — the same for every audience. */
  head: string;
  /** `,"at":…}` */
  end: string;
  /** Frames built so far, by audience and `prev`: every socket of a group writes the same bytes. */
  frames: Map<string, Buffer | null>;
  /** The `,"data":…` part per audience, or null when the audience may not see this event. */
  tails: Map<Audience, string | null>;
  /** The frame built last, checked first. */
  last: { audience: Audience; prev: number; bytes: Buffer | null } | null;
}

/** Ids a subscription watches; an event matches when any of its columns is in the sets. */
export interface EventFilter {
  applicationIds: ReadonlySet<string>;
  environmentIds: ReadonlySet<string>;
  deploymentIds: ReadonlySet<string>;
  /** The `hosts` topic: `host.*` events, which belong to no application (admins only). */
  hosts?: boolean;
}

export type EventListener = (event: BusEvent) => void;

export interface EventBusOptions {
  db: Database;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Rows read per query, for both live fan-out and replay. */
  pageSize?: number;
  /** LISTEN connection re-connect back-off (ms). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** A safety read this often even without NOTIFY (ms); 0 disables. */
  pollMs?: number;
}

export const NOTIFY_CHANNEL = 'qubot_events';
/** Ephemeral samples (router metrics): forwarded to sockets as they are, never stored or replayed. */
export const METRICS_CHANNEL = 'qubot_metrics';

/** Which ephemeral messages a subscription gets: its environments' and deployments'. */
export interface EphemeralFilter {
  environmentIds: ReadonlySet<string>;
  deploymentIds: ReadonlySet<string>;
}
/** An ephemeral message: its ids (for matching), the parsed body, and the wire text sent as is. */
export interface EphemeralMessage {
  environmentId: string;
  deploymentId: string | null;
  body: Record<string, unknown>;
  text: string;
}

/** A `qubot_metrics` payload, or null when it is not one of ours. */
export function parseEphemeral(text: string): EphemeralMessage | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  if (b.type !== 'metrics' || typeof b.environmentId !== 'string') return null;
  const dep = b.deployment as { id?: unknown } | null | undefined;
  return {
    environmentId: b.environmentId,
    deploymentId: typeof dep?.id === 'string' ? dep.id : null,
    body: b,
    text,
  };
}

export function matches(
  filter: EventFilter,
  ev: Pick<BusEvent, 'applicationId' | 'environmentId' | 'deploymentId' | 'type'>,
) {
  return (
    (ev.applicationId !== null && filter.applicationIds.has(ev.applicationId)) ||
    (ev.environmentId !== null && filter.environmentIds.has(ev.environmentId)) ||
    (ev.deploymentId !== null && filter.deploymentIds.has(ev.deploymentId)) ||
    (filter.hosts === true && ev.type.startsWith('host.'))
  );
}

/**
 * The full `event` message for a socket of `audience` whose previous event was `prev`, or null
 * when that audience may not see the event. Built once per (event, audience, prev) and shared:
 * sockets with the same topics have delivered the same events, so nearly all share one `prev`.
 */
export function frame(ev: BusEvent, audience: Audience, prev: number): Buffer | null {
  // The common case: the same frame as the socket before (no key string per socket).
  const last = ev.last;
  if (last !== null && last.prev === prev && last.audience === audience) return last.bytes;
  const key = `${audience}:${prev}`;
  const cached = ev.frames.get(key);
  if (cached !== undefined) {
    ev.last = { audience, prev, bytes: cached };
    return cached;
  }
  let tail = ev.tails.get(audience);
  if (tail === undefined) {
    const data = viewFor(ev.type, ev.payload, audience);
    tail = data === undefined ? null : `${ev.head},"data":${JSON.stringify(data ?? null)}${ev.end}`;
    ev.tails.set(audience, tail);
  }
  const bytes = tail === null ? null : Buffer.from(`{"type":"event","seq":${ev.seq},"prev":${prev}${tail}`);
  ev.frames.set(key, bytes);
  ev.last = { audience, prev, bytes };
  return bytes;
}

/**
 * The complete websocket text frame (header + payload) of `payload`, unmasked as a server sends
 * it (RFC 6455 §5.2): built once per shared payload and written as is to every socket.
 */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x81; // FIN + text
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(out, head);
  return out;
}

/** One key per distinct filter: subscriptions with the same topics are matched once per event. */
export function filterKey(f: EventFilter): string {
  const ids = (s: ReadonlySet<string>) => [...s].sort().join(',');
  return `a:${ids(f.applicationIds)}|e:${ids(f.environmentIds)}|d:${ids(f.deploymentIds)}${f.hosts ? '|hosts' : ''}`;
}

interface Row {
  seq: string;
  type: string;
  application_id: string | null;
  environment_id: string | null;
  deployment_id: string | null;
  payload: unknown;
  created_at: Date;
}

/**
 * One per API process (DESIGN §5): a dedicated LISTEN connection learns that events were
 * committed; the bus then reads the new rows ONCE, in seq order, and hands each to the
 * matching subscribers. Because seq is gap-free in commit order, "everything after the last
 * seq dispatched" is exactly what is new, also after the LISTEN connection was lost.
 */
export function createEventBus(opts: EventBusOptions) {
  const { db } = opts;
  const pageSize = opts.pageSize ?? 500;
  const reconnectMin = opts.reconnectMinMs ?? 100;
  const reconnectMax = opts.reconnectMaxMs ?? 10_000;
  const pollMs = opts.pollMs ?? 5000;
  const names: TopicNames = createTopicNames({
    applications: createApplicationRepo(db.prisma),
    environments: createEnvironmentRepo(db.prisma),
  });
  /** Subscriptions grouped by filter: an event is matched once per group, not once per socket. */
  const groups = new Map<string, { filter: EventFilter; members: Set<EventListener> }>();
  const credentialHooks: ((change: CredentialChange | null) => void)[] = [];
  const dispatchHooks: ((createdAt: number) => void)[] = [];
  const notifyHooks: ((seq: number) => void)[] = [];
  const listeningHooks: ((listening: boolean) => void)[] = [];
  let listening = false;
  const setListening = (up: boolean) => {
    if (listening === up) return;
    listening = up;
    for (const hook of listeningHooks) hook(up);
  };
  const ephemeralListeners = new Set<{ filter: EphemeralFilter; listener: (m: EphemeralMessage) => void }>();
  const ephemeralHooks: ((m: EphemeralMessage) => void)[] = [];

  function dispatchEphemeral(text: string): void {
    const m = parseEphemeral(text);
    if (!m) return;
    for (const hook of ephemeralHooks) hook(m);
    for (const l of ephemeralListeners) {
      if (
        l.filter.environmentIds.has(m.environmentId) ||
        (m.deploymentId !== null && l.filter.deploymentIds.has(m.deploymentId))
      )
        l.listener(m);
    }
  }

  let lastDispatched = 0;
  let started = false;
  let stopped = false;
  let client: pg.Client | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let pollTimer: NodeJS.Timeout | null = null;
  let attempt = 0;
  // Single-flight reads: a notification during a read asks for one more round.
  let draining: Promise<void> | null = null;
  let again = false;
  let gapSince: number | null = null;

  async function readRows(sql: string, params: unknown[]): Promise<BusEvent[]> {
    const { rows } = await db.pool.query<Row>(sql, params);
    if (rows.length === 0) return [];
    await names.load(rows);
    return rows.map((r) => {
      const topics = r.type.startsWith('host.')
        ? ['hosts']
        : names.topicsOf(r.application_id, r.environment_id, r.deployment_id);
      return {
        seq: Number(r.seq),
        type: r.type,
        applicationId: r.application_id,
        environmentId: r.environment_id,
        deploymentId: r.deployment_id,
        createdAt: r.created_at.getTime(),
        payload: r.payload ?? null,
        head: `,"event":${JSON.stringify(r.type)},"topics":${JSON.stringify(topics)}`,
        end: `,"at":${JSON.stringify(r.created_at.toISOString())}}`,
        frames: new Map(),
        tails: new Map(),
        last: null,
      };
    });
  }

  const COLUMNS = 'seq, type, application_id, environment_id, deployment_id, payload, created_at';

  async function drainOnce(): Promise<boolean> {
    const batch = await readRows(`SELECT ${COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, [
      lastDispatched,
      pageSize,
    ]);
    for (const ev of batch) {
      if (ev.seq !== lastDispatched + 1) {
        // Cannot happen with qubot_next_event_seq; if rows were removed by hand, wait a moment
        // for a late commit, then move on rather than stall every client forever.
        gapSince ??= Date.now();
        if (Date.now() - gapSince < 2000) {
          setTimeout(kick, 100).unref();
          return false;
        }
        opts.log?.warn({ from: lastDispatched, to: ev.seq }, 'event seq gap skipped');
      }
      gapSince = null;
      for (const g of groups.values()) {
        if (matches(g.filter, ev)) for (const listener of g.members) listener(ev);
      }
      lastDispatched = ev.seq;
      for (const hook of dispatchHooks) hook(ev.createdAt);
    }
    return batch.length === pageSize;
  }

  async function drain(): Promise<void> {
    do {
      again = false;
      try {
        while (!stopped && (await drainOnce())) {}
      } catch (err) {
        // The database is away; the LISTEN reconnect (or the poll) brings us back here.
        opts.log?.warn({ err }, 'event bus read failed');
        return;
      }
    } while (again && !stopped);
  }

  function kick(): void {
    if (stopped || !started) return;
    if (draining !== null) {
      again = true;
      return;
    }
    draining = drain().finally(() => {
      draining = null;
    });
  }

  async function listen(): Promise<void> {
    const c = new pg.Client({ connectionString: db.url });
    client = c;
    c.on('error', (err) => {
      opts.log?.warn({ err }, 'event LISTEN connection failed');
      if (client === c) setListening(false);
      reconnect(c);
    });
    c.on('end', () => {
      if (client === c) setListening(false);
      reconnect(c);
    });
    c.on('notification', (msg) => {
      if (msg.channel === NOTIFY_CHANNEL) {
        const seq = Number(msg.payload);
        for (const hook of notifyHooks) hook(seq);
        if (seq > lastDispatched) kick();
      } else if (msg.channel === METRICS_CHANNEL && msg.payload) dispatchEphemeral(msg.payload);
      else if (msg.channel === CREDENTIALS_CHANNEL && msg.payload) {
        const change = parseCredentialChange(msg.payload);
        if (change) for (const hook of credentialHooks) hook(change);
      }
    });
    await c.connect();
    await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
    await c.query(`LISTEN ${METRICS_CHANNEL}`);
    await c.query(`LISTEN ${CREDENTIALS_CHANNEL}`);
    attempt = 0;
    if (client === c && !stopped) setListening(true);
  }

  function reconnect(dead: pg.Client): void {
    if (client !== dead || stopped) return;
    client = null;
    dead.end().catch(() => {});
    reconnectTimer = setTimeout(
      () => {
        reconnectTimer = null;
        listen()
          // NOTIFYs sent while we were away are lost: catch up from the last seq dispatched,
          // and re-check every open socket's credentials (a revocation may have been missed).
          .then(() => {
            kick();
            for (const hook of credentialHooks) hook(null);
          })
          .catch(() => {
            if (client) reconnect(client);
          });
      },
      backoffDelay(attempt++, { baseMs: reconnectMin, maxMs: reconnectMax }, Math.random()),
    );
    reconnectTimer.unref();
  }

  return {
    /** LISTEN first, then read the position, so nothing committed in between is missed. */
    async start(): Promise<void> {
      if (started) return;
      await listen();
      lastDispatched = Number(await lastEventSeq(db.prisma));
      started = true;
      if (pollMs > 0) {
        pollTimer = setInterval(kick, pollMs);
        pollTimer.unref();
      }
      kick();
    },

    async stop(): Promise<void> {
      stopped = true;
      setListening(false);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (pollTimer) clearInterval(pollTimer);
      groups.clear();
      ephemeralListeners.clear();
      const c = client;
      client = null;
      await draining;
      await c?.end().catch(() => {});
    },

    /**
     * Events dispatched after this call go to `listener`. Together with `lastSeq()` read in the
     * same tick, that splits history exactly: ≤ lastSeq is in the table, > lastSeq comes here.
     */
    subscribe(filter: EventFilter, listener: EventListener): () => void {
      const key = filterKey(filter);
      let group = groups.get(key);
      if (!group) {
        group = { filter, members: new Set() };
        groups.set(key, group);
      }
      const g = group;
      g.members.add(listener);
      return () => {
        g.members.delete(listener);
        if (g.members.size === 0 && groups.get(key) === g) groups.delete(key);
      };
    },

    /**
     * Credential changes from any API process (revoke, logout, password, disable, role), and
     * `null` after the LISTEN connection came back (changes may have been missed: re-check all).
     */
    onCredentialsChanged(hook: (change: CredentialChange | null) => void): void {
      credentialHooks.push(hook);
    },

    /** Ephemeral messages (metrics samples) for these environments/deployments, from now on. */
    subscribeEphemeral(filter: EphemeralFilter, listener: (m: EphemeralMessage) => void): () => void {
      const entry = { filter, listener };
      ephemeralListeners.add(entry);
      return () => {
        ephemeralListeners.delete(entry);
      };
    },

    /** Every ephemeral message this process receives (the metrics history). */
    onEphemeral(hook: (m: EphemeralMessage) => void): void {
      ephemeralHooks.push(hook);
    },

    /**
     * Every event notification this process receives (its seq), as it arrives: before the event
     * is read and dispatched. Caches invalidate on it (services/view-cache.ts).
     */
    onNotified(hook: (seq: number) => void): void {
      notifyHooks.push(hook);
    },

    /**
     * Whether the LISTEN connection is up now, and every change of it. While it is down,
     * notifications are lost: whatever relies on them must not (view and credential caches).
     */
    isListening: () => listening,
    onListening(hook: (listening: boolean) => void): void {
      listeningHooks.push(hook);
    },

    /** Called once per event dispatched (metrics). */
    onDispatch(hook: (createdAt: number) => void): void {
      dispatchHooks.push(hook);
    },

    /** The last seq handed to subscribers. */
    lastSeq: () => lastDispatched,

    /** The newest committed seq (may be ahead of lastSeq() for a moment). */
    committedSeq: async () => Number(await lastEventSeq(db.prisma)),

    /** Stored events matching the filter with after < seq ≤ upTo, in order; one page. */
    async readRange(filter: EventFilter, after: number, upTo: number, limit = pageSize): Promise<BusEvent[]> {
      return readRows(
        `SELECT ${COLUMNS} FROM events
          WHERE seq > $1 AND seq <= $2
            AND (application_id = ANY($3::uuid[]) OR environment_id = ANY($4::uuid[]) OR deployment_id = ANY($5::uuid[])
                 OR ($7::boolean AND type LIKE 'host.%'))
          ORDER BY seq LIMIT $6`,
        [
          after,
          upTo,
          [...filter.applicationIds],
          [...filter.environmentIds],
          [...filter.deploymentIds],
          limit,
          filter.hosts === true,
        ],
      );
    },

    /** Ask for a read now (tests, and writers in this process that want no NOTIFY round-trip). */
    poke: kick,

    names,
    subscriberCount: () => {
      let n = 0;
      for (const g of groups.values()) n += g.members.size;
      return n;
    },
    groupCount: () => groups.size,
  };
}

export type EventBus = ReturnType<typeof createEventBus>;
