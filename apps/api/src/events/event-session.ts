import {
  type ClientMessage,
  EventStreamClose,
  type EventStreamErrorCode,
  type HeartbeatMessage,
  MAX_TOPICS,
  PingMessage,
  PongMessage,
  type SubscribedMessage,
  SubscribeMessage,
} from '@qubot/api-contract';
import { Ajv } from 'ajv';
import { type BusEvent, type EventBus, type EventFilter, frame, matches, textFrame } from './event-bus.ts';
import type { Audience } from './event-views.ts';
import type { ResolvedTopic, TopicResolver } from './topics.ts';

/** The part of a `ws` WebSocket a session uses (a real socket, injectWS, or a test double). */
export interface SessionSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Buffer, options?: { binary?: boolean }): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface SessionLimits {
  /** Bytes queued on the socket before a live event makes the client "too slow". */
  maxBufferedBytes: number;
  /** Live events held back while a replay runs, before the client is "too slow". */
  maxPendingEvents: number;
  /** After a close frame, how long a client that does not read gets before the TCP is cut. */
  closeGraceMs: number;
  /** How long a replay waits for a slow client to drain before giving up on it. */
  replayStallMs: number;
  /** Topics one socket may watch (one subscription replaces the previous one). */
  maxTopics: number;
  /** Subscribe messages one socket may send per minute (each one reads the database). */
  maxSubscribesPerMinute: number;
  /** Client messages waiting to be handled before the socket is closed (a flood). */
  maxQueuedMessages: number;
  /** Open event stream sockets per user or API token, per API process. */
  maxSocketsPerUser: number;
}

export const DEFAULT_LIMITS: SessionLimits = {
  maxBufferedBytes: 8 * 1024 * 1024,
  maxPendingEvents: 10_000,
  closeGraceMs: 5000,
  replayStallMs: 30_000,
  maxTopics: MAX_TOPICS,
  maxSubscribesPerMinute: 60,
  maxQueuedMessages: 32,
  maxSocketsPerUser: 20,
};

/** What the caller may read, and which payload views it gets; replaced when its role changes. */
export interface SessionAccess {
  /** The single authorization call site: may this caller read this topic's application? */
  authorize(topic: ResolvedTopic): boolean;
  audience: Audience;
}

export interface SessionDeps {
  socket: SessionSocket;
  bus: Pick<EventBus, 'subscribe' | 'lastSeq' | 'committedSeq' | 'readRange'> &
    Partial<Pick<EventBus, 'subscribeEphemeral'>>;
  resolve: TopicResolver;
  access: SessionAccess;
  /**
   * Re-checks the caller's credentials before each subscription (a revoked one must not replay
   * history); false when they are no longer valid, and the hub has closed the socket.
   */
  revalidate?: () => Promise<boolean>;
  limits: SessionLimits;
  log?: { warn(obj: object, msg: string): void };
}

const OPEN = 1;

/** What `ws` keeps inside a WebSocket; used only to check that a direct write is safe. */
interface WsInternals {
  _socket?: { write(chunk: Buffer): boolean; destroyed?: boolean } | null;
  _sender?: { _state?: number; _queue?: unknown[] } | null;
  _extensions?: Record<string, unknown>;
}

/**
 * The TCP socket under a `ws` server socket, when a prebuilt frame may be written to it
 * directly: open, no compression negotiated, nothing queued in ws's sender (so frames stay in
 * order). Otherwise null, and the frame goes through ws.send. One write per socket instead of
 * ws building a header and corking two writes for each of them.
 */
function rawSocket(socket: SessionSocket): { write(chunk: Buffer): boolean } | null {
  const ws = socket as unknown as WsInternals;
  const tcp = ws._socket;
  const sender = ws._sender;
  if (socket.readyState !== OPEN || !tcp || tcp.destroyed || !sender) return null;
  if (sender._state !== 0 || (sender._queue?.length ?? 0) > 0) return null;
  if (ws._extensions && Object.keys(ws._extensions).length > 0) return null;
  return tcp;
}

/** The complete frame of a shared payload, built once and remembered with it. */
const wires = new WeakMap<Buffer, Buffer>();
function wireOf(payload: Buffer): Buffer {
  let wire = wires.get(payload);
  if (!wire) {
    wire = textFrame(payload);
    wires.set(payload, wire);
  }
  return wire;
}
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false });
const SCHEMAS = {
  subscribe: ajv.compile(SubscribeMessage),
  ping: ajv.compile(PingMessage),
  pong: ajv.compile(PongMessage),
} as const;

interface Problem {
  code: EventStreamErrorCode;
  message: string;
  field?: string;
}

/** Why a client message is not acceptable, in the words the error message uses. */
export function checkClientMessage(
  value: unknown,
): { ok: true; msg: ClientMessage } | { ok: false; problem: Problem } {
  const bad = (message: string, field?: string) =>
    ({ ok: false, problem: { code: 'malformed_message', message, ...(field ? { field } : {}) } }) as const;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return bad('a message is a JSON object');
  const type = (value as { type?: unknown }).type;
  if (type !== 'subscribe' && type !== 'ping' && type !== 'pong')
    return bad('type must be "subscribe", "ping" or "pong"', 'type');
  const validate = SCHEMAS[type];
  if (validate(value)) return { ok: true, msg: value as ClientMessage };
  const issue = validate.errors?.[0];
  const path = (issue?.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
  const extra = issue?.params?.additionalProperty;
  if (typeof extra === 'string') return bad(`${extra} is not a known field`, extra);
  const missing = issue?.params?.missingProperty;
  if (typeof missing === 'string') return bad(`${missing} is required`, missing);
  if (path === 'topics' && issue?.keyword === 'maxItems') return bad(`at most ${MAX_TOPICS} topics`, path);
  return bad(`${path || 'message'} ${issue?.message ?? 'is invalid'}`, path || undefined);
}

/**
 * One websocket's subscription. The handover from replay to live is where gaps and
 * duplicates come from, so it is done like this: in one tick, note the bus position P and
 * start collecting live events (all > P); replay the table for since < seq ≤ P; then send the
 * collected events that are newer than the last one sent. Every event is in exactly one of
 * the two, and each goes out in seq order.
 *
 * A resubscription on the same socket is the other place: the client's `since` is what it had
 * when it SENT the message, and the running subscription keeps delivering until the server
 * reads it (issue 8 item 6: `…41,42,42,43…` when the web client added a deployment topic in a
 * rolling deployment). So the socket remembers what it already sent (filter, up to which seq)
 * and the replay skips those events: each event reaches a socket at most once.
 */
export function createEventSession(deps: SessionDeps) {
  const { socket, bus, limits } = deps;
  let access = deps.access;
  let chain: Promise<void> = Promise.resolve();
  let queued = 0;
  let closing = false;
  let generation = 0;
  let unsubscribe: (() => void) | null = null;
  let unsubscribeEphemeral: (() => void) | null = null;
  let subscribed = false;
  let replaying = false;
  let pending: BusEvent[] = [];
  /** Seq of the last event sent (or where the subscription starts): the next event's `prev`. */
  let position = 0;
  let alive = true;
  let filter: EventFilter | null = null;
  let topics: ResolvedTopic[] = [];
  /** Events earlier subscriptions of this socket sent: matching `filter` with seq ≤ `upTo`. */
  let delivered: { filter: EventFilter; upTo: number }[] = [];
  /** Start times of the subscribe messages of the last minute. */
  const subscribeTimes: number[] = [];

  const send = (msg: object) => {
    if (!closing && socket.readyState === OPEN) socket.send(JSON.stringify(msg));
  };
  const sendError = (p: Problem) => send({ type: 'error', ...p });

  function close(code: number, reason: string): void {
    if (closing) return;
    closing = true;
    unsubscribe?.();
    unsubscribe = null;
    unsubscribeEphemeral?.();
    unsubscribeEphemeral = null;
    pending = [];
    if (socket.readyState === OPEN) socket.close(code, reason);
    // A client that does not read never sees the close frame; cut the connection.
    setTimeout(() => socket.terminate(), limits.closeGraceMs).unref();
  }

  function tooSlow(): void {
    deps.log?.warn({ position }, 'event stream client too slow; closing');
    close(EventStreamClose.TooSlow, `client too slow; reconnect with since=${position}`);
  }

  function sendEvent(ev: BusEvent): void {
    if (closing || ev.seq <= position) return;
    const bytes = frame(ev, access.audience, position);
    // Not for this caller's eyes (a type without a view): it is not part of its stream.
    if (bytes === null) return;
    if (socket.bufferedAmount > limits.maxBufferedBytes) {
      tooSlow();
      return;
    }
    const raw = rawSocket(socket);
    if (raw) raw.write(wireOf(bytes));
    else socket.send(bytes, { binary: false });
    position = ev.seq;
  }

  function onLive(ev: BusEvent): void {
    if (!replaying) {
      sendEvent(ev);
      return;
    }
    pending.push(ev);
    if (pending.length > limits.maxPendingEvents) tooSlow();
  }

  const alreadySent = (ev: BusEvent) => delivered.some((d) => ev.seq <= d.upTo && matches(d.filter, ev));

  async function drained(): Promise<boolean> {
    const until = Date.now() + limits.replayStallMs;
    while (socket.bufferedAmount > limits.maxBufferedBytes / 2) {
      if (closing || Date.now() > until) return false;
      // Replay is pulled from the table, so it can wait for the client instead of dropping it.
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /** A topic the caller may not read gets the answer of one that does not exist (item 13). */
  const unknownTopic = (topic: string, i: number): Problem => ({
    code: 'unknown_topic',
    message: `unknown topic ${topic}`,
    field: `topics[${i}]`,
  });

  async function subscribe(msg: Extract<ClientMessage, { type: 'subscribe' }>): Promise<void> {
    const now = Date.now();
    while (subscribeTimes.length > 0 && (subscribeTimes[0] ?? 0) <= now - 60_000) subscribeTimes.shift();
    if (subscribeTimes.length >= limits.maxSubscribesPerMinute)
      return sendError({
        code: 'rate_limited',
        message: `at most ${limits.maxSubscribesPerMinute} subscribe messages a minute; this one was ignored`,
      });
    subscribeTimes.push(now);
    if (msg.topics.length > limits.maxTopics)
      return sendError({
        code: 'malformed_message',
        message: `at most ${limits.maxTopics} topics`,
        field: 'topics',
      });
    if (deps.revalidate && !(await deps.revalidate())) return;
    if (closing) return;
    const resolved: ResolvedTopic[] = [];
    for (const [i, t] of msg.topics.entries()) {
      const r = await deps.resolve(t);
      if (!r.ok) {
        // Same message whether the name is unknown or the caller may not read it.
        return sendError({ code: 'unknown_topic', message: r.message, field: `topics[${i}]` });
      }
      if (!access.authorize(r.topic)) return sendError(unknownTopic(t, i));
      resolved.push(r.topic);
    }
    const since = msg.since ?? null;
    if (since !== null) {
      const newest = await bus.committedSeq();
      if (since > newest)
        return sendError({
          code: 'since_in_future',
          message: `since ${since} is ahead of the newest event (${newest}); resubscribe without since or with a seq you received`,
          field: 'since',
        });
    }
    if (closing) return;

    // The previous subscription (if any) ends here; a failed subscribe above left it running.
    unsubscribe?.();
    unsubscribeEphemeral?.();
    unsubscribeEphemeral = null;
    const gen = ++generation;
    const ids = (k: ResolvedTopic['kind']) => new Set(resolved.filter((t) => t.kind === k).map((t) => t.id));
    const next: EventFilter = {
      applicationIds: ids('application'),
      environmentIds: ids('environment'),
      deploymentIds: ids('deployment'),
      hosts: resolved.some((t) => t.kind === 'hosts'),
    };
    const upTo = bus.lastSeq();
    const start = since ?? upTo;
    // What the old subscription sent up to now must not be replayed again; older records the
    // replay cannot reach (≤ start) are dropped. The list is bounded by back-to-back
    // resubscriptions that each start before the previous one's position.
    if (filter && subscribed) delivered.push({ filter, upTo: position });
    delivered = delivered.filter((d) => d.upTo > start).slice(-16);
    filter = next;
    topics = resolved;
    pending = [];
    replaying = true;
    unsubscribe = bus.subscribe(next, onLive);
    subscribed = true;
    position = start;
    const ack: SubscribedMessage = {
      type: 'subscribed',
      topics: resolved.map((t) => t.topic),
      since,
      lastSeq: Math.max(upTo, position),
    };
    send(ack);
    unsubscribeEphemeral =
      bus.subscribeEphemeral?.(
        { environmentIds: next.environmentIds, deploymentIds: next.deploymentIds },
        (m) => {
          // A sample, not an event: a client that is behind simply misses it.
          if (!closing && socket.readyState === OPEN && socket.bufferedAmount <= limits.maxBufferedBytes / 2)
            socket.send(m.text);
        },
      ) ?? null;

    let after = position;
    while (after < upTo) {
      let page: BusEvent[];
      try {
        page = await bus.readRange(next, after, upTo);
      } catch (err) {
        deps.log?.warn({ err }, 'event replay failed');
        sendError({ code: 'unavailable', message: 'the database is unavailable; reconnect shortly' });
        return close(1011, `replay failed; reconnect with since=${position}`);
      }
      if (gen !== generation || closing) return;
      for (const ev of page) if (!alreadySent(ev)) sendEvent(ev);
      const last = page.at(-1);
      if (!last) break;
      after = last.seq;
      if (!(await drained())) return tooSlow();
      if (gen !== generation || closing) return;
    }
    // Everything older than upTo is behind us; live events are all newer.
    delivered = [];
    replaying = false;
    const live = pending;
    pending = [];
    for (const ev of live) sendEvent(ev);
  }

  async function handle(raw: string): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return sendError({ code: 'malformed_message', message: 'the message is not valid JSON' });
    }
    const checked = checkClientMessage(value);
    if (!checked.ok) return sendError(checked.problem);
    const msg = checked.msg;
    if (msg.type === 'subscribe') {
      try {
        await subscribe(msg);
      } catch (err) {
        deps.log?.warn({ err }, 'event subscribe failed');
        sendError({ code: 'unavailable', message: 'the database is unavailable; try again shortly' });
      }
    } else if (msg.type === 'ping') {
      heartbeatMessage();
    }
  }

  function heartbeatMessage(): void {
    // While live, every matching event up to the bus position has been sent: a safe resume point.
    const seq = !subscribed ? bus.lastSeq() : replaying ? position : Math.max(position, bus.lastSeq());
    const msg: HeartbeatMessage = { type: 'heartbeat', seq };
    send(msg);
  }

  return {
    /** Messages are handled one after the other, in arrival order; a flood closes the socket. */
    onMessage(raw: string): void {
      alive = true;
      if (closing) return;
      if (queued >= limits.maxQueuedMessages) {
        close(
          EventStreamClose.PolicyViolation,
          `more than ${limits.maxQueuedMessages} messages waiting; slow down`,
        );
        return;
      }
      queued++;
      chain = chain
        .then(() => handle(raw))
        .finally(() => {
          queued--;
        });
    },
    onPong(): void {
      alive = true;
    },
    /** Called on every heartbeat tick: false when the peer stayed silent since the last one. */
    heartbeat(): boolean {
      if (!alive) return false;
      alive = false;
      heartbeatMessage();
      return true;
    },
    close,
    /**
     * The caller's role or scope changed (issue 8 item 7): keep streaming with the new views
     * when it may still read every topic it watches, otherwise end the subscription.
     */
    setAccess(next: SessionAccess): boolean {
      access = next;
      if (topics.every((t) => next.authorize(t))) return true;
      close(EventStreamClose.PermissionsChanged, `permissions changed; resubscribe with since=${position}`);
      return false;
    },
    /** The socket is gone: stop receiving events. */
    dispose(): void {
      closing = true;
      unsubscribe?.();
      unsubscribe = null;
      unsubscribeEphemeral?.();
      unsubscribeEphemeral = null;
      pending = [];
    },
    position: () => position,
  };
}
export type EventSession = ReturnType<typeof createEventSession>;
