// What the host-agent driver remembers (agent-driver.ts): where each instance runs, read once from
// its row. Instances on this machine go through it too (the placement driver asks it whether an
// instance is on a host), so a long-lived worker must forget stopped instances, and keeps at most a
// bounded number. Real control plane, PostgreSQL and Qubot-One processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentDriver } from './agent-driver.ts';
import { FAST, type Harness, liveWithOneReplica, settled, startHarness } from './test-helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ role: 'admin' });
});
afterAll(async () => {
  await h?.close();
});

const instanceIds = async () =>
  (await h.db.prisma.instance.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map((i) => i.id);

describe('[hosts] the agent driver forgets stopped instances', () => {
  it('after blue-green deployments it remembers only the instances still running', async () => {
    await liveWithOneReplica(h, 'development', '1.0.0');
    for (const version of ['1.1.0', '1.0.0']) {
      const d = await h.deploy('development', {
        version,
        strategy: 'blue-green',
        options: { ...FAST, rollbackWindowSeconds: 0 },
      });
      expect((await h.until(d.id, ['succeeded', 'failed', 'rolled_back', 'aborted'])).status).toBe(
        'succeeded',
      );
      await settled(h, 'development');
    }
    const all = await h.db.prisma.instance.findMany({ select: { id: true, status: true } });
    const running = all.filter((i) => i.status === 'running');
    // Three releases went live one after the other: two sets of instances were stopped.
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(running.length).toBe(1);
    // Every instance was asked about (start, status, stop); only the running one is remembered.
    expect(h.app.orchestrator.agentDriver.rememberedCount()).toBeLessThanOrEqual(running.length);
  });

  it('keeps at most `rememberMax` entries, the newest; a forgotten one is read from its row again', async () => {
    const ids = await instanceIds();
    expect(ids.length).toBeGreaterThanOrEqual(3);
    const driver = createAgentDriver({ db: h.db, hub: h.app.orchestrator.agentHub, rememberMax: 2 });
    for (const id of ids) expect(await driver.owns(id)).toBe(false);
    expect(driver.rememberedCount()).toBe(2);
    // The oldest was dropped; asking again reads the row and gives the same answer.
    expect(await driver.owns(ids[0] as string)).toBe(false);
    expect(driver.rememberedCount()).toBe(2);
    driver.forget(ids[0] as string);
    expect(driver.rememberedCount()).toBe(1);
  });
});
