// The promotion order on every path into an environment after the first (deploy, promote, API
// tokens), the verification gate into a protected environment, the audited admin override, and
// the two-person rule about people (a token acts for the user who created it). Real deployments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, FAST, type Harness, startHarness } from '../orchestrator/test-helpers.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const fast = { ...FAST, autoSwitch: true, rollbackWindowSeconds: 600 };

async function call(
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  headers: Record<string, string>,
  payload?: object,
) {
  return h.app.inject({ method, url: `/api/v1${url}`, headers, ...(payload ? { payload } : {}) });
}

async function deployed(env: string, version: string) {
  const d = await h.deploy(env, { version, strategy: 'blue-green', options: fast });
  expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
  return d.id as string;
}

async function abortActive(env: string) {
  const e = await h.environment(env);
  if (e.activeDeployment) {
    const res = await h.post(`/deployments/${e.activeDeployment.id}/abort`, { reason: 'test cleanup' });
    expect([200, 409]).toContain(res.statusCode);
    await h.until(e.activeDeployment.id, FINAL);
  }
}

beforeAll(async () => {
  h = await startHarness();
  // 1.0.0 and 1.1.0 through development; only 1.0.0 through staging.
  await deployed('development', '1.0.0');
  await deployed('development', '1.1.0');
  await deployed('staging', '1.0.0');
}, 180_000);
afterAll(async () => {
  await h?.close();
});

describe('[PROMOTION] the promotion order holds on every path', () => {
  it('deploying to production a release that never succeeded in staging is refused (409) naming the rule', async () => {
    const res = await h.post(`/apps/${APP}/environments/production/deployments`, {
      version: '1.1.0',
      strategy: 'blue-green',
      reason: 'release 1.1.0',
    });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.message).toMatch(/promotion order: 1\.1\.0 has not succeeded in staging/);
    expect(res.json().error.details).toMatchObject({
      reason: 'not_succeeded_in_previous',
      rule: 'promotion_order',
      previous: 'staging',
    });
    expect(await h.db.prisma.deployment.count({ where: { environment: { name: 'production' } } })).toBe(0);
  });

  it('the same through an API token, and for a release not even run in development', async () => {
    const admin = await h.as('admin');
    const created = await call('POST', '/tokens', admin, { name: 'ci-promo', role: 'release-manager' });
    expect(created.statusCode, created.body).toBe(201);
    const bearer = { authorization: `Bearer ${created.json().secret}` };
    const prod = await call('POST', `/apps/${APP}/environments/production/deployments`, bearer, {
      version: '1.1.0',
      strategy: 'rolling',
      reason: 'release 1.1.0',
    });
    expect(prod.statusCode, prod.body).toBe(409);
    expect(prod.json().error.details.reason).toBe('not_succeeded_in_previous');
    const staging = await call('POST', `/apps/${APP}/environments/staging/deployments`, bearer, {
      version: '1.2.0',
      strategy: 'rolling',
    });
    expect(staging.statusCode, staging.body).toBe(409);
    expect(staging.json().error.message).toMatch(/1\.2\.0 has not succeeded in development/);
  });

  it('only an admin overrides, with a reason, and the override is audited', async () => {
    const body = { version: '1.1.0', strategy: 'blue-green', options: fast, override: true };
    const rm = await h.post(`/apps/${APP}/environments/production/deployments`, {
      ...body,
      reason: 'hotfix',
    });
    expect(rm.statusCode, rm.body).toBe(403);
    const admin = await h.as('admin');
    const url = `/apps/${APP}/environments/production/deployments`;
    const noReason = await call('POST', url, admin, { ...body, version: '1.2.0' });
    expect(noReason.statusCode, noReason.body).toBe(400);
    expect(noReason.json().error.details.field).toBe('body.reason');
    const ok = await call('POST', url, admin, {
      ...body,
      version: '1.2.0',
      reason: 'customer outage hotfix',
    });
    expect(ok.statusCode, ok.body).toBe(202);
    const audit = await h.db.prisma.auditEntry.findMany({ where: { action: 'promotion.override' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'admin',
      reason: 'customer outage hotfix',
      target: `${APP}/production`,
    });
    await abortActive('production');
  }, 60_000);

  it('promote follows the order too, and coming back to a release that was live here stays allowed', async () => {
    // 1.1.0 into staging is in order (it succeeded in development).
    const promoted = await h.post(`/apps/${APP}/environments/staging/promote`, {
      strategy: 'blue-green',
      options: fast,
      reason: 'next release',
    });
    expect(promoted.statusCode, promoted.body).toBe(202);
    expect(promoted.json().release.version).toBe('1.1.0');
    expect((await h.until(promoted.json().id, FINAL)).status).toBe('succeeded');
    // Roll staging back to 1.0.0: allowed whatever development says.
    const back = await h.post(`/apps/${APP}/environments/staging/rollback`, { reason: 'bad' });
    expect(back.statusCode, back.body).toBe(202);
    expect((await h.until(back.json().id, FINAL)).status).toBe('succeeded');
    expect(await h.environment('staging')).toMatchObject({ live: { version: '1.0.0' } });
  }, 90_000);
});

describe('[PROMOTION] verification gate', () => {
  it('1.1.0 was rolled back in staging: production refuses it without an override, the preview says why', async () => {
    const res = await h.post(`/apps/${APP}/environments/production/deployments`, {
      version: '1.1.0',
      strategy: 'blue-green',
      reason: 'ship it',
    });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.details).toMatchObject({ reason: 'not_verified', rule: 'verification' });
    expect(res.json().error.message).toMatch(
      /verification gate: 1\.1\.0 was rolled back in staging .*production is protected/,
    );
    // Staging is not protected: the order alone applies there (1.1.0 succeeded in development).
    // The preview of promoting development's live release (1.1.0) into staging warns nothing;
    // the preview into production (staging live: 1.0.0) reports its verification.
    const preview = await h.get(`/apps/${APP}/environments/production/promotion-preview`);
    expect(preview.verification).toMatchObject({
      environment: 'staging',
      version: '1.0.0',
      result: 'succeeded',
      blocking: false,
      message: null,
    });
    const admin = await h.as('admin');
    const over = await call('POST', `/apps/${APP}/environments/production/deployments`, admin, {
      version: '1.1.0',
      strategy: 'blue-green',
      options: fast,
      override: true,
      reason: 'rolled back for an unrelated reason',
    });
    expect(over.statusCode, over.body).toBe(202);
    await abortActive('production');
  }, 60_000);

  it('traffic moved back onto the rolled-back 1.1.0 in staging: the preview warns and blocks, promote refuses', async () => {
    const staging = await h.environment('staging');
    const other = staging.activeColor === 'blue' ? 'green' : 'blue';
    const moved = await h.post(`/apps/${APP}/environments/staging/traffic`, { activeColor: other });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().live.version).toBe('1.1.0');
    const preview = await h.get(`/apps/${APP}/environments/production/promotion-preview`);
    expect(preview.allowed).toBe(false);
    expect(preview.reason).toMatch(/verification gate: 1\.1\.0 was rolled back in staging/);
    expect(preview.verification).toMatchObject({
      environment: 'staging',
      version: '1.1.0',
      result: 'rolled_back',
      blocking: true,
    });
    expect(preview.verification.message).toMatch(/1\.1\.0 was rolled back in staging/);
    const promote = await h.post(`/apps/${APP}/environments/production/promote`, { reason: 'go' });
    expect(promote.statusCode, promote.body).toBe(409);
    expect(promote.json().error.details.reason).toBe('not_verified');
    // Back to 1.0.0 live in staging for what follows.
    const back = await h.post(`/apps/${APP}/environments/staging/traffic`, {
      activeColor: staging.activeColor,
    });
    expect(back.statusCode, back.body).toBe(200);
  }, 60_000);
});

describe('[APPROVAL] two-person approval is about people', () => {
  it('an admin who deploys with their own release-manager token cannot approve it as themselves; another person can', async () => {
    const admin = await h.as('admin');
    const settings = await call('PATCH', `/apps/${APP}/environments/production/settings`, admin, {
      requiresApproval: true,
      reason: 'two-person rule',
    });
    expect(settings.statusCode, settings.body).toBe(200);
    const created = await call('POST', '/tokens', admin, { name: 'admin-own-rm', role: 'release-manager' });
    expect(created.statusCode, created.body).toBe(201);
    const bearer = { authorization: `Bearer ${created.json().secret}` };
    // 1.0.0 succeeded in staging: in order.
    const d = await call('POST', `/apps/${APP}/environments/production/deployments`, bearer, {
      version: '1.0.0',
      strategy: 'blue-green',
      options: fast,
      reason: 'release 1.0.0',
    });
    expect(d.statusCode, d.body).toBe(202);
    const id = d.json().id as string;
    const waiting = await h.until(id, ['paused', ...FINAL]);
    expect(waiting.waitingFor).toBe('approval');

    const self = await call('POST', `/deployments/${id}/approve`, admin, { reason: 'lgtm' });
    expect(self.statusCode, self.body).toBe(403);
    expect(self.json().error.details.reason).toBe('self_approval');
    // A second token of the same admin is still the same person.
    const other = await call('POST', '/tokens', admin, { name: 'admin-second', role: 'admin' });
    const again = await call(
      'POST',
      `/deployments/${id}/approve`,
      { authorization: `Bearer ${other.json().secret}` },
      { reason: 'lgtm' },
    );
    expect(again.statusCode, again.body).toBe(403);
    expect((await h.deployment(id)).waitingFor).toBe('approval');

    const rm = await h.as('release-manager');
    const approved = await call('POST', `/deployments/${id}/approve`, rm, { reason: 'checked' });
    expect(approved.statusCode, approved.body).toBe(200);
    const approval = await h.db.prisma.approval.findMany({ where: { deploymentId: id } });
    expect(approval).toHaveLength(1);
    expect((await h.until(id, FINAL)).status).toBe('succeeded');
  }, 90_000);
});
