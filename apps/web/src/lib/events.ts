import {
  type Deployment,
  type Environment,
  EventStreamClose,
  type List,
  type MetricsMessage,
} from '@qubot/api-contract';
import type { QueryClient } from '@tanstack/react-query';
import { applicationKeys } from '../hooks/api/applications/queries';
import { auditKeys } from '../hooks/api/audit/queries';
import { authKeys } from '../hooks/api/auth/queries';
import { configKeys } from '../hooks/api/config/queries';
import { deploymentKeys } from '../hooks/api/deployments/queries';
import { environmentKeys } from '../hooks/api/environments/queries';
import { releaseKeys } from '../hooks/api/releases/queries';
import {
  acceptNewEvents,
  backoffDelay,
  type CacheAction,
  isGap,
  type LiveEvent,
  parseServerMessage,
  planCacheUpdates,
  replaceInList,
  replaceInPages,
  subscribeMessage,
} from './events-utils';
import type { LiveStatus } from './live-status';

/** A connection open this long counted as healthy, whatever it carried. */
const STABLE_MS = 30_000;

export interface EventStreamOptions {
  queryClient: QueryClient;
  url: string;
  onStatus?: (status: LiveStatus) => void;
  /** Events arriving within this window are applied to the cache together. */
  flushMs?: number;
  /** Once the server has shown it sends heartbeats, silence this long means a dead peer. */
  deadAfterMs?: number;
  WebSocketImpl?: typeof WebSocket;
  random?: () => number;
}

export interface EventStream {
  start(): void;
  stop(): void;
  /** Adds topics (reference-counted); returns a function that removes them again. */
  addTopics(topics: readonly string[]): () => void;
  lastSeq(): number | null;
  /** Router samples (`metrics` messages) for the topics subscribed; returns the unsubscribe. */
  onMetrics(listener: (message: MetricsMessage) => void): () => void;
}

/**
 * Live cache updates over `/api/v1/events` (DESIGN §5). Reconnects with back-off and resumes
 * from the last `seq` it applied, so a network blip loses nothing; updates are batched and a
 * stopped stream applies nothing more.
 */
export function createEventStream(options: EventStreamOptions): EventStream {
  const { queryClient, url, onStatus, flushMs = 100, deadAfterMs = 60_000 } = options;
  const WS = options.WebSocketImpl ?? globalThis.WebSocket;
  const random = options.random ?? Math.random;
  const topics = new Map<string, number>();
  const metricsListeners = new Set<(message: MetricsMessage) => void>();

  let socket: WebSocket | null = null;
  let running = false;
  let attempt = 0;
  let seq: number | null = null;
  let queue: LiveEvent[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let deadTimer: ReturnType<typeof setTimeout> | null = null;
  let heartbeats = false;
  /** A gap was seen and a resubscribe sent: events until its `subscribed` are stale. */
  let resyncing = false;
  let openedAt = 0;

  const setStatus = (s: LiveStatus) => onStatus?.(s);

  const clearTimer = (t: ReturnType<typeof setTimeout> | null) => {
    if (t) clearTimeout(t);
    return null;
  };

  const sendSubscribe = () => {
    if (socket?.readyState === WS.OPEN && topics.size > 0) socket.send(subscribeMessage(topics.keys(), seq));
  };

  const armDeadTimer = () => {
    if (!heartbeats) return;
    deadTimer = clearTimer(deadTimer);
    deadTimer = setTimeout(() => socket?.close(4000, 'heartbeat timeout'), deadAfterMs);
  };

  const flush = () => {
    flushTimer = null;
    const batch = queue;
    queue = [];
    if (!running || batch.length === 0) return;
    applyActions(queryClient, planCacheUpdates(batch));
  };

  const enqueue = (events: LiveEvent[]) => {
    const { fresh, lastSeq } = acceptNewEvents(seq ?? Number.NEGATIVE_INFINITY, events);
    if (fresh.length === 0) return;
    seq = lastSeq;
    queue.push(...fresh);
    flushTimer ??= setTimeout(flush, flushMs);
  };

  const scheduleReconnect = () => {
    if (!running) return;
    setStatus('closed');
    const delay = backoffDelay(attempt, random());
    attempt += 1;
    reconnectTimer = setTimeout(connect, delay);
  };

  function connect() {
    reconnectTimer = null;
    if (!running || !WS) return;
    setStatus('connecting');
    let ws: WebSocket;
    try {
      ws = new WS(url);
    } catch {
      scheduleReconnect();
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
      // Without a resume point, events between our REST reads and this subscription are unknown.
      if (seq === null) void refreshLiveViews(queryClient);
    };
    ws.onmessage = (message) => {
      attempt = 0;
      armDeadTimer();
      const parsed = parseServerMessage(typeof message.data === 'string' ? message.data : '');
      switch (parsed.kind) {
        case 'event':
          if (resyncing) break;
          if (isGap(seq, parsed.event)) {
            // Something between our last seq and this event never reached us: replay from there.
            resyncing = true;
            sendSubscribe();
            break;
          }
          enqueue([parsed.event]);
          break;
        case 'heartbeat':
          heartbeats = true;
          armDeadTimer();
          // Every event of ours up to it was sent: a reconnect may resume from there.
          if (parsed.seq !== null && seq !== null && parsed.seq > seq && queue.length === 0) seq = parsed.seq;
          break;
        case 'subscribed':
          resyncing = false;
          // A (re)subscription replays from the since we sent, so topics added mid-stream get their
          // history too; events applied twice are full views, so re-applying them is harmless.
          if (parsed.since !== null) seq = parsed.since;
          else if (seq === null) seq = parsed.lastSeq;
          break;
        case 'error':
          if (parsed.code === 'since_in_future') {
            // The server does not know our seq (restored database): start over from fresh reads.
            seq = null;
            void refreshLiveViews(queryClient);
            sendSubscribe();
          }
          break;
        case 'metrics':
          for (const l of metricsListeners) l(parsed.message);
          break;
        default:
          break;
      }
    };
    ws.onclose = (event: { code?: number }) => {
      if (socket !== ws) return;
      socket = null;
      deadTimer = clearTimer(deadTimer);
      if (event?.code === EventStreamClose.Revoked) {
        // The credentials were revoked (or never valid): reconnecting cannot succeed. The visitor
        // is marked signed out, and RequireSignIn sends them to the sign-in page, which brings
        // them back here; the layout starts the stream again after they sign in.
        running = false;
        flushTimer = clearTimer(flushTimer);
        queue = [];
        setStatus('closed');
        queryClient.setQueryData(authKeys.me(), null);
        return;
      }
      if (openedAt && Date.now() - openedAt >= STABLE_MS) attempt = 0;
      openedAt = 0;
      scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
  }

  return {
    start() {
      if (running) return;
      running = true;
      connect();
    },
    stop() {
      running = false;
      flushTimer = clearTimer(flushTimer);
      reconnectTimer = clearTimer(reconnectTimer);
      deadTimer = clearTimer(deadTimer);
      queue = [];
      const ws = socket;
      socket = null;
      ws?.close(1000, 'stopped');
      setStatus('idle');
    },
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
    onMetrics(listener) {
      metricsListeners.add(listener);
      return () => {
        metricsListeners.delete(listener);
      };
    },
  };
}

function refreshLiveViews(queryClient: QueryClient) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: environmentKeys.all }),
    queryClient.invalidateQueries({ queryKey: deploymentKeys.all }),
  ]);
}

type Paged<T> = { pages: List<T>[]; pageParams: unknown[] };

export function applyActions(queryClient: QueryClient, actions: readonly CacheAction[]): void {
  const sameId = (a: Deployment, b: Deployment) => a.id === b.id;
  const sameName = (a: Environment, b: Environment) => a.name === b.name;
  for (const action of actions) {
    if (action.type === 'setDeployment') {
      const d = action.deployment;
      queryClient.setQueryData(deploymentKeys.detail(d.id), d);
      let found = false;
      queryClient.setQueriesData<Paged<Deployment>>({ queryKey: deploymentKeys.lists() }, (old) => {
        const r = replaceInPages(old, d, sameId);
        found ||= r.found;
        return r.data;
      });
      // A deployment no list has seen yet is new: let the lists fetch it in their own order and filter.
      if (!found) void queryClient.invalidateQueries({ queryKey: deploymentKeys.lists() });
    } else if (action.type === 'setEnvironment') {
      const { app, environment } = action;
      queryClient.setQueryData(environmentKeys.detail(app, environment.name), environment);
      const r = replaceInList(
        queryClient.getQueryData<List<Environment>>(environmentKeys.list(app)),
        environment,
        sameName,
      );
      if (r.found) queryClient.setQueryData(environmentKeys.list(app), r.data);
      else void queryClient.invalidateQueries({ queryKey: environmentKeys.list(app) });
    } else {
      void queryClient.invalidateQueries({ queryKey: invalidationKey(action) });
    }
  }
}

function invalidationKey(action: CacheAction & { type: 'invalidate' }): readonly unknown[] {
  switch (action.target) {
    case 'deployments':
      return action.id ? deploymentKeys.detail(action.id) : deploymentKeys.lists();
    case 'environments':
      // Cards (list) and detail pages both show an environment; only mounted queries refetch.
      return environmentKeys.all;
    case 'releases':
      return releaseKeys.all;
    case 'applications':
      return applicationKeys.all;
    case 'audit':
      return auditKeys.all;
    case 'config':
      return configKeys.all;
  }
}
