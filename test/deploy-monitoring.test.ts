// deploy/: the Prometheus alerting rules pass `promtool check rules` and their unit tests
// (`promtool test rules`: each alert fires on the series it is about, and not before), the sample
// Prometheus configuration passes `promtool check config`, and the Grafana dashboard is sound.
// (apps/api/src/metrics/prometheus.test.ts runs every query of both against a real Prometheus.)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROMTOOL } from './prometheus-text.ts';

const ROOT = join(import.meta.dirname, '..');
/** Grafana's variable for the data source chosen on import. */
const DATASOURCE = ['$', '{datasource}'].join('');
const GRAFANA = join(ROOT, 'deploy/grafana');
const promtool = (args: string[], cwd = ROOT) => {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

describe('[MONITORING] deploy/: alerting rules, Prometheus configuration, Grafana dashboard', () => {
  it('promtool check rules: the alerting rules are valid, without warnings', () => {
    const r = promtool(['check', 'rules', 'deploy/grafana/alerts.yml']);
    expect(r.output).toContain('SUCCESS: 10 rules found');
    expect(r.output).not.toMatch(/warn/i);
    expect(r.status).toBe(0);
  });

  it('promtool test rules: each alert fires on what it is about, and only then', () => {
    const r = promtool(['test', 'rules', 'alerts.test.yml'], GRAFANA);
    expect(r.output, r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
    // The alerts the issue asks for are all there.
    const rules = readFileSync(join(GRAFANA, 'alerts.yml'), 'utf8');
    for (const name of [
      'QubotProductionDeploymentFailed',
      'QubotApprovalWaitingTooLong',
      'QubotLiveErrorRateHigh',
      'QubotRouterDown',
      'QubotBackupStale',
    ])
      expect(rules).toContain(`alert: ${name}`);
  });

  it('promtool check config: the sample Prometheus configuration is valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qubot-promcfg-'));
    try {
      // The sample names files under /etc/prometheus; check it against copies beside it.
      const cfg = readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8').replaceAll(
        '/etc/prometheus/',
        `${dir}/`,
      );
      writeFileSync(join(dir, 'prometheus.yml'), cfg);
      copyFileSync(join(GRAFANA, 'alerts.yml'), join(dir, 'qubot-alerts.yml'));
      writeFileSync(join(dir, 'qubot-metrics-token'), 'token');
      writeFileSync(join(dir, 'qubot-viewer-token'), 'token');
      const r = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
      expect(r.output, r.output).toContain('SUCCESS');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the Grafana dashboard: unique panel ids, every query on the chosen data source, the sections asked for', () => {
    const dash = JSON.parse(readFileSync(join(GRAFANA, 'qubot-dashboard.json'), 'utf8'));
    const panels = dash.panels as {
      id: number;
      type: string;
      title: string;
      datasource?: { uid: string };
      targets?: { expr: string; datasource: { uid: string } }[];
    }[];
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe(DATASOURCE);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource.uid).toBe(DATASOURCE);
    }
    expect(panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual([
      'Deployments',
      'Traffic (routers)',
      'DORA',
    ]);
    const exprs = panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    for (const metric of [
      'qubot_deployments_finished_total',
      'qubot_deployment_duration_seconds_bucket',
      'qubot_router_requests_total',
      'qubot_router_errors_total',
      'qubot_dora_lead_time_seconds',
      'qubot_dora_change_failure_ratio',
    ])
      expect(
        exprs.some((e) => e.includes(metric)),
        metric,
      ).toBe(true);
    expect(dash.templating.list.map((v: { name: string }) => v.name)).toEqual([
      'datasource',
      'application',
      'environment',
      'window',
    ]);
  });
});
