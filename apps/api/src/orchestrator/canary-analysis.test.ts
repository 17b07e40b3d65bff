// A canary cannot pass on silence, and a breach ends it early: the real worker, router and
// instances of the faulty release (apps/qubot-one/artifacts/faulty-5xx-30.json).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import { FAST, type Harness, startHarness } from './test-helpers.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';

interface Row {
  step: string;
  metric: string;
  verdict: string;
  passed: boolean;
  value: number | null;
  samples: number;
  minSamples: number;
  baseline: number | null;
  until: number;
}
interface StepRow {
  name: string;
  status: string;
  message: string | null;
}

beforeAll(async () => {
  h = await startHarness();
  const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('[CANARY] analysis on real traffic', () => {
  it('a canary of 1.3.0-faulty with no traffic at all holds as inconclusive, then rolls back: it never succeeds', async () => {
    const d = await h.deploy(ENV, {
      version: '1.3.0-faulty',
      strategy: 'canary',
      options: {
        ...FAST,
        steps: [50],
        stepDurationSeconds: 1,
        analysis: { intervalSeconds: 1, inconclusiveLimitSeconds: 4 },
      },
    });
    // While it holds, the step says what it waits for; the deployment is not finished.
    const deadline = Date.now() + 60_000;
    let holding: { status: string; steps: StepRow[] } | null = null;
    while (Date.now() < deadline) {
      const now = await h.deployment(d.id);
      const step = (now.steps as StepRow[]).find((s) => s.name === 'Traffic 50%');
      if (step?.message?.startsWith('analysis inconclusive: waiting for at least 20 requests')) {
        holding = now;
        break;
      }
      expect(FINAL, JSON.stringify(now.steps)).not.toContain(now.status);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(holding, 'the step showed that it waits for requests').not.toBeNull();
    expect(holding?.status).toBe('running');

    const done = await h.until(d.id, FINAL, 60_000);
    expect(done.status).toBe('rolled_back');
    expect(done.error).toMatch(
      /^analysis inconclusive at Traffic 50% after \d+ s: waiting for at least 20 requests \(0 so far\)$/,
    );
    const analysis = done.analysis as Row[];
    expect(analysis.some((a) => a.verdict === 'passed' && a.metric !== 'health')).toBe(false);
    // The latency check is there on every measurement, inconclusive, never silently dropped.
    const times = new Set(analysis.map((a) => a.until));
    const p95 = analysis.filter((a) => a.metric === 'p95Ms');
    expect(p95).toHaveLength(times.size);
    expect(p95.every((a) => a.verdict === 'inconclusive' && a.value === null)).toBe(true);
    expect(await h.environment(ENV)).toMatchObject({ live: { version: '1.0.0' }, activeColor: 'blue' });
  }, 90_000);

  it('with traffic, a canary of 1.3.0-faulty fails at the first measurement that breaches, long before its hold ends', async () => {
    const env = await h.environment(ENV);
    const load = startLoad(env.address, { rps: 100, concurrency: 4 });
    try {
      const d = await h.deploy(ENV, {
        version: '1.3.0-faulty',
        strategy: 'canary',
        options: { ...FAST, steps: [50], stepDurationSeconds: 600, analysis: { intervalSeconds: 1 } },
      });
      const done = await h.until(d.id, FINAL, 90_000);
      expect(done.status).toBe('rolled_back');
      const steps = done.steps as (StepRow & { startedAt: string; finishedAt: string })[];
      const step = steps.find((s) => s.name === 'Traffic 50%')!;
      expect(step.status).toBe('failed');
      // Early abort: at the first measurement (every 10 s: a ten-minute hold is measured 60 times).
      const held = Date.parse(step.finishedAt) - Date.parse(step.startedAt);
      expect(held).toBeLessThan(60_000);
      expect(done.error).toMatch(
        /^analysis failed at Traffic 50% after \d+ s of its 10 min hold: error rate [\d.]+ % > max 5 % \(\d+ requests\)$/,
      );
      const breach = (done.analysis as Row[]).find((a) => a.verdict === 'failed');
      expect(breach).toMatchObject({ metric: 'errorRate', step: 'weight-50', minSamples: 20 });
      expect(breach!.samples).toBeGreaterThanOrEqual(20);
      expect(breach!.value).toBeGreaterThan(0.05);
      // The stable pool (1.0.0) was measured over the same window, and it was clean.
      expect(breach!.baseline).not.toBeNull();
      expect(breach!.baseline!).toBeLessThan(0.05);
    } finally {
      await load.stop();
    }
  }, 120_000);
});
