// Retiring instances that run on no host (a local environment) is one plain update: the
// transaction that announces a drained host (views/host-events.ts, announceDrained) is opened only
// when a retired instance is on a host (host-drained.test.ts covers that side). A real worker,
// runtime and PostgreSQL; the spy on prisma.$transaction only counts calls made from `retire`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST, FINAL, type Harness, settled, startHarness } from './test-helpers.ts';

const ENV = 'development';
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.close();
}, 60_000);

describe('[orchestrator] retiring local instances (spy on prisma.$transaction)', () => {
  it('stops the old instances without opening a transaction', async () => {
    const first = await h.deploy(ENV, { version: '1.0.0', strategy: 'rolling', options: FAST });
    expect((await h.until(first.id, FINAL, 90_000)).status).toBe('succeeded');
    await settled(h, ENV);
    const old = await h.db.prisma.instance.findMany({
      where: { environment: { name: ENV }, status: 'running' },
    });
    expect(old.length).toBeGreaterThan(0);
    expect(old.every((i) => i.hostId === null)).toBe(true);

    const prisma = h.db.prisma as unknown as { $transaction: (...args: unknown[]) => unknown };
    const original = prisma.$transaction;
    let fromRetire = 0;
    prisma.$transaction = function (this: unknown, ...args: unknown[]) {
      if (/\bat (async )?retire \(/.test(new Error().stack ?? '')) fromRetire++;
      return original.apply(this, args);
    };
    try {
      const second = await h.deploy(ENV, { version: '1.1.0', strategy: 'rolling', options: FAST });
      expect((await h.until(second.id, FINAL, 90_000)).status).toBe('succeeded');
      await settled(h, ENV);
    } finally {
      prisma.$transaction = original;
    }
    // Every old instance was retired (marked stopped by retire), none through a transaction.
    const after = await h.db.prisma.instance.findMany({ where: { id: { in: old.map((i) => i.id) } } });
    expect(after.map((i) => [i.status, i.healthy, i.stoppedAt !== null])).toEqual(
      old.map(() => ['stopped', false, true]),
    );
    expect((await h.environment(ENV)).live.version).toBe('1.1.0');
    expect(fromRetire).toBe(0);
  }, 240_000);
});
