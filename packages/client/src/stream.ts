import { EventStreamClose, type MetricsMessage } from '@qubot/api-contract';
import { type BackoffPolicy, backoffDelay } from '@qubot/core';
import { isGap, type LiveEvent, parseStreamMessage, subscribeMessage } from './stream-messages.ts';

/** What the stream needs of a socket: the WHATWG WebSocket (browsers) and `ws` (Node) both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string | Buffer }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
const OPEN = 1;

export type StreamStatus = 'idle' | 'connecting' | 'open' | 'closed';

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface EventStreamOptions {
  url: string;
  /** Opens a socket; default `new WebSocket(url)` (browsers). Node passes `ws` with its headers. */
  connect?: (url: string) => WebSocketLike;
  /** Each new event once, in `seq` order, without the replay overlap of a reconnect. */
  onEvent(event: LiveEvent): void;
  /** The server confirmed a subscription; `first` for the first one since start (or a reset). */
  onSubscribed?(info: { since: number | null; lastSeq: number | null; first: boolean }): void;
  onMetrics?(message: MetricsMessage): void;
  /** The server no longer knows our seq (restored database): read the state afresh. */
  onReset?(): void;
  /** An `error` message other than `since_in_future` and `unavailable`; return 'stop' to end the stream. */
  onServerError?(error: { code: string; message: string; field?: string }): 'stop' | undefined;
  /** The socket closed; return 'stop' to end the stream instead of reconnecting. */
  onClose?(info: CloseInfo): 'stop' | undefined;
  onStatus?(status: StreamStatus): void;
  /**
   * Runs after the back-off delay, before reconnecting (the CLI reads the state over REST there,
   * so a watch keeps going while the stream is down); resolve true to end the stream.
   */
  beforeReconnect?(info: { attempt: number; reason: string }): Promise<boolean> | boolean;
  backoff?: BackoffPolicy;
  /** 0..1 for jittered back-off (browsers: many tabs reconnect at once); none: exact delays. */
  random?: () => number;
  /** Send a ping this often (ms); the server answers with a heartbeat. Default: no pings. */
  pingMs?: number;
  /** Silence this long means a dead peer (armed at open when pinging, else once heartbeats came). */
  deadAfterMs?: number;
  /** A connection open this long counts as healthy: the back-off starts again from its base. */
  stableMs?: number;
}

export interface EventStream {
  start(): void;
  stop(): void;
  /** Adds topics (reference-counted); returns a function that removes them again. */
  addTopics(topics: readonly string[]): () => void;
  /** The last seq applied; a reconnect resumes after it. */
  lastSeq(): number | null;
}

/**
 * The resumable event stream (DESIGN §5): subscribes with `since`, drops the replay overlap,
 * resubscribes on a gap, detects a dead peer, and reconnects with exponential back-off. The one
 * implementation behind the web app's live cache and the CLI's `--watch`/`--wait`.
 */
export function createEventStream(options: EventStreamOptions): EventStream {
  const connectSocket =
    options.connect ??
    ((url: string) =>
      new (globalThis as unknown as { WebSocket: new (u: string) => WebSocketLike }).WebSocket(url));
  const policy = options.backoff ?? { baseMs: 500, maxMs: 30_000 };
  const deadAfterMs = options.deadAfterMs ?? 60_000;
  const stableMs = options.stableMs ?? 30_000;
  const topics = new Map<string, number>();

  let socket: WebSocketLike | null = null;
  let running = false;
  let attempt = 0;
  let seq: number | null = null;
  let subscribedOnce = false;
  let heartbeats = false;
  /** A gap was seen and a resubscribe sent: events until its `subscribed` are stale. */
  let resyncing = false;
  let openedAt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let deadTimer: ReturnType<typeof setTimeout> | null = null;
  let pingTimer: ReturnType<typeof setInterval> | null = null;

  const setStatus = (s: StreamStatus) => options.onStatus?.(s);
  const clearTimers = () => {
    if (deadTimer) clearTimeout(deadTimer);
    if (pingTimer) clearInterval(pingTimer);
    deadTimer = null;
    pingTimer = null;
  };

  const sendSubscribe = () => {
    if (socket?.readyState === OPEN && topics.size > 0) socket.send(subscribeMessage(topics.keys(), seq));
  };

  const armDeadTimer = (ws: WebSocketLike) => {
    if (!heartbeats && !options.pingMs) return;
    if (deadTimer) clearTimeout(deadTimer);
    // Timers must not keep a Node process alive once the stream is its only work.
    deadTimer = unref(setTimeout(() => drop(ws, 'no heartbeat'), deadAfterMs));
  };

  /** Gives up on a socket (dead peer, server asked us to come back) and reconnects. */
  const drop = (ws: WebSocketLike, reason: string) => {
    if (socket !== ws) return;
    detach(ws, 'reconnecting');
    scheduleReconnect(reason);
  };

  const detach = (ws: WebSocketLike, why: string) => {
    socket = null;
    clearTimers();
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
    try {
      // Node's `ws` would wait for the server's close frame; nothing more is expected from it.
      const terminate = (ws as Partial<NodeWebSocket>).terminate;
      if (typeof terminate === 'function') terminate.call(ws);
      else ws.close(1000, why);
    } catch {
      // Closing a socket still connecting may throw (browsers); it is abandoned either way.
    }
  };

  const scheduleReconnect = (reason: string) => {
    if (!running) return;
    setStatus('closed');
    const delay = backoffDelay(attempt, policy, options.random?.());
    const current = attempt++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      if (!running) return;
      if (!options.beforeReconnect) return connect();
      const before = async () => options.beforeReconnect?.({ attempt: current, reason });
      before().then(
        (done) => {
          if (done === true) stop();
          else connect();
        },
        () => connect(),
      );
    }, delay);
  };

  function connect() {
    if (!running) return;
    setStatus('connecting');
    let ws: WebSocketLike;
    try {
      ws = connectSocket(options.url);
    } catch (err) {
      scheduleReconnect(String(err));
      return;
    }
    socket = ws;
    resyncing = false;
    ws.onopen = () => {
      // Back-off is reset by a connection that proves useful, not by a bare open: a server that
      // accepts and then drops us at once (auth, overload) must not be hammered.
      openedAt = Date.now();
      sendSubscribe();
      setStatus('open');
      armDeadTimer(ws);
      if (options.pingMs)
        pingTimer = unref(
          setInterval(() => ws.readyState === OPEN && ws.send('{"type":"ping"}'), options.pingMs),
        );
    };
    ws.onmessage = (message) => {
      attempt = 0;
      armDeadTimer(ws);
      const raw = message.data;
      const parsed = parseStreamMessage(typeof raw === 'string' ? raw : String(raw));
      switch (parsed.kind) {
        case 'event': {
          const event = parsed.event;
          if (resyncing || (seq !== null && event.seq <= seq)) break;
          if (isGap(seq, event)) {
            // Something between our last seq and this event never reached us: replay from there.
            resyncing = true;
            sendSubscribe();
            break;
          }
          seq = event.seq;
          options.onEvent(event);
          break;
        }
        case 'heartbeat':
          heartbeats = true;
          armDeadTimer(ws);
          // Every event of ours up to it was sent: a reconnect may resume from there.
          if (parsed.seq !== null && seq !== null && parsed.seq > seq) seq = parsed.seq;
          break;
        case 'subscribed': {
          resyncing = false;
          // A (re)subscription replays from the since we sent, so topics added mid-stream get their
          // history too.
          if (parsed.since !== null) seq = parsed.since;
          else if (seq === null) seq = parsed.lastSeq;
          const first = !subscribedOnce;
          subscribedOnce = true;
          options.onSubscribed?.({ since: parsed.since, lastSeq: parsed.lastSeq, first });
          break;
        }
        case 'error':
          if (parsed.code === 'since_in_future') {
            // The server does not know our seq (restored database): start over from fresh reads.
            seq = null;
            subscribedOnce = false;
            options.onReset?.();
            sendSubscribe();
          } else if (parsed.code === 'unavailable') drop(ws, parsed.message);
          else if (options.onServerError?.(parsed) === 'stop') stop();
          break;
        case 'metrics':
          options.onMetrics?.(parsed.message);
          break;
        default:
          break;
      }
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      clearTimers();
      const info = { code: event?.code ?? 1006, reason: String(event?.reason ?? '') };
      if (options.onClose?.(info) === 'stop') return stop('closed');
      if (openedAt && Date.now() - openedAt >= stableMs) attempt = 0;
      openedAt = 0;
      scheduleReconnect(`closed with ${info.code}`);
    };
    ws.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
  }

  /** Ends the stream: 'idle' when the caller stopped it, 'closed' when the server ended it. */
  function stop(status: 'idle' | 'closed' = 'idle') {
    if (!running) return;
    running = false;
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    const ws = socket;
    if (ws) detach(ws, 'stopped');
    setStatus(status);
  }

  return {
    start() {
      if (running) return;
      running = true;
      connect();
    },
    stop: () => stop(),
    addTopics(list) {
      let added = false;
      for (const t of list) {
        const n = topics.get(t) ?? 0;
        topics.set(t, n + 1);
        if (n === 0) added = true;
      }
      if (added) sendSubscribe();
      return () => {
        for (const t of list) {
          const n = topics.get(t) ?? 0;
          if (n <= 1) topics.delete(t);
          else topics.set(t, n - 1);
        }
      };
    },
    lastSeq: () => seq,
  };
}

/** The parts of the `ws` package's WebSocket that Node callers use (passed in: browsers have no `ws`). */
export interface NodeWebSocket extends WebSocketLike {
  on(
    event: 'unexpected-response',
    listener: (req: unknown, res: { statusCode?: number; resume(): void }) => void,
  ): unknown;
  terminate(): void;
}
export type NodeWebSocketClass = new (
  url: string,
  options: { headers?: Record<string, string>; handshakeTimeout?: number },
) => NodeWebSocket;

/**
 * `connect` for Node with the `ws` package: sends credentials as headers, and reports an upgrade
 * refused with 401/403 as the close code of missing credentials (a browser cannot tell them apart).
 */
export function nodeConnector(
  WebSocketClass: NodeWebSocketClass,
  init: { headers?: Record<string, string>; handshakeTimeoutMs?: number } = {},
): (url: string) => WebSocketLike {
  return (url) => {
    const ws = new WebSocketClass(url, {
      ...(init.headers ? { headers: init.headers } : {}),
      handshakeTimeout: init.handshakeTimeoutMs ?? 15_000,
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      const onclose = ws.onclose;
      ws.onclose = null;
      ws.onerror = () => {};
      ws.terminate();
      onclose?.({
        code: status === 401 || status === 403 ? EventStreamClose.Unauthenticated : 1006,
        reason: `HTTP ${status} on upgrade`,
      });
    });
    return ws;
  };
}

/** Close codes after which reconnecting cannot succeed: the credentials are missing or revoked. */
export function isCredentialClose(code: number): boolean {
  return code === EventStreamClose.Unauthenticated || code === EventStreamClose.Revoked;
}

function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
