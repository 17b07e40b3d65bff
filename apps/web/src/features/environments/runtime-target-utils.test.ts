import { describe, expect, it } from 'vitest';
import { runtimeFacts } from './runtime-target-utils';

describe('runtimeFacts', () => {
  it('says local for local environments and older servers', () => {
    expect(runtimeFacts(undefined)).toEqual([
      { label: 'Instances run', value: "on the worker's machine (local processes)" },
    ]);
    expect(runtimeFacts({ target: 'local', kubernetes: null })[0]?.value).toMatch(/worker's machine/);
  });

  it('says plainly which canary mode a Kubernetes environment has, and where its credentials are', () => {
    const ratio = runtimeFacts({
      target: 'kubernetes',
      kubernetes: {
        namespace: 'shop',
        credentials: { source: 'kubeconfig', path: '/etc/qubot/kubeconfig', context: 'kind-qubot' },
        gateway: null,
        canaryMode: 'replica-ratio',
      },
    });
    expect(ratio.map((f) => f.value)).toEqual([
      'as pods in the Kubernetes namespace shop',
      'kubeconfig /etc/qubot/kubeconfig (context kind-qubot)',
      expect.stringMatching(/^approximate, by replica ratio/),
    ]);
    const gateway = runtimeFacts({
      target: 'kubernetes',
      kubernetes: {
        namespace: 'shop',
        credentials: { source: 'in-cluster' },
        gateway: 'edge',
        canaryMode: 'gateway-api',
      },
    });
    expect(gateway[1]?.value).toMatch(/in-cluster/);
    expect(gateway[2]?.value).toBe('exact, as HTTPRoute backendRefs weights through the Gateway edge');
  });
});
