// A real Prometheus (Debian's package) on loopback scrapes the control plane and finds the
// routers and instances through GET /api/v1/prometheus/targets (http_sd, with a viewer token);
// a deployment runs under load; PromQL must return the deployment counts and the router's
// request rate.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Load, startLoad } from '../../../../test/load.ts';
import { startPrometheus, type TestPrometheus } from '../../../../test/prometheus-server.ts';
import { APP, createToken, FAST, type Harness, startHarness } from '../orchestrator/test-helpers.ts';

let h: Harness;
let prometheus: TestPrometheus | null = null;
let promUrl = '';
let load: Load | null = null;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const GRAFANA = resolve(import.meta.dirname, '../../../../deploy/grafana');

const query = (promql: string) => (prometheus as TestPrometheus).query(promql);
const scalar = (promql: string) => (prometheus as TestPrometheus).scalar(promql);

beforeAll(async () => {
  h = await startHarness();
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const apiPort = (h.app.server.address() as { port: number }).port;
  // The environment's router exists once something was deployed there.
  const first = await h.deploy('development', { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(first.id, FINAL)).status).toBe('succeeded');

  prometheus = await startPrometheus({
    apiPort,
    viewerToken: await createToken(h, 'viewer', 'prometheus'),
    ruleFiles: [resolve(GRAFANA, 'alerts.yml')],
  });
  promUrl = prometheus.url;
}, 90_000);

afterAll(async () => {
  await load?.stop();
  await prometheus?.stop();
  await h?.close();
});

describe('[MONITORING] a real Prometheus', () => {
  it('finds the router through http_sd, then sees the deployment counts and the request rate', async () => {
    // Discovery: the development router is scraped with the labels the endpoint gave it.
    await expect
      .poll(
        () =>
          scalar(
            `up{job="qubot-runtime",qubot_component="router",application="${APP}",environment="development"}`,
          ),
        {
          timeout: 30_000,
          interval: 500,
        },
      )
      .toBe(1);

    const env = await h.environment('development');
    load = startLoad(env.address, { rps: 100, concurrency: 4 });
    const d = await h.deploy('development', { version: '1.2.0', strategy: 'blue-green', options: FAST });
    expect((await h.until(d.id, FINAL)).status).toBe('succeeded');

    // Two successful blue-green deployments, from the control plane's own /metrics.
    await expect
      .poll(
        () =>
          scalar(
            `sum(qubot_deployments_finished_total{job="qubot-control-plane",application="${APP}",environment="development",result="succeeded"})`,
          ),
        { timeout: 20_000, interval: 500 },
      )
      .toBe(2);
    expect(
      await scalar(
        `sum(qubot_deployments_started_total{job="qubot-control-plane",environment="development",strategy="blue-green"})`,
      ),
    ).toBe(2);
    expect(
      await scalar(
        `qubot_environment_live_info{job="qubot-control-plane",environment="development",version="1.2.0"}`,
      ),
    ).toBe(1);

    // The new instances were discovered with their pool and version.
    await expect
      .poll(
        async () =>
          (
            await query(
              `up{job="qubot-runtime",qubot_component="instance",environment="development",version="1.2.0"}`,
            )
          ).length,
        { timeout: 20_000, interval: 500 },
      )
      .toBeGreaterThan(0);

    // The router's request rate is the load's: about 100 requests a second over the last 5 s.
    const sent = load.snapshot().rps;
    expect(sent).toBeGreaterThan(40);
    await expect
      .poll(
        () =>
          scalar(`sum(rate(qubot_router_requests_total{job="qubot-runtime",environment="development"}[5s]))`),
        { timeout: 20_000, interval: 500 },
      )
      .toBeGreaterThan(sent * 0.5);
    const rate = (await scalar(
      `sum(rate(qubot_router_requests_total{job="qubot-runtime",environment="development"}[5s]))`,
    )) as number;
    expect(rate).toBeLessThan(sent * 1.6);
    // Per version: the new release serves the traffic now (polled: a scrape delayed on a busy
    // machine leaves a short window with one sample, and rate() needs two).
    await expect
      .poll(
        async () =>
          (
            await query(
              `sum by (version) (rate(qubot_router_requests_total{job="qubot-runtime",environment="development"}[5s]))`,
            )
          ).find((r) => r.metric.version === '1.2.0') !== undefined,
        { timeout: 20_000, interval: 500 },
      )
      .toBe(true);
    await load.stop();
    load = null;
  }, 120_000);

  it('runs every alerting rule and every dashboard query of deploy/grafana on the real series', async () => {
    // The rules are evaluated by this Prometheus: none may be in error.
    type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string };
    const rules = async () => {
      const res = await fetch(`${promUrl}/api/v1/rules`);
      const body = (await res.json()) as { data: { groups: { rules: Rule[] }[] } };
      return body.data.groups.flatMap((g) => g.rules);
    };
    await expect
      .poll(async () => (await rules()).filter((r) => !r.lastEvaluation.startsWith('0001')).length, {
        timeout: 10_000,
        interval: 500,
      })
      .toBe(10);
    for (const r of await rules()) expect(r.health, `${r.name}: ${r.lastError}`).toBe('ok');

    // Dashboard queries with Grafana's variables filled in: valid, and on series that exist.
    const dash = JSON.parse(readFileSync(join(GRAFANA, 'qubot-dashboard.json'), 'utf8'));
    const exprs = (dash.panels as { targets?: { expr: string }[] }[])
      .flatMap((p) => p.targets ?? [])
      .map((t) =>
        t.expr
          .replaceAll('$application', '.*')
          .replaceAll('$environment', '.*')
          .replaceAll('$window', '7d')
          .replaceAll('$__range', '1h'),
      );
    expect(exprs.length).toBeGreaterThan(20);
    for (const e of exprs) await query(e); // throws on a PromQL error
    // Not produced by this test's history: no rollback, analysis failure, restore, or failed request
    // (the router exports an error series once there is an error).
    const absentHere = new Set([
      'qubot_router_errors_total',
      'qubot_rollbacks_total',
      'qubot_analysis_check_failures_total',
      'qubot_dora_time_to_restore_seconds',
    ]);
    // Metric names, not label names (`qubot_component="router"`).
    const names = new Set(exprs.flatMap((e) => e.match(/qubot_[a-z0-9_]+(?![a-z0-9_]|\s*[=!])/g) ?? []));
    expect(names.size).toBeGreaterThan(12);
    for (const name of names) {
      if (absentHere.has(name)) continue;
      expect((await scalar(`count({__name__="${name}"})`)) ?? 0, name).toBeGreaterThan(0);
    }
  }, 60_000);
});
