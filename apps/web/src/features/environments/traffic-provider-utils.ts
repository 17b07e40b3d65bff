import type { Environment, TrafficProviderStatus, TrafficTarget } from '@qubot/api-contract';

export const PROVIDER_NAME: Record<TrafficProviderStatus['kind'], string> = {
  node: 'Node router (embedded)',
  haproxy: 'HAProxy',
  kubernetes: 'Kubernetes (Services, HTTPRoute)',
};

/** One line on the provider's health, with a tone for its badge. */
export function providerHealth(
  status: Pick<TrafficProviderStatus, 'kind' | 'health' | 'error'>,
  router: Environment['router'],
): { tone: 'ok' | 'warn' | 'bad' | 'muted'; label: string } {
  if (router?.status === 'handover') return { tone: 'warn', label: `Taking over the address…` };
  if (status.error) return { tone: 'bad', label: status.error };
  if (!status.health) return { tone: 'muted', label: 'Not started yet (nothing deployed)' };
  const targets = status.health.targets;
  if (!targets) return { tone: 'ok', label: `Serving (pid ${status.health.pid})` };
  const ready = targets.filter((t) => t.state === 'ready');
  const up = ready.filter((t) => t.up).length;
  return {
    tone: ready.length === 0 ? 'muted' : up === ready.length ? 'ok' : up === 0 ? 'bad' : 'warn',
    label: `Serving (pid ${status.health.pid}); ${up}/${ready.length} targets pass its health check`,
  };
}

export interface TargetRow extends TrafficTarget {
  /** The instance behind the target (by port), when the environment lists it. */
  instance: string | null;
}

/** Targets in pool order, each with the instance it belongs to. */
export function targetRows(targets: TrafficTarget[], instances: Environment['instances']): TargetRow[] {
  const byPort = new Map(instances.map((i) => [String(i.port), i.id]));
  return [...targets]
    .sort((a, b) => a.pool.localeCompare(b.pool) || a.target.localeCompare(b.target))
    .map((t) => ({ ...t, instance: byPort.get(t.target.split(':').pop() ?? '') ?? null }));
}

export const TARGET_STATE_LABEL: Record<TrafficTarget['state'], string> = {
  ready: 'takes traffic',
  drain: 'draining',
  maint: 'out',
};
