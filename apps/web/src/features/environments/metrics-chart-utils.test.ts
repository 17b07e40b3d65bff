import type { EnvironmentMetrics, MetricsSample } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { appendSample, metricsSummary, poolsOf, toChartRows } from './metrics-chart-utils';

const sample = (sec: number, pools: MetricsSample['pools']): MetricsSample => ({
  at: new Date(Date.UTC(2026, 0, 1, 10, 0, sec)).toISOString(),
  intervalMs: 2000,
  pools,
});
const pool = (name: string, requests: number, errors = 0, p95Ms: number | null = 12.4) => ({
  pool: name,
  version: name === 'blue' ? '1.0.0' : '1.1.0',
  requests,
  errors,
  p95Ms,
  inFlight: 0,
});

describe('appendSample', () => {
  const history: EnvironmentMetrics = {
    environment: 'qubot-one/staging',
    intervalMs: 2000,
    samples: [sample(0, []), sample(2, [])],
  };
  it('appends, drops what left the window, ignores duplicates', () => {
    const next = appendSample(history, sample(4, [pool('blue', 10)]), 3000);
    expect(next?.samples.map((s) => s.at.slice(17, 19))).toEqual(['02', '04']);
    expect(appendSample(next, sample(4, []), 3000)).toBe(next);
    expect(appendSample(undefined, sample(4, []), 3000)).toBeUndefined();
  });
});

describe('toChartRows', () => {
  it('gives rates per second per pool, null where a pool was absent', () => {
    const samples = [sample(0, [pool('blue', 20, 2)]), sample(2, [pool('green', 5), pool('blue', 15)])];
    const pools = poolsOf(samples);
    expect(pools).toEqual(['blue', 'green']);
    expect(toChartRows(samples, pools)).toEqual([
      {
        t: Date.parse(samples[0]!.at),
        label: '10:00:00',
        blue_rps: 10,
        blue_eps: 1,
        green_rps: null,
        green_eps: null,
      },
      {
        t: Date.parse(samples[1]!.at),
        label: '10:00:02',
        blue_rps: 7.5,
        blue_eps: 0,
        green_rps: 2.5,
        green_eps: 0,
      },
    ]);
  });
});

describe('metricsSummary', () => {
  it('reads the latest sample out', () => {
    expect(metricsSummary([])).toBe('No traffic figures yet.');
    expect(metricsSummary([sample(0, [])])).toBe('No pool is receiving traffic.');
    expect(
      metricsSummary([
        sample(0, [pool('blue', 1)]),
        sample(2, [pool('blue', 20, 1), pool('green', 3, 0, null)]),
      ]),
    ).toBe(
      'Latest, at 10:00:02 UTC — blue (1.0.0): 10 requests/s, 0.5 errors/s, p95 12 ms; green (1.1.0): 1.5 requests/s, 0 errors/s.',
    );
  });
});
