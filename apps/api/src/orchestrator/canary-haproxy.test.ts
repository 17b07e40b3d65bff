// Canary analysis through the HAProxy provider, which has counters but no latency: requests and
// errors per pool over the step's window come from the difference of its `show stat` totals. A
// faulty canary fails on its error rate; a latency threshold cannot be judged, and says so — it
// never passes for lack of data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import { FAST, type Harness, setTrafficProvider, startHarness } from './test-helpers.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';

interface Row {
  step: string;
  metric: string;
  verdict: string;
  value: number | null;
  samples: number;
  baseline: number | null;
  unavailable?: string;
}

beforeAll(async () => {
  h = await startHarness();
  await setTrafficProvider(h, ENV, 'haproxy');
  const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('[CANARY] analysis through the HAProxy provider', () => {
  it('a canary of 1.3.0-faulty fails on its error rate, measured from the HAProxy counters', async () => {
    const env = await h.environment(ENV);
    expect(env.trafficProvider).toBe('haproxy');
    const load = startLoad(env.address, { rps: 100, concurrency: 4 });
    try {
      const d = await h.deploy(ENV, {
        version: '1.3.0-faulty',
        strategy: 'canary',
        options: {
          ...FAST,
          steps: [50],
          stepDurationSeconds: 600,
          analysis: { intervalSeconds: 1, maxP95Ms: null },
        },
      });
      const done = await h.until(d.id, FINAL, 90_000);
      expect(done.status).toBe('rolled_back');
      expect(done.error).toMatch(
        /^analysis failed at Traffic 50% after \d+ s of its 10 min hold: error rate [\d.]+ % > max 5 % \(\d+ requests\)$/,
      );
      const breach = (done.analysis as Row[]).find((a) => a.verdict === 'failed');
      expect(breach).toMatchObject({ metric: 'errorRate', step: 'weight-50' });
      expect(breach?.samples).toBeGreaterThanOrEqual(20);
      expect(breach?.value).toBeGreaterThan(0.05);
      // The stable pool over the same window: measured, and clean.
      expect(breach?.baseline).not.toBeNull();
      expect(breach?.baseline as number).toBeLessThan(0.05);
      expect(await h.environment(ENV)).toMatchObject({ live: { version: '1.0.0' } });
    } finally {
      const r = await load.stop();
      // The faulty release answers 5xx itself; the rollback moved nobody onto an error of the router.
      expect(r.errors.every((e) => e === 'HTTP 500' || e === 'HTTP 503')).toBe(true);
    }
  }, 120_000);

  it('a latency threshold cannot be judged: the step ends inconclusive, saying why, and rolls back', async () => {
    const env = await h.environment(ENV);
    const load = startLoad(env.address, { rps: 100, concurrency: 4 });
    try {
      const d = await h.deploy(ENV, {
        version: '1.1.0',
        strategy: 'canary',
        // The default analysis has a p95 threshold (1000 ms).
        options: { ...FAST, steps: [50], stepDurationSeconds: 2, analysis: { intervalSeconds: 1 } },
      });
      const done = await h.until(d.id, FINAL, 90_000);
      expect(done.status).toBe('rolled_back');
      expect(done.error).toBe(
        'analysis inconclusive at Traffic 50%: p95 latency cannot be measured: the haproxy traffic provider counts requests and errors only; it measures no latency percentiles (set analysis.maxP95Ms to null to judge on the error rate alone)',
      );
      const analysis = done.analysis as Row[];
      const p95 = analysis.filter((a) => a.metric === 'p95Ms');
      expect(p95.length).toBeGreaterThan(0);
      expect(p95.every((a) => a.verdict === 'inconclusive' && a.value === null && a.unavailable)).toBe(true);
      // The rest was measured: the error rate passed on real requests.
      const rate = analysis.filter((a) => a.metric === 'errorRate').at(-1);
      expect(rate).toMatchObject({ verdict: 'passed' });
      expect(rate?.samples).toBeGreaterThanOrEqual(20);
      expect(await h.environment(ENV)).toMatchObject({ live: { version: '1.0.0' } });
    } finally {
      const r = await load.stop();
      expect(r.failed, r.errors.join(', ')).toBe(0);
    }
  }, 120_000);
});
