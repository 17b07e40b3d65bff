import {
  type Deployment,
  type Environment,
  EventStreamClose,
  type Host,
  type List,
  type MetricsMessage,
  type WebhookDelivery,
} from '@qubot/api-contract';
import { createEventStream as createLiveStream, type LiveEvent, type WebSocketLike } from '@qubot/client';
import type { QueryClient } from '@tanstack/react-query';
import { applicationKeys } from '../hooks/api/applications/queries';
import { authKeys } from '../hooks/api/auth/queries';
import { configKeys } from '../hooks/api/config/queries';
import { deploymentKeys } from '../hooks/api/deployments/queries';
import { doraKeys } from '../hooks/api/dora/queries';
import { environmentKeys } from '../hooks/api/environments/queries';
import { hostKeys } from '../hooks/api/hosts/queries';
import { policyKeys } from '../hooks/api/policies/queries';
import { releaseKeys } from '../hooks/api/releases/queries';
import { scalingKeys } from '../hooks/api/scaling/queries';
import { webhookKeys } from '../hooks/api/webhooks/queries';
import {
  type CacheAction,
  planCacheUpdates,
  replaceInList,
  replaceInPages,
  upsertDelivery,
} from './events-utils';
import type { LiveStatus } from './live-status';

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
 * Live cache updates over `/api/v1/events` (DESIGN §5): @qubot/client's resumable stream, whose
 * events are batched into the TanStack Query cache; a stopped stream applies nothing more.
 */
export function createEventStream(options: EventStreamOptions): EventStream {
  const { queryClient, flushMs = 100 } = options;
  const WS = options.WebSocketImpl ?? globalThis.WebSocket;
  const metricsListeners = new Set<(message: MetricsMessage) => void>();
  let queue: LiveEvent[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | null = null;

  const flush = () => {
    flushTimer = null;
    const batch = queue;
    queue = [];
    if (batch.length > 0) applyActions(queryClient, planCacheUpdates(batch));
  };
  const drop = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    queue = [];
  };

  const stream = createLiveStream({
    url: options.url,
    connect: (url) => new WS(url) as unknown as WebSocketLike,
    random: options.random ?? Math.random,
    ...(options.deadAfterMs ? { deadAfterMs: options.deadAfterMs } : {}),
    onStatus: (status) => {
      options.onStatus?.(status);
      // Without a resume point, events between our REST reads and this subscription are unknown.
      if (status === 'open' && stream.lastSeq() === null) void refreshLiveViews(queryClient);
    },
    onEvent: (event) => {
      queue.push(event);
      flushTimer ??= setTimeout(flush, flushMs);
    },
    // The server does not know our seq (restored database): start over from fresh reads.
    onReset: () => void refreshLiveViews(queryClient),
    onMetrics: (message) => {
      for (const l of metricsListeners) l(message);
    },
    onClose: ({ code }) => {
      if (code !== EventStreamClose.Revoked) return undefined;
      // The credentials were revoked (or never valid): reconnecting cannot succeed. The visitor
      // is marked signed out, and RequireSignIn sends them to the sign-in page, which brings
      // them back here; the layout starts the stream again after they sign in.
      drop();
      queryClient.setQueryData(authKeys.me(), null);
      return 'stop';
    },
  });

  return {
    start: () => stream.start(),
    stop() {
      drop();
      stream.stop();
    },
    addTopics: (list) => stream.addTopics(list),
    lastSeq: () => stream.lastSeq(),
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
    queryClient.invalidateQueries({ queryKey: policyKeys.all }),
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
    } else if (action.type === 'setDelivery') {
      // Only a log that is open (cached) is patched; one opened later reads the server.
      const key = webhookKeys.deliveries(action.app, action.delivery.webhookId);
      if (queryClient.getQueryData(key))
        queryClient.setQueryData<Paged<WebhookDelivery>>(key, (old) => upsertDelivery(old, action.delivery));
    } else if (action.type === 'setHost') {
      // A host the list has not seen (just enrolled): read the list again.
      const r = replaceInList(
        queryClient.getQueryData<List<Host>>(hostKeys.list()),
        action.host,
        (a, b) => a.id === b.id,
      );
      if (r.found) queryClient.setQueryData(hostKeys.list(), r.data);
      else void queryClient.invalidateQueries({ queryKey: hostKeys.list() });
    } else {
      void queryClient.invalidateQueries({ queryKey: invalidationKey(action) });
    }
  }
}

function invalidationKey(action: CacheAction & { type: 'invalidate' }): readonly unknown[] {
  switch (action.target) {
    case 'environments':
      // Cards (list) and detail pages both show an environment; only mounted queries refetch.
      return environmentKeys.all;
    case 'releases':
      return releaseKeys.all;
    case 'applications':
      return applicationKeys.all;
    case 'config':
      return configKeys.all;
    case 'dora':
      return action.app ? doraKeys.report(action.app) : doraKeys.all;
    case 'autoscale':
      return action.app ? scalingKeys.app(action.app) : scalingKeys.all;
    case 'policies':
      return action.app ? policyKeys.list(action.app) : policyKeys.all;
  }
}
