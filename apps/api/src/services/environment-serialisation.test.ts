// Every action that changes an environment serialises on its row (issue 8, item 1): a traffic
// switch racing a new deployment, under load through the environment's router. Afterwards the
// environment the API reports is what the router serves, and no user request failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../../../test/load.ts';
import { APP, FAST, type Harness, startHarness } from '../orchestrator/test-helpers.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const ENV = 'development';

interface EnvView {
  address: string;
  activeColor: 'blue' | 'green' | null;
  live: { version: string } | null;
  traffic: { pool: string; weight: number; version: string | null }[];
}

/** What the router really does: its table, and the versions that answer through the address. */
async function served(env: EnvView) {
  const row = await h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });
  const client = h.app.orchestrator.runtime.providerFor(row);
  if (!client) throw new Error('no router');
  const config = await client.getConfig();
  const versions = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const res = await fetch(env.address);
    expect(res.status).toBe(200);
    versions.add(res.headers.get('x-qubot-version') ?? 'none');
    await res.arrayBuffer();
  }
  const weighted = config.pools.filter((p) => p.weight > 0);
  return { weighted, versions: [...versions] };
}

async function expectReportedIsServed() {
  const env = (await h.environment(ENV)) as EnvView;
  const router = await served(env);
  expect(router.versions).toEqual([env.live?.version]);
  expect(router.weighted.map((p) => [p.name, p.weight])).toEqual([[env.activeColor, 100]]);
  return env;
}

beforeAll(async () => {
  h = await startHarness();
  // Live 1.1.0 on blue with green still holding 1.2.0 warm: 1.1.0, then 1.2.0 (blue kept warm in
  // its rollback window), then traffic back to blue, which keeps green running.
  for (const version of ['1.1.0', '1.2.0']) {
    const d = await h.deploy(ENV, {
      version,
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: true, rollbackWindowSeconds: 600 },
    });
    expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
  }
  const back = await h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: 'blue' });
  expect(back.statusCode, back.body).toBe(200);
  expect(await h.environment(ENV)).toMatchObject({ live: { version: '1.1.0' }, activeColor: 'blue' });
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe('[RACE] environment actions serialise on the environment', () => {
  it('concurrent switches to both colours: the last committed one is what the router serves', async () => {
    const env = (await h.environment(ENV)) as EnvView;
    const load = startLoad(env.address);
    await expect.poll(() => load.snapshot().requests, { timeout: 15_000 }).toBeGreaterThan(30);
    const colours = ['blue', 'green', 'blue', 'green', 'blue', 'green', 'blue', 'green'];
    const results = await Promise.all(
      colours.map((c) => h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: c })),
    );
    for (const res of results) expect(res.statusCode, res.body).toBe(200);
    const env2 = await expectReportedIsServed();
    // The last change committed (a request finding it already so writes nothing) is what is live.
    const last = await h.db.prisma.auditEntry.findFirstOrThrow({
      where: { action: 'environment.traffic' },
      orderBy: { id: 'desc' },
    });
    expect((last.after as { activeColor: string }).activeColor).toBe(env2.activeColor);
    const r = await load.stop();
    expect(r.failed, r.errors.join(', ')).toBe(0);
    // Back to the starting point of the next test: 1.1.0 live on blue, 1.2.0 warm on green.
    const back = await h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: 'blue' });
    expect(back.statusCode, back.body).toBe(200);
  }, 60_000);

  it('20 concurrent harmless traffic requests and 20 reads on a pool of 5: none is told the database is unavailable', async () => {
    // The test database's pool has 5 connections; nothing holds one across a router call.
    const env = (await h.environment(ENV)) as EnvView;
    const writes = Array.from({ length: 20 }, () =>
      h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: env.activeColor }),
    );
    const reads = Array.from({ length: 20 }, () =>
      h.app.inject({ method: 'GET', url: `/api/v1/apps/${APP}/environments`, headers: h.auth }),
    );
    const all = await Promise.all([...writes, ...reads]);
    for (const res of all) expect(res.statusCode, res.body).toBe(200);
    await expectReportedIsServed();
  }, 60_000);

  it('the router refuses a switch: 503, the environment is put back, and it still serves what it reports', async () => {
    const before = (await h.environment(ENV)) as EnvView;
    const runtime = h.app.orchestrator.runtime;
    const real = runtime.applyRouting;
    let refused = 0;
    // Fault injection: the router does not take the next table.
    runtime.applyRouting = async (...args: Parameters<typeof real>) => {
      if (refused++ === 0) throw new Error('router control port refused the connection');
      return real(...args);
    };
    try {
      const other = before.activeColor === 'blue' ? 'green' : 'blue';
      const res = await h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: other });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().error.details.reason).toBe('router_unavailable');
      expect(res.json().error.message).toMatch(/did not take the change; nothing was changed/);
    } finally {
      runtime.applyRouting = real;
    }
    const after = await expectReportedIsServed();
    expect(after.activeColor).toBe(before.activeColor);
    expect(after.live?.version).toBe(before.live?.version);
    const reverted = await h.db.prisma.auditEntry.count({
      where: { action: 'environment.traffic.reverted' },
    });
    expect(reverted).toBe(1);
  }, 30_000);

  it('a deployment racing five traffic switches: one plan, from the state it saw; reported == served; 0 failed requests', async () => {
    const before = (await h.environment(ENV)) as EnvView;
    const load = startLoad(before.address);
    await expect.poll(() => load.snapshot().requests, { timeout: 15_000 }).toBeGreaterThan(30);

    const deploy = h.post(`/apps/${APP}/environments/${ENV}/deployments`, {
      version: '1.0.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: false },
    });
    const switches = Array.from({ length: 5 }, () =>
      h.post(`/apps/${APP}/environments/${ENV}/traffic`, { activeColor: 'green' }),
    );
    const [created, ...moved] = await Promise.all([deploy, ...switches]);
    expect(created.statusCode, created.body).toBe(202);
    const d = created.json();
    // Each switch either went first (200, green live) or found the deployment (409): never both.
    for (const r of moved) expect([200, 409], r.body).toContain(r.statusCode);
    const won = moved.filter((r) => r.statusCode === 200).length;
    for (const r of moved.filter((x) => x.statusCode === 409)) {
      expect(r.json().error.details.reason).toBe('active_deployment');
    }
    // The deployment planned from the environment as it stood when it took the lock: it never
    // targets the colour that is live.
    const row = await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    const state = row.state as { input: { activeColor: string | null; newColor: string } };
    const liveAtPlan = won > 0 ? 'green' : 'blue';
    expect(state.input.activeColor).toBe(liveAtPlan);
    expect(state.input.newColor).not.toBe(liveAtPlan);

    const waiting = await h.until(d.id, ['paused', ...FINAL]);
    expect(waiting.waitingFor).toBe('switch');
    const abort = await h.post(`/deployments/${d.id}/abort`, { reason: 'race test' });
    expect(abort.statusCode, abort.body).toBe(200);
    expect((await h.until(d.id, FINAL)).status).toBe('aborted');

    const env = await expectReportedIsServed();
    expect(env.live?.version).toBe(won > 0 ? '1.2.0' : '1.1.0');
    const r = await load.stop();
    expect(r.failed, r.errors.join(', ')).toBe(0);
    expect(r.requests).toBeGreaterThan(100);
  }, 90_000);
});
