import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { parseCidrList } from './metrics.ts';

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
