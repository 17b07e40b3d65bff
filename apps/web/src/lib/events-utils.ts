import type { Deployment, Environment, List } from '@qubot/api-contract';

/**
 * Pure parts of the live event client (DESIGN §5): reading server messages, ordering by
 * `seq`, reconnect back-off, and turning a batch of events into cache actions.
 * The wire format beyond `seq` is not fixed yet, so the readers accept the likely shapes.
 */

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export interface LiveEvent {
  seq: number;
  /** e.g. `deployment.updated`, `environment.traffic_changed`. */
  name: string;
  topic: string | null;
  data: unknown;
}

export type ServerMessage =
  | { kind: 'event'; event: LiveEvent }
  | { kind: 'ping' }
  | { kind: 'subscribed'; seq: number | null }
  | { kind: 'reset' }
  | { kind: 'error'; message: string }
  | { kind: 'other' };

export function parseServerMessage(raw: string): ServerMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return { kind: 'other' };
  }
  if (!isRec(msg)) return { kind: 'other' };
  const type = str(msg.type);
  if (type === 'ping' || type === 'heartbeat') return { kind: 'ping' };
  if (type === 'subscribed' || type === 'ready') {
    const seq = typeof msg.seq === 'number' ? msg.seq : typeof msg.lastSeq === 'number' ? msg.lastSeq : null;
    return { kind: 'subscribed', seq };
  }
  // The server could not replay from our `since` (pruned history): everything cached may be stale.
  if (type === 'reset' || type === 'gap' || type === 'resync') return { kind: 'reset' };
  if (type === 'error') {
    const message = isRec(msg.error) ? str(msg.error.message) : str(msg.message);
    return { kind: 'error', message: message ?? 'Event stream error' };
  }
  // `{ type: 'event', event: { seq, type, data } }` or flat `{ seq, type|event|name, topic, data|payload }`.
  const body = type === 'event' && isRec(msg.event) ? msg.event : msg;
  if (typeof body.seq !== 'number' || !Number.isFinite(body.seq)) return { kind: 'other' };
  const name =
    str(body.name) ??
    str(body.kind) ??
    (typeof body.event === 'string' ? body.event : null) ??
    (str(body.type) !== 'event' ? str(body.type) : null) ??
    'unknown';
  return {
    kind: 'event',
    event: { seq: body.seq, name, topic: str(body.topic), data: body.data ?? body.payload ?? null },
  };
}

/** Events already seen (replay overlap after a reconnect) are dropped; the rest keep server order. */
export function acceptNewEvents(lastSeq: number, events: readonly LiveEvent[]) {
  const fresh: LiveEvent[] = [];
  let seq = lastSeq;
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    if (e.seq <= seq) continue;
    fresh.push(e);
    seq = e.seq;
  }
  return { fresh, lastSeq: seq };
}

export function subscribeMessage(topics: Iterable<string>, since: number | null): string {
  const msg: { type: 'subscribe'; topics: string[]; since?: number } = {
    type: 'subscribe',
    topics: [...new Set(topics)].sort(),
  };
  if (since !== null) msg.since = since;
  return JSON.stringify(msg);
}

/** Exponential back-off with jitter so a restarted server is not hit by every tab at once. */
export function backoffDelay(attempt: number, random: number, base = 500, max = 30_000): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(1, Math.max(0, random)));
}

export function eventsUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/events`;
}

// ---------------------------------------------------------------------------------------------
// Cache planning

export type CacheTarget = 'deployments' | 'environments' | 'releases' | 'applications' | 'audit';

export type CacheAction =
  | { type: 'setDeployment'; deployment: Deployment }
  | { type: 'setEnvironment'; app: string; environment: Environment }
  | { type: 'invalidate'; target: CacheTarget; app?: string; env?: string; id?: string };

export function looksLikeDeployment(v: unknown): v is Deployment {
  return isRec(v) && typeof v.id === 'string' && typeof v.status === 'string' && Array.isArray(v.steps);
}

export function looksLikeEnvironment(v: unknown): v is Environment {
  return isRec(v) && typeof v.name === 'string' && Array.isArray(v.traffic) && Array.isArray(v.instances);
}

function topicId(topic: string | null, prefix: string): string | null {
  return topic?.startsWith(`${prefix}:`) ? topic.slice(prefix.length + 1) : null;
}

function entityOf<T>(data: unknown, key: string, guard: (v: unknown) => v is T): T | null {
  if (isRec(data) && guard(data[key])) return data[key] as T;
  return guard(data) ? data : null;
}

function appNameOf(data: unknown, ...extra: unknown[]): string | null {
  for (const source of [data, ...extra]) {
    if (!isRec(source)) continue;
    const name = str(source.application) ?? str(source.app) ?? str(source.applicationName);
    if (name) return name;
    if (isRec(source.application)) {
      const nested = str(source.application.name);
      if (nested) return nested;
    }
  }
  return null;
}

function envNameOf(data: unknown): string | null {
  if (!isRec(data)) return null;
  return str(data.environment) ?? str(data.env) ?? str(data.environmentName);
}

/**
 * One batch of events → the fewest cache actions: the newest full entity per id wins, and
 * invalidations are deduplicated. Events without a full entity fall back to invalidation.
 */
export function planCacheUpdates(events: readonly LiveEvent[]): CacheAction[] {
  const deployments = new Map<string, Deployment>();
  const environments = new Map<string, { app: string; environment: Environment }>();
  const invalidations = new Map<string, CacheAction & { type: 'invalidate' }>();
  const invalidate = (a: Omit<CacheAction & { type: 'invalidate' }, 'type'>) => {
    const action = { type: 'invalidate' as const, ...a };
    invalidations.set(JSON.stringify([a.target, a.app ?? null, a.env ?? null, a.id ?? null]), action);
  };

  for (const event of [...events].sort((a, b) => a.seq - b.seq)) {
    const family = event.name.split(/[._:]/)[0] ?? '';
    const data = event.data;
    const deployment = entityOf(data, 'deployment', looksLikeDeployment);
    const environment = entityOf(data, 'environment', looksLikeEnvironment);

    if (deployment) {
      deployments.set(deployment.id, deployment);
      // Environment cards show the active deployment's status and progress.
      invalidate({ target: 'environments', app: deployment.application });
      if (
        deployment.status !== 'running' &&
        deployment.status !== 'pending' &&
        deployment.status !== 'paused'
      ) {
        invalidate({ target: 'releases', app: deployment.application });
      }
    }
    if (environment) {
      const app = appNameOf(data, environment);
      if (app) environments.set(`${app}/${environment.name}`, { app, environment });
      else invalidate({ target: 'environments' });
    }
    if (deployment || environment) continue;

    const app = appNameOf(data) ?? undefined;
    switch (family) {
      case 'deployment':
      case 'step':
      case 'analysis': {
        const id =
          (isRec(data) ? (str(data.deploymentId) ?? str(data.id)) : null) ??
          topicId(event.topic, 'deployment');
        invalidate({ target: 'deployments', ...(id ? { id } : {}) });
        invalidate({ target: 'deployments' });
        invalidate({ target: 'environments', ...(app ? { app } : {}) });
        break;
      }
      case 'environment':
      case 'traffic':
      case 'instance':
      case 'health': {
        const env = envNameOf(data) ?? undefined;
        invalidate({ target: 'environments', ...(app ? { app } : {}), ...(app && env ? { env } : {}) });
        break;
      }
      case 'release':
        invalidate({ target: 'releases', ...(app ? { app } : {}) });
        break;
      case 'application':
        invalidate({ target: 'applications' });
        break;
      case 'audit':
        invalidate({ target: 'audit' });
        break;
      default:
        invalidate({ target: 'environments', ...(app ? { app } : {}) });
        invalidate({ target: 'deployments' });
    }
  }

  return [
    ...[...deployments.values()].map((deployment) => ({ type: 'setDeployment' as const, deployment })),
    ...[...environments.values()].map(({ app, environment }) => ({
      type: 'setEnvironment' as const,
      app,
      environment,
    })),
    ...invalidations.values(),
  ];
}

/** Replace an item in a paged (infinite query) cache entry; `found` says whether it was there. */
export function replaceInPages<T>(
  data: { pages: List<T>[]; pageParams: unknown[] } | undefined,
  item: T,
  same: (a: T, b: T) => boolean,
): { data: { pages: List<T>[]; pageParams: unknown[] } | undefined; found: boolean } {
  if (!data) return { data, found: false };
  let found = false;
  const pages = data.pages.map((page) => {
    if (!page.items.some((x) => same(x, item))) return page;
    found = true;
    return { ...page, items: page.items.map((x) => (same(x, item) ? item : x)) };
  });
  return { data: found ? { ...data, pages } : data, found };
}

export function replaceInList<T>(data: List<T> | undefined, item: T, same: (a: T, b: T) => boolean) {
  if (!data) return { data, found: false };
  const found = data.items.some((x) => same(x, item));
  return {
    data: found ? { ...data, items: data.items.map((x) => (same(x, item) ? item : x)) } : data,
    found,
  };
}
