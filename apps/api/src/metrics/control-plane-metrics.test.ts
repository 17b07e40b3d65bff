// The control plane's metrics on /metrics, served by an API-only process while a worker beside it
// drives the deployments: every figure comes from the database, so the API process (which drove
// nothing) reports them, and a restarted process reports the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import { parseSamples, promtoolCheckMetrics, sampleKey } from '../../../../test/prometheus-text.ts';
import { buildApp } from '../app.ts';
import { APP, FAST, type Harness, startHarness, startWorker } from '../orchestrator/test-helpers.ts';

let h: Harness;
let worker: Awaited<ReturnType<typeof startWorker>>;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

beforeAll(async () => {
  h = await startHarness({ worker: false });
  worker = await startWorker(h);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await worker?.runtime.stopEverything();
  await h?.close();
});

async function scrape(app = h.app) {
  const res = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
  expect(res.statusCode).toBe(200);
  return res.body;
}
const dev = (labels: Record<string, string> = {}) => ({
  application: APP,
  environment: 'development',
  ...labels,
});
const value = (m: Map<string, number>, name: string, labels: Record<string, string>) =>
  m.get(sampleKey(name, labels));

describe('[METRICS] control-plane figures on /metrics', () => {
  it('counts deployments, durations, rollbacks, analysis, approvals, instances and live versions', async () => {
    const before = parseSamples(await scrape());
    // Every environment has its series before anything ran.
    expect(value(before, 'qubot_deployments_active', dev({ status: 'running' }))).toBe(0);
    expect(value(before, 'qubot_approvals_waiting', dev())).toBe(0);
    expect(value(before, 'qubot_environment_live_info', dev({ version: '', active_color: '' }))).toBe(1);
    expect(value(before, 'qubot_job_queue_depth', { queue: 'deployment-drive' })).toBe(0);

    // 1. A success: blue-green 1.0.0.
    const ok = await h.deploy('development', { version: '1.0.0', strategy: 'blue-green', options: FAST });
    expect((await h.until(ok.id, FINAL)).status).toBe('succeeded');
    // 2. An automatic rollback: the faulty canary breaches its error-rate analysis.
    const env = await h.environment('development');
    const load = startLoad(env.address);
    const bad = await h.deploy('development', {
      version: '1.3.0-faulty',
      strategy: 'canary',
      options: { ...FAST, steps: [50], stepDurationSeconds: 2, analysis: { maxErrorRate: 0.05 } },
    });
    const badDone = await h.until(bad.id, FINAL, 60_000);
    await load.stop();
    expect(badDone.status).toBe('rolled_back');
    const checks = badDone.analysis as { metric: string; verdict: string; at: string }[];
    // 3. A manual rollback: 1.2.0 goes live, then the environment is rolled back to 1.0.0.
    const next = await h.deploy('development', { version: '1.2.0', strategy: 'blue-green', options: FAST });
    expect((await h.until(next.id, FINAL)).status).toBe('succeeded');
    const rb = await h.post(`/apps/${APP}/environments/development/rollback`, { reason: 'bad release' });
    expect(rb.statusCode, rb.body).toBe(202);
    expect((await h.until(rb.json().id, FINAL)).status).toBe('succeeded');
    // 4. An approval waiting in staging.
    const settings = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/apps/${APP}/environments/staging/settings`,
      headers: await h.as('admin'),
      payload: { requiresApproval: true, reason: 'two-person rule' },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    const waiting = await h.deploy('staging', { version: '1.0.0', strategy: 'blue-green', options: FAST });
    expect((await h.until(waiting.id, ['paused', ...FINAL])).waitingFor).toBe('approval');

    const text = await scrape();
    const m = parseSamples(text);
    const bg = { strategy: 'blue-green', kind: 'deploy' };
    expect(value(m, 'qubot_deployments_started_total', dev(bg))).toBe(2);
    expect(value(m, 'qubot_deployments_started_total', dev({ strategy: 'canary', kind: 'deploy' }))).toBe(1);
    expect(value(m, 'qubot_deployments_started_total', dev({ ...bg, kind: 'rollback' }))).toBe(1);
    expect(value(m, 'qubot_deployments_finished_total', dev({ ...bg, result: 'succeeded' }))).toBe(2);
    expect(
      value(
        m,
        'qubot_deployments_finished_total',
        dev({ strategy: 'canary', kind: 'deploy', result: 'rolled_back' }),
      ),
    ).toBe(1);
    // Histogram: the three blue-green successes (two deploys, one rollback) in one series.
    const h3 = dev({ strategy: 'blue-green', result: 'succeeded' });
    expect(value(m, 'qubot_deployment_duration_seconds_count', h3)).toBe(3);
    expect(value(m, 'qubot_deployment_duration_seconds_bucket', { ...h3, le: '+Inf' })).toBe(3);
    expect(value(m, 'qubot_deployment_duration_seconds_sum', h3)).toBeGreaterThan(0);
    expect(value(m, 'qubot_rollbacks_total', dev({ trigger: 'automatic' }))).toBe(1);
    expect(value(m, 'qubot_rollbacks_total', dev({ trigger: 'manual' }))).toBe(1);
    // Analysis: one run per measurement, one check per metric measured, failures by metric.
    const runs = new Set(checks.map((c) => c.at)).size;
    expect(value(m, 'qubot_analysis_runs_total', dev())).toBe(runs);
    const errorChecks = checks.filter((c) => c.metric === 'errorRate');
    expect(value(m, 'qubot_analysis_checks_total', dev({ metric: 'errorRate' }))).toBe(errorChecks.length);
    expect(value(m, 'qubot_analysis_check_failures_total', dev({ metric: 'errorRate' }))).toBe(
      errorChecks.filter((c) => c.verdict === 'failed').length,
    );
    expect(errorChecks.filter((c) => c.verdict === 'failed').length).toBeGreaterThan(0);
    // Open work and what is live.
    const stg = { application: APP, environment: 'staging' };
    expect(value(m, 'qubot_approvals_waiting', stg)).toBe(1);
    expect(value(m, 'qubot_approval_waiting_oldest_seconds', stg)).toBeGreaterThanOrEqual(0);
    expect(value(m, 'qubot_deployments_active', { ...stg, status: 'paused' })).toBe(1);
    expect(value(m, 'qubot_deployments_active', dev({ status: 'running' }))).toBe(0);
    const live = [...m.entries()].filter(
      ([k]) => k.startsWith('qubot_environment_live_info{') && k.includes('environment="development"'),
    );
    expect(live).toHaveLength(1);
    expect(live[0]?.[0]).toContain('version="1.0.0"');
    const running = await h.db.prisma.instance.count({
      where: { environment: { name: 'development' }, status: 'running' },
    });
    expect(running).toBeGreaterThan(0);
    expect(value(m, 'qubot_instances', dev({ status: 'running' }))).toBe(running);
    expect(value(m, 'qubot_router_up', dev())).toBe(1);
    // DORA from the same rollup: 3 successes and 1 failure today.
    expect(value(m, 'qubot_dora_change_failure_ratio', dev({ window: '7d' }))).toBeCloseTo(1 / 4);
    expect(value(m, 'qubot_dora_deployment_frequency_per_day', dev({ window: '7d' }))).toBeCloseTo(3 / 7);
    expect(value(m, 'qubot_metrics_source_up', { source: 'control_plane' })).toBe(1);

    // The age of the waiting approval grows with time, from waiting_since (set by the database).
    const since = await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: waiting.id } });
    expect(since.waitingSince).toBeInstanceOf(Date);

    // Valid exposition, no warning (no `_total` gauge, units, names).
    const check = promtoolCheckMetrics(text);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);

    // Another process (a restart, or a second API replica) reads the same figures.
    const other = await buildApp({ db: h.db, orchestrator: { worker: false, dataDir: h.dataDir } });
    await other.ready();
    try {
      const again = parseSamples(await scrape(other));
      for (const name of [
        'qubot_deployments_started_total',
        'qubot_deployments_finished_total',
        'qubot_deployment_duration_seconds_count',
        'qubot_rollbacks_total',
        'qubot_analysis_checks_total',
        'qubot_approvals_waiting',
      ]) {
        const pick = (mm: Map<string, number>) => [...mm].filter(([k]) => k.startsWith(`${name}{`));
        expect(pick(again), name).toEqual(pick(m));
        expect(pick(m).length, name).toBeGreaterThan(0);
      }
    } finally {
      await other.close();
    }

    // Abort the waiting deployment: it is counted as finished (aborted), the approval gauge drops.
    const abort = await h.post(`/deployments/${waiting.id}/abort`, { reason: 'not today' });
    expect(abort.statusCode, abort.body).toBeLessThan(300);
    expect((await h.until(waiting.id, FINAL)).status).toBe('aborted');
    // A snapshot is reused for up to a second: poll until the scrape is newer than the abort.
    await expect
      .poll(async () => value(parseSamples(await scrape()), 'qubot_approvals_waiting', stg), {
        timeout: 5_000,
      })
      .toBe(0);
    const after = parseSamples(await scrape());
    expect(value(after, 'qubot_deployments_finished_total', { ...stg, ...bg, result: 'aborted' })).toBe(1);
  }, 180_000);

  it('counts a lost lease when the lease connection dies', async () => {
    const d = await h.db.prisma.deployment.findFirstOrThrow({
      where: { environment: { name: 'development' } },
    });
    const { tryLease } = await import('../orchestrator/lease.ts');
    const { createMetricRepo } = await import('@qubot/db');
    const metrics = createMetricRepo(h.db.prisma);
    let lost!: () => void;
    const counted = new Promise<void>((resolve) => {
      lost = () => void metrics.countLeaseLoss(d.id).then(resolve);
    });
    const lease = await tryLease(h.db, d.id, lost);
    expect(lease).not.toBeNull();
    await h.db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
         AND classid = 20912 AND objid::bigint = hashtext($1)::bigint & 4294967295`,
      [d.id],
    );
    await counted;
    await lease?.release();
    await expect
      .poll(async () => value(parseSamples(await scrape()), 'qubot_lease_losses_total', dev()), {
        timeout: 5_000,
      })
      .toBe(1);
  }, 30_000);

  it('a worker that loses a lease mid-deployment counts it, and the deployment is still driven to the end', async () => {
    const d = await h.deploy('development', { version: '1.2.0', strategy: 'rolling', options: FAST });
    // The worker's lease: a session advisory lock (namespace 0x51b0, hashtext(id)).
    const holder = async () => {
      const { rows } = await h.db.pool.query<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND classid = 20912 AND objid::bigint = hashtext($1)::bigint & 4294967295`,
        [d.id],
      );
      return rows[0]?.pid ?? null;
    };
    await expect.poll(holder, { timeout: 10_000, interval: 20 }).not.toBeNull();
    const pid = await holder();
    await h.db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    expect((await h.until(d.id, FINAL, 60_000)).status).toBe('succeeded');
    expect((await h.environment('development')).live.version).toBe('1.2.0');
    await expect
      .poll(async () => value(parseSamples(await scrape()), 'qubot_lease_losses_total', dev()), {
        timeout: 5_000,
      })
      .toBe(2);
  }, 90_000);
});
