import { QUBOT_ROUTER_QUERIES } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { analysisBody, analysisDraft, analysisFieldOf, analysisSummary } from './analysis-provider-utils';

const view = {
  provider: 'prometheus' as const,
  prometheus: { url: 'http://prom:9090', queries: QUBOT_ROUTER_QUERIES, timeoutSeconds: 3 },
  placeholders: [],
  updatedBy: 'admin',
  updatedAt: null,
};

describe('analysis provider form', () => {
  it('offers the router templates when nothing is set, and the stored setting otherwise', () => {
    expect(analysisDraft(undefined)).toMatchObject({ provider: 'router', url: '', ...QUBOT_ROUTER_QUERIES });
    expect(analysisDraft(view)).toMatchObject({
      provider: 'prometheus',
      url: 'http://prom:9090',
      timeoutSeconds: '3',
    });
  });

  it('sends the templates only with Prometheus', () => {
    expect(analysisBody({ ...analysisDraft(view), provider: 'router' }, ' ')).toEqual({ provider: 'router' });
    expect(analysisBody(analysisDraft(view), 'why')).toEqual({
      provider: 'prometheus',
      prometheus: { url: 'http://prom:9090', queries: QUBOT_ROUTER_QUERIES, timeoutSeconds: 3 },
      reason: 'why',
    });
  });

  it("maps the server's field to the form's, and says where figures come from", () => {
    expect(analysisFieldOf('body.prometheus.queries.errorRate')).toBe('errorRate');
    expect(analysisFieldOf('body.prometheus.url')).toBe('url');
    expect(analysisFieldOf('body.reason')).toBe('reason');
    expect(analysisFieldOf('body.prometheus')).toBeNull();
    expect(analysisSummary(view)).toBe('Prometheus at http://prom:9090 (set by admin)');
    expect(analysisSummary({ ...view, provider: 'router', prometheus: null })).toMatch(/router/);
  });
});
