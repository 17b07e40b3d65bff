import type { RuntimeTargetView } from '@qubot/api-contract';

export interface RuntimeFact {
  label: string;
  value: string;
}

/** The environment's runtime target as plain facts for the environment page. */
export function runtimeFacts(runtime: RuntimeTargetView | undefined): RuntimeFact[] {
  const k = runtime?.kubernetes;
  if (runtime?.target !== 'kubernetes' || !k) {
    return [{ label: 'Instances run', value: "on the worker's machine (local processes)" }];
  }
  const creds =
    k.credentials.source === 'in-cluster'
      ? "the worker pod's service account (in-cluster)"
      : `kubeconfig ${k.credentials.path}${k.credentials.context ? ` (context ${k.credentials.context})` : ''}`;
  return [
    { label: 'Instances run', value: `as pods in the Kubernetes namespace ${k.namespace}` },
    { label: 'Cluster credentials', value: creds },
    {
      label: 'Canary weights',
      value:
        k.canaryMode === 'gateway-api'
          ? `exact, as HTTPRoute backendRefs weights through the Gateway ${k.gateway}`
          : 'approximate, by replica ratio: each colour gets the share of its ready pods (a weight is rounded to whole pods)',
    },
  ];
}
