import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { contextFrom } from '../lib/request-context.ts';
import { isActive } from '../services/freeze-service.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const url = '/api/v1/apps/qubot-one/environments/production/freeze-windows';
const ctxOf = (name: string, role: 'deployer' | 'release-manager' | 'admin') =>
  contextFrom({ id: 'req-1', ip: '127.0.0.1', headers: {} } as never, { name, role, kind: 'user' });

describe('[security] freeze windows', () => {
  it('creates, lists and deletes windows (release-manager), audited', async () => {
    const rm = await t.as('release-manager');
    const bad = await t.app.inject({ method: 'POST', url, headers: rm, payload: { reason: 'neither' } });
    expect(bad.statusCode).toBe(400);
    const past = await t.app.inject({
      method: 'POST',
      url,
      headers: rm,
      payload: { reason: 'old', startsAt: '2020-01-01T00:00:00Z', endsAt: '2020-01-02T00:00:00Z' },
    });
    expect(past.json().error.details.field).toBe('body.endsAt');
    const badTz = await t.app.inject({
      method: 'POST',
      url,
      headers: rm,
      payload: {
        reason: 'x',
        recurrence: { days: [5], start: '16:00', end: '23:59', timezone: 'Mars/Olympus' },
      },
    });
    expect(badTz.json().error.details.field).toBe('body.recurrence.timezone');
    const created = await t.app.inject({
      method: 'POST',
      url,
      headers: rm,
      payload: {
        reason: 'Black Friday',
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      reason: 'Black Friday',
      active: true,
      createdBy: 'release-manager',
    });
    const list = await t.app.inject({ method: 'GET', url, headers: await t.as('viewer') });
    expect(list.json().items.map((w: { reason: string }) => w.reason)).toEqual(['Black Friday']);
    const gone = await t.app.inject({ method: 'DELETE', url: `${url}/${created.json().id}`, headers: rm });
    expect(gone.statusCode).toBe(200);
    const again = await t.app.inject({ method: 'DELETE', url: `${url}/${created.json().id}`, headers: rm });
    expect(again.statusCode).toBe(404);
    const actions = await t.db.prisma.auditEntry.findMany({
      where: { action: { startsWith: 'freeze.' } },
      orderBy: { id: 'asc' },
    });
    expect(actions.map((a) => [a.action, a.target])).toEqual([
      ['freeze.create', 'qubot-one/production'],
      ['freeze.delete', 'qubot-one/production'],
    ]);
  });

  it('blocks deployments with a 409 naming the window; only an admin with a reason overrides, audited', async () => {
    const rm = await t.as('release-manager');
    await t.app.inject({
      method: 'POST',
      url,
      headers: rm,
      payload: {
        reason: 'Weekend',
        recurrence: { days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '00:00', timezone: 'UTC' },
      },
    });
    const env = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'production' } });
    const { freeze } = t.app.services;
    const err = await freeze.assertNotFrozen(ctxOf('alice', 'release-manager'), env.id).catch((e) => e);
    expect(err.statusCode).toBe(409);
    expect(err.message).toMatch(/environment production is frozen: "Weekend"/);
    const rmOverride = await freeze
      .assertNotFrozen(ctxOf('alice', 'release-manager'), env.id, { override: true, reason: 'hotfix' })
      .catch((e) => e);
    expect(rmOverride.statusCode).toBe(403);
    expect(rmOverride.message).toMatch(/needs admin to override a freeze window/);
    const noReason = await freeze
      .assertNotFrozen(ctxOf('root', 'admin'), env.id, { override: true })
      .catch((e) => e);
    expect(noReason.statusCode).toBe(400);
    const ok = await freeze.assertNotFrozen(ctxOf('root', 'admin'), env.id, {
      override: true,
      reason: 'security fix',
    });
    expect(ok.overridden.map((w) => w.reason)).toEqual(['Weekend']);
    const audit = await t.db.prisma.auditEntry.findFirstOrThrow({ where: { action: 'freeze.override' } });
    expect(audit).toMatchObject({ actor: 'root', reason: 'security fix', target: 'qubot-one/production' });
    const dev = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } });
    expect((await freeze.assertNotFrozen(ctxOf('bob', 'deployer'), dev.id)).overridden).toEqual([]);
  });

  it('evaluates weekly windows in their time zone, including past midnight', () => {
    const fri = {
      startsAt: null,
      endsAt: null,
      recurrence: { days: [5], start: '18:00', end: '06:00', timezone: 'Europe/Paris' },
    };
    // 2026-01-09 is a Friday; Paris is UTC+1 in January.
    expect(isActive(fri, new Date('2026-01-09T16:59:00Z'))).toBe(false);
    expect(isActive(fri, new Date('2026-01-09T17:00:00Z'))).toBe(true);
    expect(isActive(fri, new Date('2026-01-10T04:59:00Z'))).toBe(true);
    expect(isActive(fri, new Date('2026-01-10T05:00:00Z'))).toBe(false);
    const day = {
      startsAt: null,
      endsAt: null,
      recurrence: { days: [1], start: '09:00', end: '17:00', timezone: 'UTC' },
    };
    expect(isActive(day, new Date('2026-01-12T12:00:00Z'))).toBe(true);
    expect(isActive(day, new Date('2026-01-13T12:00:00Z'))).toBe(false);
    const once = {
      startsAt: new Date('2026-01-01T00:00:00Z'),
      endsAt: new Date('2026-01-02T00:00:00Z'),
      recurrence: null,
    };
    expect(isActive(once, new Date('2026-01-01T12:00:00Z'))).toBe(true);
    expect(isActive(once, new Date('2026-01-02T00:00:00Z'))).toBe(false);
  });
});
