// The Prometheus analysis provider against a REAL Prometheus (Debian's package) scraping the real
// router of the environment (found through http_sd): with the PromQL templates set, a canary of
// the faulty release fails its analysis on the error rate Prometheus reports, a healthy one
// passes on Prometheus's figures, and a Prometheus that cannot be reached leaves the analysis
// inconclusive — the canary rolls back at its limit, it never passes.

import { QUBOT_ROUTER_QUERIES as ROUTER_QUERIES } from '@qubot/api-contract';
import { freePort } from '@qubot/runtime/proc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Load, startLoad } from '../../../../test/load.ts';
import { startPrometheus, type TestPrometheus } from '../../../../test/prometheus-server.ts';
import {
  APP,
  createToken,
  FAST,
  type Harness,
  liveWithOneReplica,
  settled,
  startHarness,
} from './test-helpers.ts';

const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
let h: Harness;
let prometheus: TestPrometheus | null = null;
let load: Load | null = null;

type Row = { metric: string; verdict: string; value: number | null; source?: string; unavailable?: string };

const setProvider = async (body: object) => {
  const res = await h.app.inject({
    method: 'PUT',
    url: `/api/v1/apps/${APP}/environments/${ENV}/analysis-provider`,
    headers: await h.as('admin'),
    payload: { reason: 'test', ...body },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

const canary = (version: string, analysis: Record<string, unknown> = {}) =>
  h.deploy(ENV, {
    version,
    strategy: 'canary',
    options: {
      ...FAST,
      steps: [50],
      stepDurationSeconds: 12,
      analysis: { intervalSeconds: 2, minRequests: 20, maxErrorRate: 0.05, maxP95Ms: 2000, ...analysis },
    },
  });

beforeAll(async () => {
  h = await startHarness();
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const apiPort = (h.app.server.address() as { port: number }).port;
  await liveWithOneReplica(h, ENV);
  prometheus = await startPrometheus({ apiPort, viewerToken: await createToken(h, 'viewer', 'prometheus') });
  // The router is scraped (found through http_sd) before any canary relies on it.
  await prometheus.until(
    `up{job="qubot-runtime",qubot_component="router",application="${APP}",environment="${ENV}"}`,
    1,
  );
  load = startLoad((await h.environment(ENV)).address, { rps: 60, concurrency: 3 });
}, 120_000);

afterAll(async () => {
  await load?.stop();
  await prometheus?.stop();
  await h?.close();
});

describe('[ANALYSIS] Prometheus query provider against a real Prometheus', () => {
  it('a canary of the faulty release fails its analysis on the error rate from PromQL, and rolls back', async () => {
    await setProvider({
      provider: 'prometheus',
      prometheus: { url: prometheus?.url, queries: ROUTER_QUERIES },
    });
    const d = await canary('1.3.0-faulty');
    const done = await h.until(d.id, FINAL, 120_000);
    expect(done.status).toBe('rolled_back');
    const rows = done.analysis as Row[];
    const breach = rows.find((r) => r.metric === 'errorRate' && r.verdict === 'failed');
    expect(breach, JSON.stringify(rows)).toMatchObject({ source: 'prometheus' });
    // qubot-one/faulty-5xx-30 fails about 30 % of its requests: Prometheus saw that.
    expect(breach?.value).toBeGreaterThan(0.1);
    expect(done.error).toMatch(/analysis failed at Traffic 50%.*error rate/);
    // Every traffic figure of the canary came from Prometheus.
    expect(rows.filter((r) => r.metric !== 'health').every((r) => r.source === 'prometheus')).toBe(true);
    expect((await h.environment(ENV)).live.version).toBe('1.0.0');
    await settled(h, ENV);
  }, 150_000);

  it('a canary of a healthy release passes on the figures from PromQL', async () => {
    const d = await canary('1.2.0');
    const done = await h.until(d.id, FINAL, 120_000);
    expect(done.status, JSON.stringify(done.steps)).toBe('succeeded');
    const rows = (done.analysis as Row[]).filter((r) => r.metric !== 'health');
    const last = (metric: string) => rows.filter((r) => r.metric === metric).at(-1);
    expect(last('minRequests')).toMatchObject({ verdict: 'passed', source: 'prometheus' });
    expect(last('minRequests')?.value).toBeGreaterThanOrEqual(20);
    expect(last('errorRate')).toMatchObject({ verdict: 'passed', source: 'prometheus', value: 0 });
    expect(last('p95Ms')).toMatchObject({ verdict: 'passed', source: 'prometheus' });
    expect(last('p95Ms')?.value).toBeGreaterThan(0);
    expect((await h.environment(ENV)).live.version).toBe('1.2.0');
    await settled(h, ENV);
  }, 150_000);

  it('Prometheus unreachable: every measurement is inconclusive, saying why; the canary rolls back at its limit, never passes', async () => {
    const closed = await freePort();
    await setProvider({
      provider: 'prometheus',
      prometheus: { url: `http://127.0.0.1:${closed}`, queries: ROUTER_QUERIES, timeoutSeconds: 2 },
    });
    const d = await canary('1.1.0', { inconclusiveLimitSeconds: 4, onInconclusive: 'fail' });
    const done = await h.until(d.id, FINAL, 120_000);
    expect(done.status).toBe('rolled_back');
    expect(done.error).toMatch(
      new RegExp(
        `analysis inconclusive at Traffic 50% after .*: waiting for the request count cannot be measured: requests query: Prometheus at http://127.0.0.1:${closed} cannot be reached`,
      ),
    );
    const rows = (done.analysis as Row[]).filter((r) => r.metric !== 'health');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.verdict === 'inconclusive' && r.value === null && r.unavailable)).toBe(true);
    expect((await h.environment(ENV)).live.version).toBe('1.2.0');
    await settled(h, ENV);
    // Back to the router's own figures.
    expect((await setProvider({ provider: 'router' })).provider).toBe('router');
  }, 150_000);
});
