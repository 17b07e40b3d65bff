// Real deployments under load (DESIGN §3): processes on loopback, the environment's router,
// a few hundred requests a second through its address for the length of each operation. Every
// strategy runs through each traffic provider: the embedded Node router and a real HAProxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadReport, startLoad, versionRuns } from '../../../../test/load.ts';
import { APP, FAST, type Harness, listenerOf, setTrafficProvider, startHarness } from './test-helpers.ts';

const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
describe.each(['node', 'haproxy'] as const)('[ENGINE] strategies under load, %s provider', (provider) => {
  let h: Harness;
  const figures: Record<
    string,
    Pick<LoadReport, 'requests' | 'failed' | 'rps' | 'versions' | 'durationMs'>
  > = {};
  const keep = (name: string, r: LoadReport) => {
    figures[name] = {
      requests: r.requests,
      failed: r.failed,
      rps: r.rps,
      versions: r.versions,
      durationMs: Math.round(r.durationMs),
    };
  };

  beforeAll(async () => {
    h = await startHarness();
    // Set before anything runs there: no router yet, so no handover, just the setting.
    for (const env of ['development', 'staging', 'production']) await setTrafficProvider(h, env, provider);
    const staging = await h.db.prisma.environment.findFirstOrThrow({ where: { name: 'staging' } });
    await h.db.prisma.environment.update({ where: { id: staging.id }, data: { replicas: 4 } });
    // 1.0.0 live everywhere first (production is protected: its switch is manual unless asked),
    // in the promotion order: development, then staging and production.
    const dev = await h.deploy('development', {
      version: '1.0.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true },
    });
    expect((await h.until(dev.id, FINAL)).status).toBe('succeeded');
    const staging1 = await h.deploy('staging', {
      version: '1.0.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true },
    });
    expect((await h.until(staging1.id, FINAL)).status).toBe('succeeded');
    const first = await Promise.all(
      ['production'].map((env) =>
        h.deploy(env, { version: '1.0.0', strategy: 'blue-green', options: { ...FAST, autoSwitch: true } }),
      ),
    );
    for (const d of first) expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
    // The address is served by the provider asked for, and the view says which.
    for (const name of ['development', 'staging', 'production']) {
      const env = await h.environment(name);
      expect(env.trafficProvider).toBe(provider);
      expect((await listenerOf(env.address))?.command).toBe(provider === 'haproxy' ? 'haproxy' : 'node');
    }
  }, 120_000);
  afterAll(async () => {
    console.log(`load figures (${provider})`, JSON.stringify(figures));
    await h?.close();
  });

  describe('deployments', () => {
    it('blue-green: waits for the switch, then switches atomically with 0 failed requests', async () => {
      const env = await h.environment('development');
      expect(env.live.version).toBe('1.0.0');
      expect(env.activeColor).toBe('blue');
      const load = startLoad(env.address);
      const d = await h.deploy('development', {
        version: '1.1.0',
        strategy: 'blue-green',
        options: { ...FAST, autoSwitch: false },
        reason: 'release 1.1.0',
      });
      const waiting = await h.until(d.id, ['paused', ...FINAL]);
      expect(waiting.waitingFor).toBe('switch');
      // Until the switch, only the old release answers.
      expect(Object.keys(load.snapshot().versions)).toEqual(['1.0.0']);
      const sw = await h.post(`/apps/${APP}/environments/development/traffic`, {
        activeColor: 'green',
        reason: 'go',
      });
      expect(sw.statusCode, sw.body).toBe(202);
      expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
      const after = load.mark();
      await expect.poll(() => load.since(after).requests, { timeout: 5_000 }).toBeGreaterThan(100);
      expect(Object.keys(load.since(after).versions)).toEqual(['1.1.0']);
      const r = await load.stop();
      keep('blue-green', r);
      expect(r.failed, r.errors.join(', ')).toBe(0);
      expect(r.requests).toBeGreaterThan(300);
      // Each client sees the version change exactly once: old, then new, never back.
      for (const runs of versionRuns(r.samples)) expect(runs).toEqual(['1.0.0', '1.1.0']);
      const envAfter = await h.environment('development');
      expect(envAfter).toMatchObject({
        live: { version: '1.1.0' },
        previous: { version: '1.0.0' },
        activeColor: 'green',
      });
      const done = await h.deployment(d.id);
      expect(done.traffic.requests).toBeGreaterThan(100);
      expect(done.traffic.failed).toBe(0);
    }, 60_000);

    it('rollback: switches back to the warm colour at once, 0 failed requests', async () => {
      const env = await h.environment('development');
      const instancesBefore = await h.db.prisma.instance.count();
      const load = startLoad(env.address);
      await expect.poll(() => load.snapshot().requests).toBeGreaterThan(50);
      const res = await h.post(`/apps/${APP}/environments/development/rollback`, { reason: 'bad release' });
      expect(res.statusCode, res.body).toBe(202);
      const d = res.json();
      expect(d).toMatchObject({ kind: 'rollback', release: { version: '1.0.0' }, fromVersion: '1.1.0' });
      const done = await h.until(d.id, FINAL);
      expect(done.status).toBe('succeeded');
      const after = load.mark();
      await expect.poll(() => load.since(after).requests, { timeout: 5_000 }).toBeGreaterThan(100);
      expect(Object.keys(load.since(after).versions)).toEqual(['1.0.0']);
      const r = await load.stop();
      keep('rollback', r);
      expect(r.failed, r.errors.join(', ')).toBe(0);
      for (const runs of versionRuns(r.samples)) expect(runs).toEqual(['1.1.0', '1.0.0']);
      // The switch-back reused the warm instances: nothing was started.
      expect(await h.db.prisma.instance.count()).toBe(instancesBefore);
      expect(await h.environment('development')).toMatchObject({
        live: { version: '1.0.0' },
        activeColor: 'blue',
      });
      const audit = await h.db.prisma.auditEntry.findMany({ where: { action: 'environment.rollback' } });
      expect(audit).toHaveLength(1);
    }, 60_000);

    it('rolling: replaces 4 instances one by one with 0 failed requests', async () => {
      const env = await h.environment('staging');
      expect(env.instances).toHaveLength(4);
      const load = startLoad(env.address);
      const d = await h.deploy('staging', {
        version: '1.1.0',
        strategy: 'rolling',
        options: { ...FAST, maxSurge: 1, maxUnavailable: 0 },
      });
      const done = await h.until(d.id, FINAL, 90_000);
      expect(done.status).toBe('succeeded');
      const after = load.mark();
      await expect.poll(() => load.since(after).requests, { timeout: 5_000 }).toBeGreaterThan(100);
      expect(Object.keys(load.since(after).versions)).toEqual(['1.1.0']);
      const r = await load.stop();
      keep('rolling', r);
      expect(r.failed, r.errors.join(', ')).toBe(0);
      expect(r.samples[0]?.version).toBe('1.0.0');
      const steps = (done.steps as { name: string; status: string }[]).filter((s) =>
        s.name.startsWith('Batch'),
      );
      expect(steps).toHaveLength(4);
      expect(steps.every((s) => s.status === 'succeeded')).toBe(true);
      const envAfter = await h.environment('staging');
      expect(envAfter.instances.map((i: { version: string }) => i.version)).toEqual(Array(4).fill('1.1.0'));
      expect(await h.db.prisma.instance.count({ where: { deploymentId: d.id } })).toBe(4);
    }, 120_000);

    it('canary: shifts traffic by weight steps with analysis, to 100 %, 0 failed requests', async () => {
      const env = await h.environment('production');
      const load = startLoad(env.address);
      const d = await h.deploy('production', {
        version: '1.1.0',
        strategy: 'canary',
        options: {
          ...FAST,
          steps: [25, 50],
          stepDurationSeconds: 1,
          // HAProxy measures no latency: a latency threshold could never pass there (its own test).
          analysis: { minRequests: 20, ...(provider === 'haproxy' ? { maxP95Ms: null } : {}) },
        },
      });
      const done = await h.until(d.id, FINAL, 60_000);
      expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
      const after = load.mark();
      await expect.poll(() => load.since(after).requests, { timeout: 5_000 }).toBeGreaterThan(100);
      expect(Object.keys(load.since(after).versions)).toEqual(['1.1.0']);
      const r = await load.stop();
      keep('canary', r);
      expect(r.failed, r.errors.join(', ')).toBe(0);
      expect(r.versions['1.0.0']).toBeGreaterThan(0);
      expect(r.versions['1.1.0']).toBeGreaterThan(0);
      const analysis = done.analysis as { step: string; metric: string; passed: boolean; value: number }[];
      expect(analysis.filter((a) => a.metric === 'errorRate').map((a) => a.step)).toEqual([
        'weight-25',
        'weight-50',
      ]);
      expect(analysis.every((a) => a.passed)).toBe(true);
      expect(analysis.find((a) => a.metric === 'minRequests')?.value).toBeGreaterThanOrEqual(20);
      expect(await h.environment('production')).toMatchObject({
        live: { version: '1.1.0' },
        activeColor: 'green',
      });
    }, 60_000);

    it('records every transition as an event and every action in the audit trail', async () => {
      const types = await h.db.prisma.event.groupBy({ by: ['type'], _count: true });
      const names = types.map((t) => t.type);
      expect(names).toEqual(
        expect.arrayContaining(['deployment.created', 'deployment.updated', 'environment.updated']),
      );
      const seqs = (await h.db.prisma.event.findMany({ select: { seq: true }, orderBy: { seq: 'asc' } })).map(
        (e) => Number(e.seq),
      );
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      const actions = (await h.db.prisma.auditEntry.findMany({ select: { action: true } })).map(
        (a) => a.action,
      );
      expect(actions).toEqual(
        expect.arrayContaining(['deployment.create', 'environment.traffic', 'environment.rollback']),
      );
    });
  });
});
