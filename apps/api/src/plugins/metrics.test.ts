import { Histogram, type Metric, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { DurationHistogram, parseCidrList } from './metrics.ts';

type T = Awaited<ReturnType<typeof buildTestApp>>;
let open: T;
let guarded: T;
const TOKEN = 'scrape-me-9f2c1e7a4b';

beforeAll(async () => {
  open = await buildTestApp({ seed: false });
  guarded = await buildTestApp({ seed: false, app: { metrics: { token: TOKEN, allow: ['10.0.0.0/8'] } } });
});
afterAll(async () => {
  await open.close();
  await guarded.close();
});

const scrape = (t: T, remoteAddress: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers });

describe('[security] /metrics access', () => {
  it('is open to loopback only by default, with the error envelope for everyone else', async () => {
    for (const addr of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      const res = await scrape(open, addr);
      expect(res.statusCode, addr).toBe(200);
      expect(res.body).toMatch(/http_request_duration_seconds/);
    }
    for (const addr of ['10.1.2.3', '192.168.0.4', '::ffff:10.0.0.1', '2001:db8::1']) {
      const res = await scrape(open, addr);
      expect(res.statusCode, addr).toBe(403);
      expect(res.json()).toMatchObject({
        error: { code: 'forbidden', details: { reason: 'metrics_address' } },
        requestId: expect.any(String),
      });
      expect(res.body).not.toMatch(/http_request_duration_seconds/);
    }
  });

  it('lets in the configured ranges, and anyone with the bearer token; loopback is no longer implied', async () => {
    expect((await scrape(guarded, '10.200.0.9')).statusCode).toBe(200);
    const noToken = await scrape(guarded, '127.0.0.1');
    expect(noToken.statusCode).toBe(401);
    expect(noToken.json().error.code).toBe('unauthenticated');
    expect(
      (await scrape(guarded, '203.0.113.5', { authorization: 'Bearer wrong-token-1234567' })).statusCode,
    ).toBe(401);
    const withToken = await scrape(guarded, '203.0.113.5', { authorization: `Bearer ${TOKEN}` });
    expect(withToken.statusCode).toBe(200);
    expect(withToken.body).toMatch(/qubot_process_cpu_seconds_total/);
  });

  it('reads QUBOT_METRICS_TOKEN and QUBOT_METRICS_ALLOW, refusing bad values by name', () => {
    expect(loadConfig([], {}).metrics).toEqual({ token: undefined });
    expect(
      loadConfig([], { QUBOT_METRICS_TOKEN: TOKEN, QUBOT_METRICS_ALLOW: '10.0.0.0/8, 192.168.1.7 ::1' })
        .metrics,
    ).toEqual({ token: TOKEN, allow: ['10.0.0.0/8', '192.168.1.7/32', '::1/128'] });
    expect(loadConfig([], { QUBOT_METRICS_ALLOW: '' }).metrics).toEqual({ token: undefined, allow: [] });
    expect(() => loadConfig([], { QUBOT_METRICS_ALLOW: '10.0.0.0/33' })).toThrow(ConfigError);
    expect(() => loadConfig([], { QUBOT_METRICS_ALLOW: 'localhost' })).toThrow(
      /QUBOT_METRICS_ALLOW: "localhost"/,
    );
    expect(() => loadConfig([], { QUBOT_METRICS_TOKEN: 'short' })).toThrow(/QUBOT_METRICS_TOKEN/);
    expect(parseCidrList('0.0.0.0/0,::/0')).toEqual(['0.0.0.0/0', '::/0']);
  });
});

describe('[API] the request duration histogram', () => {
  const line = (body: string, series: string) =>
    Number(new RegExp(`^${series.replace(/[{}+.]/g, '\\$&')} (\\S+)$`, 'm').exec(body)?.[1]);

  it('counts each request once in its route and status series; unmatched paths under one label', async () => {
    for (let i = 0; i < 3; i++)
      expect((await open.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Under /api: elsewhere a GET of an unknown path is a dashboard route when the web app is built.
    for (const url of ['/api/v1/no/such/path/1', '/api/v1/no/such/path/2'])
      expect((await open.app.inject({ method: 'GET', url })).statusCode).toBe(404);
    const body = (await scrape(open, '127.0.0.1')).body;
    const labels = (route: string, status: number) => `method="GET",route="${route}",status_code="${status}"`;
    expect(line(body, `http_request_duration_seconds_count{${labels('/healthz', 200)}}`)).toBe(3);
    expect(line(body, `http_request_duration_seconds_bucket{le="+Inf",${labels('/healthz', 200)}}`)).toBe(3);
    expect(line(body, `http_request_duration_seconds_count{${labels('unmatched', 404)}}`)).toBe(2);
    expect(body).not.toContain('/no/such/path');
    expect(line(body, `http_request_duration_seconds_sum{${labels('/healthz', 200)}}`)).toBeGreaterThan(0);
  });

  it("writes the very text prom-client's Histogram writes for the same observations", async () => {
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
    const observations: [string, number, number][] = [
      ['GET', 200, 0.0004],
      ['GET', 200, 0.005],
      ['GET', 200, 0.03],
      ['GET', 404, 7],
      ['POST', 201, 0.2],
      ['GET', 200, 1],
    ];
    const ours = new Registry();
    const mine = new DurationHistogram(buckets);
    ours.registerMetric(mine as unknown as Metric);
    const observe = mine.forRoute('/api/v1/apps');
    for (const [method, status, s] of observations) observe(method, status, s);

    const theirs = new Registry();
    const reference = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets,
      registers: [theirs],
    });
    for (const [method, status, s] of observations)
      reference.observe({ method, route: '/api/v1/apps', status_code: String(status) }, s);

    const sorted = (text: string) => text.split('\n').sort();
    expect(sorted(await ours.metrics())).toEqual(sorted(await theirs.metrics()));
  });
});
