import { describe, expect, it } from 'vitest';
import { validateRouterConfig } from './config';
import { PoolStats } from './stats';

describe('PoolStats', () => {
  it('computes counts, error rate and nearest-rank percentiles over a sliding window', () => {
    let now = 1_000_000;
    const s = new PoolStats('green', '1.3.0', () => now);
    for (let i = 1; i <= 100; i++) s.record(i, i % 10 === 0);
    now += 10_000;
    s.record(1000, true);
    const recent = s.window(5_000);
    expect(recent).toMatchObject({ requests: 1, errors: 1, errorRate: 1, p50: 1000, p99: 1000 });
    const all = s.window(60_000);
    expect(all).toMatchObject({ requests: 101, errors: 11, p50: 51, p95: 96, p99: 100 });
    expect(all.totals).toEqual({ requests: 101, errors: 11, retries: 0 });
    s.reset();
    expect(s.window(60_000)).toMatchObject({ requests: 0, errorRate: 0, p50: null });
  });

  it('keeps a bounded ring of samples', () => {
    const s = new PoolStats('blue', '1', () => 0, 10);
    for (let i = 0; i < 25; i++) s.record(i, false);
    const w = s.window(1_000);
    expect(w.requests).toBe(10);
    expect(w.p50).toBe(19);
    expect(w.totals.requests).toBe(25);
  });
});

describe('validateRouterConfig', () => {
  it('accepts a blue/green config and rejects unknown fields', () => {
    const ok = { pools: [{ name: 'blue', version: '1.2.0', weight: 100, targets: ['127.0.0.1:4000'] }] };
    expect(validateRouterConfig(ok)).toEqual(ok);
    expect(() => validateRouterConfig({ ...ok, mode: 'x' })).toThrow(/body.mode: unknown field/);
    expect(() =>
      validateRouterConfig({
        pools: [{ name: 'blue', version: '1', weight: 1.5, targets: ['127.0.0.1:1'] }],
      }),
    ).toThrow(/pools\[0\].weight/);
    expect(() =>
      validateRouterConfig({
        pools: [{ name: 'blue', version: '1', weight: 1, targets: ['127.0.0.1:70000'] }],
      }),
    ).toThrow(/targets\[0\]/);
  });
});
