// Traffic changes made through an API-only process (`--role api`) run in a worker: the API holds
// no runtime, so it asks a worker (ROUTING_QUEUE) to start the router and push the routing, and
// answers with the worker's outcome. No worker: a clear 503, nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTING_QUEUE } from './orchestrator.ts';
import { APP, FAST, type Harness, startHarness, startWorker } from './test-helpers.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';
let h: Harness;
let worker: Awaited<ReturnType<typeof startWorker>> | null = null;

beforeAll(async () => {
  h = await startHarness({ worker: false, routingTimeoutMs: 1_500 });
  // A worker deploys 1.1.0 then 1.2.0 (blue-green; the old colour stays warm in its rollback
  // window), then stops: both pools keep running, healthy, with no worker left.
  const first = await startWorker(h, { reconcileIntervalMs: 0, healthMonitorIntervalMs: 0 });
  for (const version of ['1.1.0', '1.2.0']) {
    const d = await h.deploy(ENV, {
      version,
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true, rollbackWindowSeconds: 600 },
    });
    expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
  }
  await first.stop();
}, 240_000);
afterAll(async () => {
  await worker?.stop();
  await (worker ?? h?.app.orchestrator)?.runtime.stopEverything();
  await h?.close();
});

async function routingJobs(): Promise<Record<string, number>> {
  const { rows } = await h.db.pool.query<{ state: string; n: string }>(
    'SELECT state::text, count(*)::text AS n FROM pgboss.job WHERE name = $1 GROUP BY state',
    [ROUTING_QUEUE],
  );
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

async function servedVersions(address: string) {
  const versions = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const res = await fetch(address);
    expect(res.status).toBe(200);
    versions.add(res.headers.get('x-qubot-version') ?? 'none');
    await res.arrayBuffer();
  }
  return [...versions];
}

describe('[ENGINE] router work of an API-only process runs in a worker', () => {
  it('with no worker running: 503 naming the router, nothing changed, the job withdrawn', async () => {
    const before = await h.environment(ENV);
    expect(before.live.version).toBe('1.2.0');
    const other = before.activeColor === 'blue' ? 'green' : 'blue';
    const audits = await h.db.prisma.auditEntry.count({ where: { action: 'environment.traffic' } });
    const res = await h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: other });
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json().error).toMatchObject({
      code: 'unavailable',
      details: { reason: 'router_unavailable' },
    });
    expect(res.json().error.message).toMatch(/no worker took the routing change/);
    expect(await h.environment(ENV)).toEqual(before);
    expect(await h.db.prisma.auditEntry.count({ where: { action: 'environment.traffic' } })).toBe(audits);
    expect(await routingJobs()).toEqual({ cancelled: 1 });
    // What the address serves did not move either.
    expect(await servedVersions(before.address)).toEqual(['1.2.0']);
  });

  it('with a worker: the switch is done by the worker and the router serves what the API reports', async () => {
    worker = await startWorker(h, { reconcileIntervalMs: 0, healthMonitorIntervalMs: 0 });
    const live = await h.environment(ENV);
    expect(live.live.version).toBe('1.2.0');
    const jobsBefore = (await routingJobs()).completed ?? 0;
    const other = live.activeColor === 'blue' ? 'green' : 'blue';

    const res = await h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: other });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ activeColor: other, live: { version: '1.1.0' } });
    // Two jobs: make sure the router runs, then push the routing; both taken by the worker.
    expect((await routingJobs()).completed).toBe(jobsBefore + 2);
    expect(await servedVersions(live.address)).toEqual(['1.1.0']);
    expect(await h.environment(ENV)).toMatchObject({ activeColor: other, live: { version: '1.1.0' } });
  }, 240_000);
});
