// The demo's synthetic load: on by default in demo mode, switched per environment (audited,
// serialised), and the load itself reaching an environment's address only while it is on.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { seedDemoData, startSyntheticLoad } from '../demo.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const url = (env: string) => `/api/v1/apps/qubot-one/environments/${env}/synthetic-load`;
const put = async (env: string, payload: unknown, role: 'release-manager' | 'deployer' | 'viewer') =>
  t.app.inject({ method: 'PUT', url: url(env), headers: await t.as(role), payload: payload as object });
const envView = async (env: string) =>
  (
    await t.app.inject({
      method: 'GET',
      url: `/api/v1/apps/qubot-one/environments/${env}`,
      headers: await t.as('viewer'),
    })
  ).json();

describe('[CANARY] synthetic load setting', () => {
  it('is not offered outside demo mode (null, 409 naming the environment)', async () => {
    expect((await envView('staging')).syntheticLoad).toBeNull();
    const res = await put('staging', { enabled: true }, 'release-manager');
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.details).toMatchObject({ field: 'params.env', reason: 'not_a_demo_environment' });
  });

  it('demo mode turns it on everywhere, and keeps an environment someone turned off, off', async () => {
    await seedDemoData(t.db, pino({ level: 'silent' }));
    expect((await envView('staging')).syntheticLoad).toBe(true);
    expect((await envView('production')).syntheticLoad).toBe(true);
    const off = await put('development', { enabled: false, reason: 'quiet canary demo' }, 'release-manager');
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().syntheticLoad).toBe(false);
    await seedDemoData(t.db, pino({ level: 'silent' }));
    expect((await envView('development')).syntheticLoad).toBe(false);
    const audit = await t.db.prisma.auditEntry.findMany({
      where: { action: 'environment.synthetic_load' },
      orderBy: { id: 'asc' },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'release-manager',
      target: 'qubot-one/development',
      reason: 'quiet canary demo',
      before: { syntheticLoad: true },
      after: { syntheticLoad: false },
    });
    const event = await t.db.prisma.event.findFirst({
      where: { type: 'environment.updated' },
      orderBy: { seq: 'desc' },
    });
    expect(event?.payload).toMatchObject({ name: 'development', syntheticLoad: false });
  });

  it('refuses viewers and deployers, and bad bodies with the field', async () => {
    expect((await put('staging', { enabled: false }, 'viewer')).statusCode).toBe(403);
    expect((await put('staging', { enabled: false }, 'deployer')).statusCode).toBe(403);
    const bad = await put('staging', { enabled: 'yes' }, 'release-manager');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('body.enabled');
    const rm = await t.as('release-manager');
    const noCsrf = await t.app.inject({
      method: 'PUT',
      url: url('staging'),
      headers: { cookie: rm.cookie },
      payload: { enabled: false },
    });
    expect(noCsrf.statusCode).toBe(403);
    const extra = await put('staging', { enabled: true, rps: 100 }, 'release-manager');
    expect(extra.statusCode).toBe(400);
    expect((await envView('staging')).syntheticLoad).toBe(true);
  });

  it('concurrent switches serialise: each audit entry starts where the one before ended, the last is what is stored', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => put('staging', { enabled: i % 2 === 0 }, 'release-manager')),
    );
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    const audit = await t.db.prisma.auditEntry.findMany({
      where: { action: 'environment.synthetic_load', target: 'qubot-one/staging' },
      orderBy: { id: 'asc' },
    });
    let state = true;
    for (const a of audit) {
      expect(a.before).toEqual({ syntheticLoad: state });
      state = (a.after as { syntheticLoad: boolean }).syntheticLoad;
      expect(state).toBe(!(a.before as { syntheticLoad: boolean }).syntheticLoad);
    }
    expect((await envView('staging')).syntheticLoad).toBe(state);
  });
});

describe('[CANARY] synthetic load generator', () => {
  it('sends a steady load to the address while on, and none once it is off', async () => {
    let received = 0;
    const server = createServer((_req, res) => {
      received += 1;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const env = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'production' } });
    const original = env.address;
    await t.db.prisma.environment.update({ where: { id: env.id }, data: { address, syntheticLoad: true } });
    const load = startSyntheticLoad(t.db, pino({ level: 'silent' }), { rps: 20, refreshMs: 100 });
    try {
      await expect.poll(() => received, { timeout: 10_000 }).toBeGreaterThanOrEqual(10);
      expect(load.targets()).toContain(address);
      await put('production', { enabled: false }, 'release-manager');
      await expect.poll(() => load.targets().includes(address), { timeout: 10_000 }).toBe(false);
      // What was sent before the switch has been answered; nothing new follows.
      const settled = received;
      await new Promise((r) => setTimeout(r, 300));
      expect(received - settled).toBeLessThanOrEqual(1);
    } finally {
      load.stop();
      await t.db.prisma.environment.update({ where: { id: env.id }, data: { address: original } });
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
