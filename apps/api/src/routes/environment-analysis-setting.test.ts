// The environment's analysisOnInconclusive setting: changed through the settings PATCH (admin,
// audited, validated), shown in the environment view, and used by the next deployment — a silent
// canary in an unprotected environment set to `wait` pauses for a person instead of rolling back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, FAST, type Harness, startHarness } from '../orchestrator/test-helpers.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';
const url = `/api/v1/apps/${APP}/environments/${ENV}/settings`;

const patch = async (role: 'admin' | 'release-manager', payload: object) =>
  h.app.inject({ method: 'PATCH', url, headers: await h.as(role), payload });

/** A canary of the faulty release with no traffic at all: inconclusive, limit reached at once. */
const silentCanary = (analysis: Record<string, unknown> = {}) =>
  h.deploy(ENV, {
    version: '1.3.0-faulty',
    strategy: 'canary',
    options: {
      ...FAST,
      steps: [50],
      stepDurationSeconds: 1,
      analysis: { intervalSeconds: 1, inconclusiveLimitSeconds: 0, ...analysis },
    },
  });

beforeAll(async () => {
  h = await startHarness();
  const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('environment setting analysisOnInconclusive', () => {
  it('admin only, validated naming the field, audited, shown in the environment view', async () => {
    expect((await h.environment(ENV)).analysisOnInconclusive).toBeNull();
    const denied = await patch('release-manager', { analysisOnInconclusive: 'wait' });
    expect(denied.statusCode, denied.body).toBe(403);
    expect(denied.json().error.details.permission).toBe('settings.manage');
    const bad = await patch('admin', { analysisOnInconclusive: 'pass' });
    expect(bad.statusCode, bad.body).toBe(400);
    expect(bad.json().error.details.field).toBe('body.analysisOnInconclusive');

    const ok = await patch('admin', { analysisOnInconclusive: 'wait', reason: 'a person decides here' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().analysisOnInconclusive).toBe('wait');
    expect((await h.environment(ENV)).analysisOnInconclusive).toBe('wait');
    const audit = await h.db.prisma.auditEntry.findMany({ where: { action: 'environment.settings' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'admin',
      target: `${APP}/${ENV}`,
      reason: 'a person decides here',
      before: { analysisOnInconclusive: null },
      after: { analysisOnInconclusive: 'wait' },
    });
  });

  it('a silent canary in an unprotected environment set to wait pauses for a person; its options still override', async () => {
    expect((await h.environment(ENV)).analysisOnInconclusive).toBe('wait');
    const d = await silentCanary();
    expect(d.options.analysis.onInconclusive).toBe('wait');
    const paused = await h.until(d.id, ['paused', ...FINAL], 60_000);
    expect(paused).toMatchObject({ status: 'paused', waitingFor: 'advance' });
    const back = await h.post(`/deployments/${d.id}/abort`, { reason: 'no traffic to judge it' });
    expect(back.statusCode, back.body).toBe(200);
    expect((await h.until(d.id, FINAL, 60_000)).status).not.toBe('succeeded');

    const own = await silentCanary({ onInconclusive: 'fail' });
    expect(own.options.analysis.onInconclusive).toBe('fail');
    const done = await h.until(own.id, ['paused', ...FINAL], 60_000);
    expect(done.status).toBe('rolled_back');

    // Back to "follow protection": an unprotected environment fails again.
    const reset = await patch('admin', { analysisOnInconclusive: null, reason: 'default' });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json().analysisOnInconclusive).toBeNull();
  }, 150_000);

  it('[race] concurrent changes: each is decided on the locked row, the audit trail ends where the view is', async () => {
    const before = await h.db.prisma.auditEntry.count({ where: { action: 'environment.settings' } });
    const values = ['fail', 'wait', 'fail', 'wait', 'fail', 'fail'] as const;
    const answers = await Promise.all(
      values.map((v) => patch('admin', { analysisOnInconclusive: v, reason: `race ${v}` })),
    );
    expect(answers.map((r) => r.statusCode)).toEqual(values.map(() => 200));
    const rows = await h.db.prisma.auditEntry.findMany({
      where: { action: 'environment.settings' },
      orderBy: { id: 'asc' },
      skip: before,
    });
    // Only real changes are written, each from what the previous one left.
    expect(rows.length).toBeGreaterThanOrEqual(1);
    let prev: unknown = null;
    for (const r of rows) {
      expect(r.before).toEqual({ analysisOnInconclusive: prev });
      prev = (r.after as { analysisOnInconclusive: unknown }).analysisOnInconclusive;
      expect(r.before).not.toEqual(r.after);
    }
    expect((await h.environment(ENV)).analysisOnInconclusive).toBe(prev);
  });
});
