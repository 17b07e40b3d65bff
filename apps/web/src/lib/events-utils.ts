import type { Deployment, Environment, Host, List, WebhookDelivery } from '@qubot/api-contract';
import type { LiveEvent } from '@qubot/client';

/**
 * Pure parts of the live cache (DESIGN §5, docs/events.md): turning a batch of events into cache
 * actions. Reading the stream (order, gaps, resume, back-off) is @qubot/client's.
 */

export type { LiveEvent };

// ---------------------------------------------------------------------------------------------
// Cache planning

/** What a batch of events may leave stale (lists the events carry no full view for). */
export type CacheTarget =
  | 'environments'
  | 'releases'
  | 'applications'
  | 'config'
  | 'dora'
  | 'autoscale'
  | 'policies';

export type CacheAction =
  | { type: 'setDeployment'; deployment: Deployment }
  | { type: 'setEnvironment'; app: string; environment: Environment }
  /** One row of a webhook's delivery log (a `webhook.delivery` event: an attempt finished). */
  | { type: 'setDelivery'; app: string; delivery: WebhookDelivery }
  /** A host's row on the Hosts page (a `host.updated` event: state or heartbeat figures). */
  | { type: 'setHost'; host: Host }
  | { type: 'invalidate'; target: CacheTarget; app?: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The application's name from the event's topics (`application:<name>` beside `application:<id>`). */
function appNameOf(topics: readonly string[]): string | null {
  for (const t of topics) {
    if (!t.startsWith('application:')) continue;
    const value = t.slice('application:'.length);
    if (!UUID.test(value)) return value;
  }
  return null;
}

const ACTIVE: readonly Deployment['status'][] = ['pending', 'running', 'paused'];

/**
 * One batch of events → the fewest cache actions: the newest full view per id wins, and
 * invalidations are deduplicated. Every event the server sends is handled by its name.
 */
export function planCacheUpdates(events: readonly LiveEvent[]): CacheAction[] {
  const deployments = new Map<string, Deployment>();
  const environments = new Map<string, { app: string; environment: Environment }>();
  const deliveries = new Map<string, { app: string; delivery: WebhookDelivery }>();
  const hosts = new Map<string, Host>();
  const invalidations = new Map<string, CacheAction & { type: 'invalidate' }>();
  const invalidate = (a: Omit<CacheAction & { type: 'invalidate' }, 'type'>) => {
    const action = { type: 'invalidate' as const, ...a };
    invalidations.set(JSON.stringify([a.target, a.app ?? null]), action);
  };

  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    switch (e.event) {
      case 'deployment.created':
      case 'deployment.updated': {
        const d = e.data;
        deployments.set(d.id, d);
        // Environment cards show the active deployment's status and progress.
        invalidate({ target: 'environments', app: d.application });
        // Releases show where each one was last deployed, and how that ended.
        if (!ACTIVE.includes(d.status)) invalidate({ target: 'releases', app: d.application });
        // A finished deployment moves the DORA figures (the server's daily rollup).
        if (!ACTIVE.includes(d.status)) invalidate({ target: 'dora', app: d.application });
        // What the promotion policies will do next depends on what runs and how it ended.
        invalidate({ target: 'policies', app: d.application });
        break;
      }
      case 'environment.updated': {
        // The view has no application field; its topics name it.
        const app = appNameOf(e.topics);
        if (app) environments.set(`${app}/${e.data.name}`, { app, environment: e.data });
        else invalidate({ target: 'environments' });
        // Health, a policy change or a pause (each announced as environment.updated).
        invalidate(app ? { target: 'policies', app } : { target: 'policies' });
        break;
      }
      case 'release.created':
        invalidate({ target: 'releases', app: e.data.application });
        // The first environment's policy deploys a new release whose tests passed.
        invalidate({ target: 'policies', app: e.data.application });
        break;
      case 'application.created':
        invalidate({ target: 'applications' });
        break;
      case 'autoscale.decision':
        // The environment page's list of the autoscaler's decisions (and its policy's last scale).
        invalidate({ target: 'autoscale', app: e.data.application });
        break;
      case 'config.updated':
        // Configuration versions and the promotion previews built on them.
        invalidate({ target: 'config' });
        break;
      case 'webhook.delivery': {
        const { application, ...delivery } = e.data;
        deliveries.set(delivery.id, { app: application, delivery });
        break;
      }
      case 'host.updated':
        hosts.set(e.data.id, e.data);
        break;
      case 'instance.oom_killed':
        // The environment.updated committed with it carries the instance's new status and figures.
        break;
      case null:
        break;
    }
  }

  return [
    ...[...deployments.values()].map((deployment) => ({ type: 'setDeployment' as const, deployment })),
    ...[...environments.values()].map(({ app, environment }) => ({
      type: 'setEnvironment' as const,
      app,
      environment,
    })),
    ...[...deliveries.values()].map(({ app, delivery }) => ({ type: 'setDelivery' as const, app, delivery })),
    ...[...hosts.values()].map((host) => ({ type: 'setHost' as const, host })),
    ...invalidations.values(),
  ];
}

/**
 * Put a delivery into a webhook's delivery log (newest first, in keyset pages): replaced where it
 * is, else — a delivery the log has not seen, newer than every row — at the top of the first page.
 */
export function upsertDelivery(
  data: { pages: List<WebhookDelivery>[]; pageParams: unknown[] } | undefined,
  delivery: WebhookDelivery,
): { pages: List<WebhookDelivery>[]; pageParams: unknown[] } | undefined {
  const r = replaceInPages(data, delivery, (a, b) => a.id === b.id);
  if (!r.data || r.found) return r.data;
  const [first, ...rest] = r.data.pages;
  if (!first) return r.data;
  return { ...r.data, pages: [{ ...first, items: [delivery, ...first.items] }, ...rest] };
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
