import { type Metric, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { validateRouterConfig } from './config.ts';
import { PoolMetrics, PoolStats, requestMetrics } from './stats.ts';

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

describe('request metrics', () => {
  it('exposes per-(pool, version) counters and a cumulative latency histogram at scrape time', async () => {
    const blue = new PoolMetrics('blue', '1.2.0');
    const green = new PoolMetrics('green', '1.3.0');
    blue.record(200, 0.004, false);
    blue.record(200, 0.005, false); // on a bound: counted in that bucket, as Prometheus defines `le`
    blue.record(503, 0.2, false);
    blue.record(502, 20, true);
    const registry = new Registry();
    for (const m of requestMetrics(
      () => [blue, green],
      () => new Map([['blue', 3]]),
    ))
      registry.registerMetric(m as unknown as Metric);
    const text = await registry.metrics();
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${line} `))
          ?.split(' ')[1],
      );
    expect(value('qubot_router_requests_total{pool="blue",version="1.2.0",code="2xx"}')).toBe(2);
    expect(value('qubot_router_requests_total{pool="blue",version="1.2.0",code="5xx"}')).toBe(2);
    expect(value('qubot_router_errors_total{pool="blue",version="1.2.0",kind="5xx"}')).toBe(1);
    expect(value('qubot_router_errors_total{pool="blue",version="1.2.0",kind="proxy"}')).toBe(1);
    expect(value('qubot_router_retries_total{pool="blue"}')).toBe(3);
    const bucket = (le: string) =>
      value(`qubot_router_request_duration_seconds_bucket{le="${le}",pool="blue",version="1.2.0"}`);
    expect([bucket('0.005'), bucket('0.1'), bucket('0.25'), bucket('10'), bucket('+Inf')]).toEqual([
      2, 2, 3, 3, 4,
    ]);
    expect(value('qubot_router_request_duration_seconds_count{pool="blue",version="1.2.0"}')).toBe(4);
    expect(value('qubot_router_request_duration_seconds_sum{pool="blue",version="1.2.0"}')).toBeCloseTo(
      20.209,
    );
    // A label set without requests is not exposed at all (as with prom-client's own metrics).
    expect(text).not.toContain('pool="green"');
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
