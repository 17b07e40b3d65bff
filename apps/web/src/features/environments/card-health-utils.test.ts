import type { MetricsSample } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { liveHealth } from './card-health-utils';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
const sample = (secondsAgo: number, pools: MetricsSample['pools']): MetricsSample => ({
  at: new Date(NOW - secondsAgo * 1000).toISOString(),
  intervalMs: 5_000,
  pools,
});
const pool = (p: Partial<MetricsSample['pools'][number]>) => ({
  pool: 'blue',
  version: '1.0.0',
  requests: 25,
  errors: 0,
  p95Ms: 12,
  inFlight: 0,
  ...p,
});

describe('liveHealth', () => {
  it("adds up the live version's pools over the last minute: error rate and the worst p95", () => {
    const h = liveHealth(
      [
        sample(90, [pool({ errors: 25 })]), // older than a minute: left out
        sample(10, [
          pool({ errors: 10, p95Ms: 30 }),
          pool({ pool: 'green', version: '1.3.0-faulty', errors: 25 }),
        ]),
        sample(5, [pool({ errors: 5, p95Ms: 20 })]),
      ],
      '1.0.0',
      NOW,
    );
    expect(h).toMatchObject({ requests: 50, errors: 15, errorRate: 0.3, p95Ms: 30, tone: 'bad' });
    expect(h.text).toBe('30 % errors · p95 30 ms');
  });

  it('is green below the alarm and muted without traffic or without a live version', () => {
    expect(liveHealth([sample(5, [pool({ errors: 1, requests: 100 })])], '1.0.0', NOW)).toMatchObject({
      tone: 'ok',
      text: '1 % errors · p95 12 ms',
    });
    expect(liveHealth([], '1.0.0', NOW)).toMatchObject({ tone: 'muted', errorRate: null });
    expect(liveHealth([sample(5, [pool({})])], null, NOW).tone).toBe('muted');
  });
});
