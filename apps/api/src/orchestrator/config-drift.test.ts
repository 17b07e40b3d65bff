// Configuration drift against real instances: what each supervisor was started with is recorded;
// changing the configuration shows drift on the environment; "roll out configuration" is a real
// deployment of the live release that replaces the drifted instances, and drift clears.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '@qubot/api-contract';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { APP, FAST, type Harness, startHarness } from './test-helpers.ts';

let h: Harness;
const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const base = `/apps/${APP}/environments/${ENV}`;

/** The environment variables a live process really has (Linux /proc). */
function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

async function putConfig(entries: object[], role: 'deployer' | 'admin' = 'deployer') {
  const res = await h.app.inject({
    method: 'PUT',
    url: `/api/v1${base}/config`,
    headers: await h.as(role),
    payload: { entries },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { version: number };
}

/** The instance processes now running, as their supervisors report them (status files). */
async function runningPids(pool?: 'blue' | 'green' | null) {
  const rows = await h.db.prisma.instance.findMany({
    where: { environment: { name: ENV }, status: 'running', ...(pool ? { pool } : {}) },
  });
  expect(rows.length).toBeGreaterThan(0);
  return rows.map((r) => {
    const st = JSON.parse(
      readFileSync(join(h.dataDir, 'runtime', 'instances', r.id, 'status.json'), 'utf8'),
    ) as { pid: number };
    return st.pid;
  });
}

beforeAll(async () => {
  h = await startHarness();
  await putConfig([
    { key: 'GREETING', value: 'hello' },
    { key: 'API_KEY', value: 'first-secret', secret: true },
  ]);
  const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'blue-green', options: FAST });
  expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  await h?.close();
});

it('[DRIFT] instances record the configuration their supervisor was started with; a change is drift; roll out clears it', async () => {
  const before = (await h.environment(ENV)) as Environment;
  expect(before.config).toMatchObject({ version: 1, drift: false, driftedInstances: 0 });
  const running = before.instances.filter((i) => i.status === 'running');
  expect(running).toHaveLength(2);
  for (const i of running) expect(i.config).toMatchObject({ version: 1, drifted: false });
  expect(running[0]?.config?.hash).toMatch(/^[0-9a-f]{64}$/);
  expect(running[0]?.config?.hash).toBe(before.config?.hash);
  // The processes really got the configuration (secret decrypted), not only the rows.
  for (const pid of await runningPids()) {
    expect(environOf(pid)).toMatchObject({ GREETING: 'hello', API_KEY: 'first-secret' });
  }

  // A new version: every running instance now differs from it.
  await putConfig([
    { key: 'GREETING', value: 'bonjour' },
    { key: 'API_KEY', secret: true },
  ]);
  const drifted = (await h.environment(ENV)) as Environment;
  expect(drifted.config).toMatchObject({ version: 2, drift: true, driftedInstances: 2 });
  expect(drifted.config?.hash).not.toBe(before.config?.hash);
  for (const i of drifted.instances.filter((x) => x.status === 'running'))
    expect(i.config).toMatchObject({ version: 1, drifted: true });

  // Roll out: twice at once — exactly one deployment, the other told why.
  const headers = await h.as('deployer');
  const [a, b] = await Promise.all(
    [1, 2].map(() =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1${base}/config/rollout`,
        headers,
        payload: { strategy: 'blue-green', options: FAST, reason: 'ship GREETING' },
      }),
    ),
  );
  const codes = [a?.statusCode, b?.statusCode].sort();
  expect(codes).toEqual([202, 409]);
  const winner = (a?.statusCode === 202 ? a : b)?.json();
  const loser = (a?.statusCode === 202 ? b : a)?.json();
  expect(loser.error.details.reason).toBe('active_deployment');
  expect(winner).toMatchObject({ release: { version: '1.0.0' }, configVersion: 2, kind: 'deploy' });
  const active = await h.db.prisma.deployment.findMany({
    where: { status: { in: ['pending', 'running', 'paused'] } },
  });
  expect(active.map((d) => d.id)).toEqual([winner.id]);

  const done = await h.until(winner.id, FINAL, 90_000);
  expect(done.status).toBe('succeeded');
  const after = (await h.environment(ENV)) as Environment;
  expect(after.config).toMatchObject({ version: 2, drift: false, driftedInstances: 0 });
  // The colour that serves runs version 2; the one kept warm for the rollback window still says it
  // differs, but serves nothing, so it is no drift of the environment.
  const live = after.instances.filter((i) => i.status === 'running' && i.pool === after.activeColor);
  expect(live).toHaveLength(2);
  for (const i of live)
    expect(i.config).toMatchObject({ version: 2, drifted: false, hash: after.config?.hash });
  const warm = after.instances.filter((i) => i.status === 'running' && i.pool !== after.activeColor);
  for (const i of warm) expect(i.config).toMatchObject({ version: 1, drifted: true });
  for (const pid of await runningPids(after.activeColor)) {
    expect(environOf(pid)).toMatchObject({ GREETING: 'bonjour', API_KEY: 'first-secret' });
  }

  // Audited as a configuration roll-out, by the deployer, with the version it shipped.
  const audit = await h.db.prisma.auditEntry.findMany({ where: { action: 'config.rollout' } });
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({ actor: 'deployer', targetId: winner.id });
  expect(audit[0]?.after).toMatchObject({ version: '1.0.0', configVersion: 2, driftedInstances: 2 });

  // Nothing left to roll out.
  const again = await h.app.inject({
    method: 'POST',
    url: `/api/v1${base}/config/rollout`,
    headers,
    payload: {},
  });
  expect(again.statusCode).toBe(409);
  expect(again.json().error.details.reason).toBe('no_drift');
}, 150_000);

it('[DRIFT] a viewer cannot roll out configuration; a bad strategy is refused naming the field', async () => {
  const viewer = await h.app.inject({
    method: 'POST',
    url: `/api/v1${base}/config/rollout`,
    headers: await h.as('viewer'),
    payload: {},
  });
  expect(viewer.statusCode).toBe(403);
  const bad = await h.app.inject({
    method: 'POST',
    url: `/api/v1${base}/config/rollout`,
    headers: await h.as('deployer'),
    payload: { strategy: 'big-bang' },
  });
  expect(bad.statusCode).toBe(400);
  expect(JSON.stringify(bad.json().error)).toContain('strategy');
});

it('[PARITY] compares two environments: keys only in one, values that differ, secrets never shown', async () => {
  const staging = `/apps/${APP}/environments/staging/config`;
  const res = await h.app.inject({
    method: 'PUT',
    url: `/api/v1${staging}`,
    headers: await h.as('admin'),
    payload: {
      entries: [
        { key: 'GREETING', value: 'hallo' },
        { key: 'API_KEY', value: 'other-secret', secret: true },
        { key: 'ONLY_STAGING', value: '1' },
      ],
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  const read = async (role: 'viewer' | 'admin') => {
    const r = await h.app.inject({
      method: 'GET',
      url: `/api/v1/apps/${APP}/parity?from=staging&to=${ENV}`,
      headers: await h.as(role),
    });
    expect(r.statusCode, r.body).toBe(200);
    return r;
  };
  const viewer = await read('viewer');
  const p = viewer.json();
  expect(p).toMatchObject({
    from: 'staging',
    to: ENV,
    release: { from: null, to: '1.0.0', same: false },
    replicas: { same: true },
    matches: false,
  });
  expect(p.config.removed.map((e: { key: string }) => e.key)).toEqual(['ONLY_STAGING']);
  expect(p.config.changed.map((e: { key: string }) => e.key)).toEqual(['GREETING']);
  expect(p.config.notCompared.map((e: { key: string }) => e.key)).toEqual(['API_KEY']);
  expect(viewer.body).not.toContain('other-secret');
  expect(viewer.body).not.toContain('first-secret');
  expect(p.differences).toContain('configuration keys only in staging: ONLY_STAGING');
  // An admin may compare secrets: they differ, and still only as masks.
  const admin = await read('admin');
  expect(admin.json().config.changed.map((e: { key: string }) => e.key)).toEqual(['API_KEY', 'GREETING']);
  expect(admin.body).not.toContain('other-secret');
  const same = await h.app.inject({
    method: 'GET',
    url: `/api/v1/apps/${APP}/parity?from=staging&to=staging`,
    headers: await h.as('viewer'),
  });
  expect(same.statusCode).toBe(400);
  expect(same.json().error.details.field).toBe('querystring.to');
  const missing = await h.app.inject({
    method: 'GET',
    url: `/api/v1/apps/${APP}/parity?from=staging`,
    headers: await h.as('viewer'),
  });
  expect(missing.statusCode).toBe(400);
  expect(JSON.stringify(missing.json().error)).toContain('to');
});
