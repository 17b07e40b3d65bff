// The control plane's own metrics (docs/monitoring.md): deployments, durations, rollbacks,
// analysis, approvals, live versions, instances, the job queue, lease losses, backups and DORA.
// Every value comes from the database (metric-repo.ts): rollups kept by triggers in the
// transaction that changed a deployment, and small indexed state. So every process — API or
// worker role — answers the same figures, and a restart resets nothing. Label sets are bounded by
// the applications and environments (plus fixed enums); no id, no free text.
import type { MetricSnapshot } from '@qubot/db';
import { DORA_WINDOWS, dayOffset, figures } from '../views/dora-view.ts';

/** Upper bounds of the duration buckets, seconds: the same as qubot_duration_bounds() in SQL. */
export const DURATION_BOUNDS = [5, 15, 30, 60, 120, 300, 600, 1800, 3600] as const;
const STRATEGY: Record<string, string> = { blue_green: 'blue-green', rolling: 'rolling', canary: 'canary' };
const ACTIVE_STATUSES = ['pending', 'running', 'paused'] as const;
const WAITING_FOR = ['approval', 'switch', 'advance'] as const;
const INSTANCE_STATUSES = ['starting', 'running', 'unhealthy', 'stopping'] as const;
/** pg-boss queues of the orchestrator (orchestrator.ts): always listed, 0 when empty. */
export const QUEUES = ['deployment-drive', 'environment-routing'] as const;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const fmt = (n: number) =>
  Number.isFinite(n) ? String(n) : Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';

type Labels = Record<string, string>;
class Exposition {
  private out: string[] = [];
  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string) {
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, labels: Labels, value: number) {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    this.out.push(`${name}${l ? `{${l}}` : ''} ${fmt(value)}`);
  }
  text() {
    return this.out.length ? `${this.out.join('\n')}\n` : '';
  }
}

/** Prometheus text for one snapshot; `now` (epoch ms) dates the ages and the DORA windows. */
export function formatControlPlaneMetrics(s: MetricSnapshot, now: number): string {
  const env = new Map(s.environments.map((e) => [e.id, e]));
  const base = (environmentId: string): Labels | null => {
    const e = env.get(environmentId);
    return e ? { application: e.application, environment: e.environment } : null;
  };
  const x = new Exposition();

  // Deployments started / finished, summed over kinds for the result series, split by kind too.
  x.family(
    'qubot_deployments_started_total',
    'counter',
    'Deployments started, by application, environment, strategy and kind (deploy, promote, rollback).',
  );
  for (const r of s.deployments.filter((d) => d.result === 'started')) {
    const b = base(r.environmentId);
    if (b)
      x.sample(
        'qubot_deployments_started_total',
        { ...b, strategy: STRATEGY[r.strategy] ?? r.strategy, kind: r.kind },
        r.count,
      );
  }
  const finished = s.deployments.filter((d) => d.result !== 'started');
  x.family(
    'qubot_deployments_finished_total',
    'counter',
    'Deployments finished, by application, environment, strategy, kind and result (succeeded, failed, rolled_back, aborted).',
  );
  for (const r of finished) {
    const b = base(r.environmentId);
    if (b)
      x.sample(
        'qubot_deployments_finished_total',
        { ...b, strategy: STRATEGY[r.strategy] ?? r.strategy, kind: r.kind, result: r.result },
        r.count,
      );
  }
  // Duration histogram: kinds merged (one series per application, environment, strategy, result).
  const hist = new Map<string, { labels: Labels; buckets: number[]; sum: number; count: number }>();
  for (const r of finished) {
    const b = base(r.environmentId);
    if (!b) continue;
    const labels = { ...b, strategy: STRATEGY[r.strategy] ?? r.strategy, result: r.result };
    const key = JSON.stringify(labels);
    const h = hist.get(key) ?? {
      labels,
      buckets: new Array(DURATION_BOUNDS.length + 1).fill(0),
      sum: 0,
      count: 0,
    };
    r.durationBuckets.forEach((n, i) => {
      if (i < h.buckets.length) h.buckets[i] = (h.buckets[i] ?? 0) + n;
    });
    h.sum += r.durationSum;
    h.count += r.count;
    hist.set(key, h);
  }
  x.family(
    'qubot_deployment_duration_seconds',
    'histogram',
    'Time from a deployment start to its end, by application, environment, strategy and result.',
  );
  for (const h of hist.values()) {
    let cumulative = 0;
    DURATION_BOUNDS.forEach((le, i) => {
      cumulative += h.buckets[i] ?? 0;
      x.sample('qubot_deployment_duration_seconds_bucket', { ...h.labels, le: String(le) }, cumulative);
    });
    x.sample('qubot_deployment_duration_seconds_bucket', { ...h.labels, le: '+Inf' }, h.count);
    x.sample('qubot_deployment_duration_seconds_sum', h.labels, h.sum);
    x.sample('qubot_deployment_duration_seconds_count', h.labels, h.count);
  }

  const counter = (name: string, metric: string, help: string, labelName?: string) => {
    x.family(metric, 'counter', help);
    for (const c of s.counters.filter((c) => c.name === name)) {
      const b = base(c.environmentId);
      if (b) x.sample(metric, labelName ? { ...b, [labelName]: c.label } : b, c.count);
    }
  };
  counter(
    'rollback',
    'qubot_rollbacks_total',
    'Rollbacks: automatic (a failed step or analysis rolled the deployment back) or manual (a person rolled back).',
    'trigger',
  );
  counter('analysis_run', 'qubot_analysis_runs_total', 'Analysis measurements taken during deployments.');
  counter('analysis_check', 'qubot_analysis_checks_total', 'Analysis checks evaluated, by metric.', 'metric');
  counter(
    'analysis_check_failed',
    'qubot_analysis_check_failures_total',
    'Analysis checks that failed (threshold breached), by metric.',
    'metric',
  );
  counter(
    'instance_restart',
    'qubot_instance_restarts_total',
    'Instance restarts by the supervisor after a crash.',
  );
  counter(
    'lease_loss',
    'qubot_lease_losses_total',
    'Deployment leases lost by a worker while driving (its database connection died).',
  );

  // Open work: every environment gets every series (0 when idle), so alerts see a value.
  x.family('qubot_deployments_active', 'gauge', 'Deployments not finished, by status.');
  x.family(
    'qubot_deployments_waiting',
    'gauge',
    'Paused deployments waiting for a person, by what they wait for (approval, switch, advance).',
  );
  x.family(
    'qubot_deployment_waiting_oldest_seconds',
    'gauge',
    'How long the longest-waiting deployment has waited, by what it waits for (0 when none).',
  );
  x.family('qubot_approvals_waiting', 'gauge', 'Deployments waiting for an approval.');
  x.family(
    'qubot_approval_waiting_oldest_seconds',
    'gauge',
    'Age of the oldest approval request still waiting (0 when none).',
  );
  const byEnv = (id: string) => s.open.filter((o) => o.environmentId === id);
  for (const e of s.environments) {
    const b = { application: e.application, environment: e.environment };
    const open = byEnv(e.id);
    for (const status of ACTIVE_STATUSES)
      x.sample(
        'qubot_deployments_active',
        { ...b, status },
        open.filter((o) => o.status === status).reduce((n, o) => n + o.count, 0),
      );
    for (const w of WAITING_FOR) {
      const rows = open.filter((o) => o.waitingFor === w);
      const oldest = Math.min(...rows.map((o) => o.oldestWaitingSince ?? now));
      const n = rows.reduce((a, o) => a + o.count, 0);
      const age = n > 0 ? Math.max(0, (now - oldest) / 1000) : 0;
      x.sample('qubot_deployments_waiting', { ...b, waiting_for: w }, n);
      x.sample('qubot_deployment_waiting_oldest_seconds', { ...b, waiting_for: w }, age);
      if (w === 'approval') {
        x.sample('qubot_approvals_waiting', b, n);
        x.sample('qubot_approval_waiting_oldest_seconds', b, age);
      }
    }
  }

  x.family(
    'qubot_environment_live_info',
    'gauge',
    'The release live in each environment (value 1; version "" when nothing is live).',
  );
  for (const e of s.environments)
    x.sample(
      'qubot_environment_live_info',
      {
        application: e.application,
        environment: e.environment,
        version: e.liveVersion ?? '',
        active_color: e.activeColor ?? '',
      },
      1,
    );
  x.family(
    'qubot_instances',
    'gauge',
    'Live instances by status (stopped and crashed ones are not counted).',
  );
  for (const e of s.environments)
    for (const status of INSTANCE_STATUSES) {
      const n = s.instances.find((i) => i.environmentId === e.id && i.status === status)?.count ?? 0;
      x.sample('qubot_instances', { application: e.application, environment: e.environment, status }, n);
    }
  x.family(
    'qubot_router_up',
    'gauge',
    'Whether the reconcile loop last found the environment router up (1) or down (0).',
  );
  for (const e of s.environments)
    if (e.routerStatus)
      x.sample(
        'qubot_router_up',
        { application: e.application, environment: e.environment },
        e.routerStatus === 'up' ? 1 : 0,
      );
  x.family('qubot_router_restarts_total', 'counter', 'Times the reconcile loop had to start a router again.');
  for (const e of s.environments)
    x.sample(
      'qubot_router_restarts_total',
      { application: e.application, environment: e.environment },
      e.routerRestarts,
    );

  x.family('qubot_job_queue_depth', 'gauge', 'Jobs waiting in the orchestrator queue, by queue.');
  for (const q of new Set<string>([...QUEUES, ...s.queue.map((q) => q.queue)]))
    x.sample('qubot_job_queue_depth', { queue: q }, s.queue.find((r) => r.queue === q)?.depth ?? 0);

  if (s.lastBackupAt !== null) {
    x.family('qubot_backup_last_timestamp_seconds', 'gauge', 'When the newest backup was taken (Unix time).');
    x.sample('qubot_backup_last_timestamp_seconds', {}, s.lastBackupAt / 1000);
    x.family('qubot_backup_age_seconds', 'gauge', 'Age of the newest backup.');
    x.sample('qubot_backup_age_seconds', {}, Math.max(0, (now - s.lastBackupAt) / 1000));
  }
  if (s.lastVerifiedAt !== null) {
    x.family(
      'qubot_backup_restore_drill_age_seconds',
      'gauge',
      'Age of the newest restore drill (verify) that passed.',
    );
    x.sample('qubot_backup_restore_drill_age_seconds', {}, Math.max(0, (now - s.lastVerifiedAt) / 1000));
  }

  // DORA over 7/30/90 days, from the daily rollup (a series only where it has a value).
  const today = dayOffset(now, 0);
  const dailyByEnv = new Map<string, MetricSnapshot['daily']>();
  for (const r of s.daily) {
    const list = dailyByEnv.get(r.environmentId);
    if (list) list.push(r);
    else dailyByEnv.set(r.environmentId, [r]);
  }
  const dora = s.environments.flatMap((e) =>
    DORA_WINDOWS.map((days) => ({
      labels: { application: e.application, environment: e.environment, window: `${days}d` },
      f: figures(dailyByEnv.get(e.id) ?? [], dayOffset(now, days), today, days),
    })),
  );
  x.family(
    'qubot_dora_deployment_frequency_per_day',
    'gauge',
    'DORA deployment frequency: successful deployments per day over the window.',
  );
  for (const d of dora) x.sample('qubot_dora_deployment_frequency_per_day', d.labels, d.f.deploymentsPerDay);
  x.family(
    'qubot_dora_change_failure_ratio',
    'gauge',
    'DORA change failure rate: failed or rolled-back deployments over finished ones (aborted excluded).',
  );
  for (const d of dora)
    if (d.f.changeFailureRate !== null)
      x.sample('qubot_dora_change_failure_ratio', d.labels, d.f.changeFailureRate);
  x.family(
    'qubot_dora_lead_time_seconds',
    'gauge',
    'DORA lead time: mean time from release creation to its successful deployment here.',
  );
  for (const d of dora)
    if (d.f.leadTimeSeconds !== null) x.sample('qubot_dora_lead_time_seconds', d.labels, d.f.leadTimeSeconds);
  x.family(
    'qubot_dora_time_to_restore_seconds',
    'gauge',
    'DORA time to restore: mean time from a failed or rolled-back deployment to the next success.',
  );
  for (const d of dora)
    if (d.f.timeToRestoreSeconds !== null)
      x.sample('qubot_dora_time_to_restore_seconds', d.labels, d.f.timeToRestoreSeconds);
  return x.text();
}

/**
 * The control-plane section of /metrics. Concurrent scrapes share one snapshot, and a snapshot is
 * reused for `maxAgeMs` (several Prometheus servers scraping the same process cost one read).
 */
export function createControlPlaneMetrics(deps: {
  metrics: { snapshot(doraDays: number): Promise<MetricSnapshot> };
  now?: () => number;
  maxAgeMs?: number;
}) {
  const now = deps.now ?? Date.now;
  const maxAge = deps.maxAgeMs ?? 1_000;
  let last: { at: number; text: Promise<string> } | null = null;
  return {
    text(): Promise<string> {
      const t = now();
      if (last && t - last.at < maxAge) return last.text;
      const text = deps.metrics
        .snapshot(Math.max(...DORA_WINDOWS))
        .then((s) => formatControlPlaneMetrics(s, t));
      const entry = { at: t, text };
      last = entry;
      // A failed read is not reused.
      text.catch(() => {
        if (last === entry) last = null;
      });
      return text;
    },
  };
}
export type ControlPlaneMetrics = ReturnType<typeof createControlPlaneMetrics>;
