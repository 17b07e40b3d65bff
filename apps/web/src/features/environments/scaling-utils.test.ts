import { describe, expect, it } from 'vitest';
import { decisionSummary, measuredLabel, policyDraft, policyProblem } from './scaling-utils';

describe('scaling utils', () => {
  it('drafts a new policy around the current count and checks the form', () => {
    const d = policyDraft(null, 2);
    expect(d).toMatchObject({ minReplicas: 1, maxReplicas: 4, metric: 'rps', enabled: true });
    expect(policyProblem(d)).toBeNull();
    expect(policyProblem({ ...d, minReplicas: 5 })).toMatch(/Min replicas must not exceed/);
    expect(policyProblem({ ...d, metric: 'cpu', target: 150 })).toMatch(/CPU/);
    expect(policyProblem({ ...d, maxReplicas: 0 })).toMatch(/Max replicas/);
  });

  it('summarises decisions', () => {
    const base = {
      id: '1',
      at: '2026-01-01T00:00:00.000Z',
      metric: 'rps' as const,
      measured: 61.26,
      target: 20,
      reason: 'r',
      deploymentId: null,
    };
    expect(decisionSummary({ ...base, action: 'scale_up', fromReplicas: 1, toReplicas: 4 })).toBe(
      'scaled up 1 → 4',
    );
    expect(decisionSummary({ ...base, action: 'none', fromReplicas: 2, toReplicas: 2 })).toBe(
      'no change (2)',
    );
    expect(measuredLabel(base)).toBe('61.3 / 20 req/s per instance');
    expect(measuredLabel({ ...base, measured: null, metric: 'cpu' })).toBe('— / 20 % CPU per instance');
  });
});
