// Where an environment's instances run, as the API shows it: the target and, for Kubernetes, the
// namespace and where the credentials are (a source and a path — never anything read from them).
import type { KubernetesCredentials, RuntimeTargetView } from '@qubot/api-contract';

/** The `kubernetes` column of an environment (written only by the runtime-target service). */
export interface KubernetesSettings {
  namespace: string;
  credentials: KubernetesCredentials;
  gateway: string | null;
}

export function kubernetesSettingsOf(value: unknown): KubernetesSettings | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Partial<KubernetesSettings>;
  if (typeof v.namespace !== 'string' || typeof v.credentials !== 'object' || v.credentials === null)
    return null;
  const c = v.credentials as { source?: unknown; path?: unknown; context?: unknown };
  const credentials: KubernetesCredentials =
    c.source === 'kubeconfig' && typeof c.path === 'string'
      ? {
          source: 'kubeconfig',
          path: c.path,
          ...(typeof c.context === 'string' ? { context: c.context } : {}),
        }
      : { source: 'in-cluster' };
  return { namespace: v.namespace, credentials, gateway: typeof v.gateway === 'string' ? v.gateway : null };
}

export function runtimeTargetView(row: { runtimeTarget: string; kubernetes: unknown }): RuntimeTargetView {
  const k = row.runtimeTarget === 'kubernetes' ? kubernetesSettingsOf(row.kubernetes) : null;
  if (!k) return { target: 'local', kubernetes: null };
  return {
    target: 'kubernetes',
    kubernetes: { ...k, canaryMode: k.gateway ? 'gateway-api' : 'replica-ratio' },
  };
}
