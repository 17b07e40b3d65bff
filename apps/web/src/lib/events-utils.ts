import type { Deployment, Environment, List } from '@qubot/api-contract';
import type { LiveEvent } from '@qubot/client';

/**
 * Pure parts of the live cache (DESIGN §5, docs/events.md): turning a batch of events into cache
 * actions. Reading the stream (order, gaps, resume, back-off) is @qubot/client's.
 */

export type { LiveEvent };

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

// ---------------------------------------------------------------------------------------------
// Cache planning

export type CacheTarget = 'deployments' | 'environments' | 'releases' | 'applications' | 'audit' | 'config';

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The value of the first `<prefix>:<value>` topic; `byName` picks the name form over the id form. */
function topicValue(topics: readonly string[], prefix: string, byName = false): string | null {
  for (const t of topics) {
    if (!t.startsWith(`${prefix}:`)) continue;
    const value = t.slice(prefix.length + 1);
    if (UUID.test(value) !== byName) return value;
  }
  return null;
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
      const app = appNameOf(data, environment) ?? topicValue(event.topics, 'application', true);
      if (app) environments.set(`${app}/${environment.name}`, { app, environment });
      else invalidate({ target: 'environments' });
    }
    if (deployment || environment) continue;

    const app = appNameOf(data) ?? topicValue(event.topics, 'application', true) ?? undefined;
    switch (family) {
      case 'deployment':
      case 'step':
      case 'analysis': {
        const id =
          (isRec(data) ? (str(data.deploymentId) ?? str(data.id)) : null) ??
          event.topics.find((t) => t.startsWith('deployment:'))?.slice('deployment:'.length) ??
          null;
        invalidate({ target: 'deployments', ...(id ? { id } : {}) });
        invalidate({ target: 'deployments' });
        invalidate({ target: 'environments', ...(app ? { app } : {}) });
        break;
      }
      case 'environment':
      case 'traffic':
      case 'instance':
      case 'health': {
        const env =
          envNameOf(data) ?? topicValue(event.topics, 'environment', true)?.split('/')[1] ?? undefined;
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
      case 'config':
        // Configuration versions and the promotion previews built on them.
        invalidate({ target: 'config' });
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
