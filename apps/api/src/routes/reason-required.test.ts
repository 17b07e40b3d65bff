// Issue 9 item 2: every action that moves traffic or changes a protected environment takes a
// reason, whichever button (or client) sends it. The server refuses without one: 400 naming
// body.reason, and nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, FAST, type Harness, startHarness } from '../orchestrator/test-helpers.ts';

let h: Harness;
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const env = (name: string) => `/apps/${APP}/environments/${name}`;

function expectReasonRequired(res: { statusCode: number; body: string; json(): unknown }) {
  expect(res.statusCode, res.body).toBe(400);
  expect(res.json()).toMatchObject({ error: { details: { field: 'body.reason' } } });
}

beforeAll(async () => {
  h = await startHarness({ role: 'admin' });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('[API] a reason is required', () => {
  it('on a protected environment: deploy, promote, traffic, rollback, settings; blank does not count', async () => {
    const before = await h.get('/audit?limit=1');
    for (const reason of [undefined, '', '   ']) {
      const body = {
        version: '1.0.0',
        strategy: 'blue-green',
        override: true,
        ...(reason === undefined ? {} : { reason }),
      };
      expectReasonRequired(await h.post(`${env('production')}/deployments`, { ...body, reason }));
    }
    expectReasonRequired(await h.post(`${env('production')}/promote`, {}));
    expectReasonRequired(await h.post(`${env('production')}/traffic`, { activeColor: 'green' }));
    expectReasonRequired(await h.post(`${env('production')}/rollback`, {}));
    const settings = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1${env('production')}/settings`,
      headers: h.auth,
      payload: { requiresApproval: true },
    });
    expectReasonRequired(settings);
    // Nothing happened: no deployment, no audit row.
    expect(await h.db.prisma.deployment.count({ where: { environment: { name: 'production' } } })).toBe(0);
    expect((await h.get('/audit?limit=1')).items[0]?.id).toBe(before.items[0]?.id);
    // An unprotected environment's settings change needs none.
    const dev = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1${env('development')}/settings`,
      headers: h.auth,
      payload: { replicas: 2 },
    });
    expect(dev.statusCode, dev.body).toBe(200);
  });

  it('for an advance that switches traffic, on any environment; controls of a protected one', async () => {
    const d = await h.deploy('development', {
      version: '1.0.0',
      strategy: 'blue-green',
      options: { ...FAST, autoSwitch: false },
      reason: undefined,
    });
    const waiting = await h.until(d.id, ['paused', ...FINAL]);
    expect(waiting.waitingFor).toBe('switch');
    expectReasonRequired(await h.post(`/deployments/${d.id}/advance`, {}));
    expectReasonRequired(await h.post(`/deployments/${d.id}/advance`, { reason: ' ' }));
    expect((await h.deployment(d.id)).waitingFor).toBe('switch');
    // Race: advances with and without a reason at once. Those without are all refused; of those
    // with one, exactly one switches (the others find it no longer waiting: 409).
    const raced = await Promise.all(
      [undefined, 'switch 1.0.0', undefined, 'switch 1.0.0', undefined, 'switch 1.0.0'].map((reason) =>
        h.post(`/deployments/${d.id}/advance`, reason ? { reason } : {}).then((r) => ({ reason, r })),
      ),
    );
    // Without a reason: 400 while it waits for the switch, 409 once it has switched; never accepted.
    for (const { reason, r } of raced) if (!reason) expect([400, 409], r.body).toContain(r.statusCode);
    const withReason = raced.filter((x) => x.reason).map((x) => x.r.statusCode);
    expect(
      withReason.filter((c) => c < 300),
      JSON.stringify(withReason),
    ).toHaveLength(1);
    expect(
      withReason.filter((c) => c >= 300).every((c) => c === 409),
      JSON.stringify(withReason),
    ).toBe(true);
    expect((await h.until(d.id, FINAL)).status).toBe('succeeded');
    const audit = await h.get('/audit?action=deployment.advance');
    expect(audit.items).toHaveLength(1);
    expect(audit.items[0]).toMatchObject({ action: 'deployment.advance', reason: 'switch 1.0.0' });

    // On a protected environment every control but pause and approve needs one.
    const p = await h.deploy('production', {
      version: '1.0.0',
      strategy: 'blue-green',
      override: true,
      options: { ...FAST, autoSwitch: false },
      reason: 'first release',
    });
    expect((await h.until(p.id, ['paused', ...FINAL])).waitingFor).toBe('switch');
    expectReasonRequired(await h.post(`/deployments/${p.id}/resume`, {}));
    expectReasonRequired(await h.post(`/deployments/${p.id}/abort`, {}));
    expectReasonRequired(await h.post(`/deployments/${p.id}/advance`, {}));
    // A pause only holds: no reason needed.
    expect((await h.post(`/deployments/${p.id}/pause`, {})).statusCode).not.toBe(400);
    const abort = await h.post(`/deployments/${p.id}/abort`, { reason: 'test over' });
    expect(abort.statusCode, abort.body).toBeLessThan(300);
    expect((await h.until(p.id, FINAL)).status).toBe('aborted');
  }, 90_000);
});
