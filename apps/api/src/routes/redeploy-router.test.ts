import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

// The redeploy itself (a real deployment, same release, strategy and configuration version, and
// two at once: one winner) is driven end to end in e2e/tests/dashboard-redeploy.spec.ts.
let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const post = async (url: string, payload: unknown, role: 'admin' | 'viewer' = 'admin') =>
  t.app.inject({ method: 'POST', url, headers: await t.as(role), payload: payload as object });

describe('POST /api/v1/deployments/:id/redeploy', () => {
  it('answers 404 naming the field for an unknown deployment', async () => {
    const res = await post('/api/v1/deployments/00000000-0000-4000-8000-000000000000/redeploy', {});
    expect(res.statusCode).toBe(404);
    expect(res.json().error.details.field).toBe('params.id');
  });
  it('answers 400 naming the field for a body it does not know', async () => {
    const res = await post('/api/v1/deployments/00000000-0000-4000-8000-000000000000/redeploy', {
      version: '1.2.0',
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json().error)).toContain('version');
  });
  it('is documented in the OpenAPI with its response', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    const op = spec.paths['/api/v1/deployments/{id}/redeploy']?.post;
    expect(op?.responses?.['202']).toBeDefined();
  });
});
