// Where an environment's instances run (PUT …/runtime) and the application's Kubernetes pod
// template (PUT /apps/:app/pod-template): admin only, validated naming the field, audited with
// before/after, shown in the environment view, refused under an active deployment, serialised
// under concurrent changes. driverFor resolves the setting to a driver that really reaches the
// cluster named by it (an emulated API server: no real one can run on these machines).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from '@qubot/api-contract';
import { LocalDriver } from '@qubot/runtime';
import { EmulatedApiServer, kubeconfigFor } from '@qubot/runtime/test-apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriverFor } from '../orchestrator/drivers.ts';
import { APP, type Harness, startHarness } from '../orchestrator/test-helpers.ts';

let h: Harness;
const ENV = 'development';
const url = (env = ENV) => `/api/v1/apps/${APP}/environments/${env}/runtime`;
const put = async (role: 'admin' | 'release-manager' | 'viewer', payload: object, env = ENV) =>
  h.app.inject({ method: 'PUT', url: url(env), headers: await h.as(role), payload });
const kube = (namespace: string, extra: object = {}) => ({
  target: 'kubernetes',
  namespace,
  credentials: { source: 'kubeconfig', path: '/etc/qubot/kubeconfig' },
  ...extra,
});

beforeAll(async () => {
  // No worker: a deployment created here stays pending, i.e. active.
  h = await startHarness({ worker: false });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('PUT /api/v1/apps/:app/environments/:env/runtime', () => {
  it('admin only; bad input is a 400 naming the field', async () => {
    const denied = await put('release-manager', kube('team-a'));
    expect(denied.statusCode, denied.body).toBe(403);
    expect(denied.json().error.details.permission).toBe('settings.manage');
    expect((await put('viewer', kube('team-a'))).statusCode).toBe(403);

    const cases: [object, string][] = [
      [{ target: 'kubernetes', credentials: { source: 'in-cluster' } }, 'body.namespace'],
      [{ target: 'kubernetes', namespace: 'team-a' }, 'body.credentials'],
      [kube('Team_A'), 'body.namespace'],
      [{ target: 'local', namespace: 'team-a' }, 'body.namespace'],
      [
        kube('team-a', { credentials: { source: 'kubeconfig', path: '/etc/../root/.kube/config' } }),
        'body.credentials.path',
      ],
      [
        kube('team-a', { credentials: { source: 'kubeconfig', path: 'relative/config' } }),
        'body.credentials',
      ],
      [{ target: 'mainframe' }, 'body.target'],
      [kube('team-a', { token: 'secret' }), 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await put('admin', body);
      expect(res.statusCode, `${JSON.stringify(body)} → ${res.body}`).toBe(400);
      expect(String(res.json().error.details?.field ?? ''), res.body).toContain(field);
    }
    expect((await h.environment(ENV)).runtime).toEqual({ target: 'local', kubernetes: null });
  });

  it('sets a Kubernetes namespace: shown in the environment view (credentials by source and path only), audited, announced', async () => {
    const seqBefore = (await h.db.prisma.event.aggregate({ _max: { seq: true } }))._max.seq ?? 0;
    const res = await put('admin', {
      ...kube('team-a', { gateway: 'edge' }),
      reason: 'moving to the cluster',
    });
    expect(res.statusCode, res.body).toBe(200);
    const expected = {
      target: 'kubernetes',
      kubernetes: {
        namespace: 'team-a',
        credentials: { source: 'kubeconfig', path: '/etc/qubot/kubeconfig' },
        gateway: 'edge',
        canaryMode: 'gateway-api',
      },
    };
    expect((res.json() as Environment).runtime).toEqual(expected);
    expect((await h.environment(ENV)).runtime).toEqual(expected);
    const audit = await h.db.prisma.auditEntry.findMany({ where: { action: 'environment.runtime_target' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'admin',
      target: `${APP}/${ENV}`,
      reason: 'moving to the cluster',
      before: { target: 'local', kubernetes: null },
      after: expected,
    });
    const events = await h.db.prisma.event.findMany({
      where: { seq: { gt: seqBefore }, type: 'environment.updated' },
    });
    expect(events.length).toBeGreaterThanOrEqual(1);
    // The same setting again changes nothing and writes nothing.
    expect((await put('admin', kube('team-a', { gateway: 'edge' }))).statusCode).toBe(200);
    expect(await h.db.prisma.auditEntry.count({ where: { action: 'environment.runtime_target' } })).toBe(1);
    // Without a Gateway, canary weights are replica ratios — said in the view.
    const ratio = await put('admin', kube('team-a'));
    expect((ratio.json() as Environment).runtime?.kubernetes?.canaryMode).toBe('replica-ratio');
  });

  it('concurrent changes are serialised: each audit entry starts where the one before ended, and the view is the last', async () => {
    const results = await Promise.all(['team-b', 'team-c', 'team-d'].map((ns) => put('admin', kube(ns))));
    for (const r of results) expect(r.statusCode, r.body).toBe(200);
    const entries = await h.db.prisma.auditEntry.findMany({
      where: { action: 'environment.runtime_target' },
      orderBy: { id: 'asc' },
    });
    const last3 = entries.slice(-3);
    expect(last3).toHaveLength(3);
    for (let i = 1; i < last3.length; i++) expect(last3[i]?.before).toEqual(last3[i - 1]?.after);
    const served = (await h.environment(ENV)).runtime;
    expect(served).toEqual(last3[2]?.after);
  });

  it('409 while a deployment is active there; nothing changes', async () => {
    const before = (await h.environment(ENV)).runtime;
    const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'blue-green' });
    const res = await put('admin', kube('team-z'));
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.details).toMatchObject({
      field: 'body.target',
      reason: 'active_deployment',
      activeDeploymentId: d.id,
    });
    expect((await h.environment(ENV)).runtime).toEqual(before);
  });

  it('placement on enrolled hosts and the kubernetes target exclude each other, naming the field; nothing changes', async () => {
    const env = 'staging';
    const settings = async (placement: string) =>
      h.app.inject({
        method: 'PATCH',
        url: `/api/v1/apps/${APP}/environments/${env}/settings`,
        headers: await h.as('admin'),
        payload: { placement, reason: 'test' },
      });
    expect((await settings('hosts')).statusCode).toBe(200);
    const refused = await put('admin', kube('team-h', { reason: 'test' }), env);
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().error.details.field).toBe('body.target');
    expect((await h.environment(env)).runtime?.target ?? 'local').toBe('local');

    expect((await settings('local')).statusCode).toBe(200);
    const moved = await put('admin', kube('team-h', { reason: 'test' }), env);
    expect(moved.statusCode, moved.body).toBe(200);
    const back = await settings('hosts');
    expect(back.statusCode, back.body).toBe(400);
    expect(back.json().error.details.field).toBe('body.placement');
    expect((await h.environment(env)).placement).toBe('local');
  });
});

describe('PUT /api/v1/apps/:app/pod-template', () => {
  const tplUrl = `/api/v1/apps/${APP}/pod-template`;
  it('admin registers the pod template (data, never a command line); audited; validated naming the field', async () => {
    const rm = await h.app.inject({
      method: 'PUT',
      url: tplUrl,
      headers: await h.as('release-manager'),
      payload: { podTemplate: { containerPort: 8080 } },
    });
    expect(rm.statusCode).toBe(403);
    const bad = await h.app.inject({
      method: 'PUT',
      url: tplUrl,
      headers: await h.as('admin'),
      payload: { podTemplate: { containerPort: 8080, args: ['--ok', 'two\nlines'] } },
    });
    expect(bad.statusCode, bad.body).toBe(400);
    expect(String(bad.json().error.details.field)).toContain('body.podTemplate.args');
    const template = {
      containerPort: 8080,
      healthPath: '/healthz',
      env: { LOG_LEVEL: 'info' },
      servicePort: 80,
    };
    const ok = await h.app.inject({
      method: 'PUT',
      url: tplUrl,
      headers: await h.as('admin'),
      payload: { podTemplate: template, reason: 'kubernetes' },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ application: APP, podTemplate: template });
    const row = await h.db.prisma.application.findUniqueOrThrow({ where: { name: APP } });
    expect(row.podTemplate).toEqual(template);
    const audit = await h.db.prisma.auditEntry.findMany({ where: { action: 'application.pod_template' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ before: { podTemplate: null }, after: { podTemplate: template } });
  });
});

describe('driverFor', () => {
  it('local environments get the local driver; a kubernetes one a Kubernetes driver reaching the namespace through the kubeconfig file (emulated API server)', async () => {
    const api = new EmulatedApiServer({
      runContainer: () => ({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }),
      token: 'kubeconfig-token-0123456789',
    });
    await api.start();
    const dir = mkdtempSync(join(tmpdir(), 'qubot-kubeconfig-'));
    const path = join(dir, 'config');
    writeFileSync(path, kubeconfigFor(api.url, 'kubeconfig-token-0123456789'));
    const local = new LocalDriver({ dataDir: dir, workspaceDir: dir });
    const { driverFor, close } = createDriverFor({ local });
    try {
      const application = { name: APP, podTemplate: { containerPort: 8080 } };
      expect(driverFor({ runtimeTarget: 'local', kubernetes: null, application })).toBe(local);
      const settings = { namespace: 'team-a', credentials: { source: 'kubeconfig', path } };
      const k = driverFor({ runtimeTarget: 'kubernetes', kubernetes: settings, application });
      expect(k.kind).toBe('kubernetes');
      expect(k.capabilities.hosts).toBe('cluster');
      // One driver (one pod watch) per namespace and credentials.
      expect(driverFor({ runtimeTarget: 'kubernetes', kubernetes: settings, application })).toBe(k);
      // It really talks to the cluster the file names, with the file's token.
      await k.stopAll(`${APP}/${ENV}`);
      const rec = await k.start({
        instanceId: 'dev-blue-1',
        environment: `${APP}/${ENV}`,
        version: '1.0.0',
        artifact: 'registry.example/qubot-one:1.0.0',
        pool: 'blue',
        launcher: { command: 'unused' },
      });
      expect(rec.port).toBe(8080);
      expect(
        api.get('deployments', 'team-a', `${APP}-${ENV}-blue`)?.metadata.labels?.['qubot.dev/release'],
      ).toBe('1.0.0');
      expect(api.requests.every((r) => !r.includes('token'))).toBe(true);
      expect(() => driverFor({ runtimeTarget: 'kubernetes', kubernetes: null, application })).toThrow(
        /no namespace/,
      );
    } finally {
      close();
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
