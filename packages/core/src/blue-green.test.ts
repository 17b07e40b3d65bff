import { describe, expect, it } from 'vitest';
import { Sim, T0 } from './test-helpers.ts';

const bg = (extra: Partial<ConstructorParameters<typeof Sim>[0]> = {}) =>
  new Sim({ strategy: 'blue-green', ...extra });

describe('blue-green', () => {
  it('starts the idle colour at full count, previews, switches automatically and scales the old colour down after the window', () => {
    const sim = bg().start();
    expect(sim.state.status).toBe('running');
    sim.run({ timers: false });
    expect(sim.trace()).toEqual([
      'start green v2 +3=3',
      'health green 3',
      'preview green',
      'traffic blue=0 green=100 active=green',
    ]);
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.outcome).toMatchObject({ status: 'succeeded', liveVersion: 'v2', liveColor: 'green' });
    expect(sim.state.progress).toMatchObject({
      weights: { blue: 0, green: 100 },
      activeColor: 'green',
      instancesReady: 3,
      instancesDesired: 3,
    });
    // Old colour still warm: the scale-down waits for the rollback window (default 10 minutes).
    expect(sim.stepStatuses()).toEqual([
      'start:succeeded',
      'health:succeeded',
      'preview:succeeded',
      'smoke:skipped',
      'approval:skipped',
      'switch:succeeded',
      'scale-down:running',
    ]);
    expect([...sim.timers.values()]).toEqual([T0 + 600_000]);
    expect(sim.state.steps[2]?.message).toBe('preview at http://127.0.0.1:9999');

    sim.run();
    expect(sim.trace().at(-1)).toBe('stop blue all=0');
    expect(sim.state.phase).toBe('done');
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.steps.at(-1)?.status).toBe('succeeded');
    expect(sim.state.progress.pools.blue).toEqual({ version: null, instances: 0, ready: 0 });
  });

  it('honours rollbackWindowSeconds', () => {
    const sim = bg({ options: { rollbackWindowSeconds: 30 } })
      .start()
      .run({ timers: false });
    expect([...sim.timers.values()]).toEqual([T0 + 30_000]);
  });

  it('waits for a manual switch on protected environments (autoSwitch defaults to false there)', () => {
    const sim = bg({ protected: true }).start().run();
    expect(sim.state.status).toBe('paused');
    expect(sim.state.waitingFor).toBe('switch');
    expect(sim.trace()).not.toContain('traffic blue=0 green=100 active=green');
    const r = sim.send({ type: 'switch', actor: 'rm' });
    expect(r.commands.map((c) => c.kind)).toEqual(['cancelTimer', 'setTraffic']);
    sim.run({ timers: false });
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.steps.find((s) => s.key === 'switch')?.message).toBe('switched by rm');
  });

  it('accepts advance as the switch, and autoSwitch=false on an unprotected environment', () => {
    const sim = bg({ options: { autoSwitch: false } })
      .start()
      .run();
    expect(sim.state.waitingFor).toBe('switch');
    sim.send({ type: 'advance' });
    sim.run({ timers: false });
    expect(sim.state.status).toBe('succeeded');
  });

  it('switches by itself on a protected environment when autoSwitch is true', () => {
    const sim = bg({ protected: true, options: { autoSwitch: true } })
      .start()
      .run({ timers: false });
    expect(sim.state.status).toBe('succeeded');
  });

  it('fails and cleans up when no one switches within waitTimeoutSeconds', () => {
    const sim = bg({ protected: true, options: { waitTimeoutSeconds: 60 } })
      .start()
      .run();
    expect(sim.timers.get('fwd:3:timeout')).toBe(T0 + 60_000);
    sim.fireTimer('timeout');
    sim.run();
    expect(sim.state.status).toBe('failed');
    expect(sim.state.outcome).toMatchObject({
      trigger: 'timeout',
      failedStep: 'switch',
      reason: 'no switch within 60s',
      liveVersion: 'v1',
      liveColor: 'blue',
    });
    // Traffic never moved, so the clean-up only stops the new pool.
    expect(sim.trace().slice(-1)).toEqual(['stop green all=0']);
    expect(sim.trace()).not.toContain('traffic blue=100 green=0 active=blue');
    expect(sim.state.steps.at(-1)).toMatchObject({ key: 'rollback', status: 'succeeded' });
  });

  it('waits for approval before traffic moves, then continues on approve', () => {
    const sim = bg({ requiresApproval: true }).start().run();
    expect(sim.state).toMatchObject({ status: 'paused', waitingFor: 'approval' });
    expect(sim.trace().some((t) => t.startsWith('traffic'))).toBe(false);
    expect(sim.send({ type: 'switch' }).rejected).toMatch(/waiting for approval/);
    expect(sim.send({ type: 'resume' }).rejected).toBeDefined();
    sim.send({ type: 'approve', actor: 'alice' });
    sim.run({ timers: false });
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.steps.find((s) => s.key === 'approval')).toMatchObject({
      status: 'succeeded',
      message: 'approved by alice',
    });
  });

  it('approval then manual switch are two separate waits on a protected environment', () => {
    const sim = bg({ protected: true, requiresApproval: true }).start().run();
    expect(sim.state.waitingFor).toBe('approval');
    sim.send({ type: 'approve' });
    sim.run();
    expect(sim.state.waitingFor).toBe('switch');
  });

  it('fails when approval does not come in time', () => {
    const sim = bg({ requiresApproval: true, options: { waitTimeoutSeconds: 5 } })
      .start()
      .run();
    sim.fireTimer('timeout');
    sim.run();
    expect(sim.state.status).toBe('failed');
    expect(sim.state.outcome?.failedStep).toBe('approval');
  });

  it('fails the health gate: stops the new pool, old release untouched', () => {
    const sim = bg().start();
    sim.responder = (c) =>
      c.kind === 'waitHealthy'
        ? { type: 'unhealthy', commandId: c.id, message: '/healthz 500', count: 1 }
        : 'default';
    sim.run();
    expect(sim.trace()).toEqual(['start green v2 +3=3', 'health green 3', 'stop green all=0']);
    expect(sim.state.status).toBe('failed');
    expect(sim.state.outcome).toMatchObject({
      trigger: 'failure',
      failedStep: 'health',
      reason: 'v2 on green failed health checks: /healthz 500',
      liveVersion: 'v1',
    });
    expect(sim.stepStatuses()).toEqual([
      'start:succeeded',
      'health:failed',
      'preview:skipped',
      'smoke:skipped',
      'approval:skipped',
      'switch:skipped',
      'scale-down:skipped',
      'rollback:succeeded',
    ]);
    expect(sim.state.steps[1]?.message).toBe('v2 on green failed health checks: /healthz 500');
  });

  it('passes healthTimeoutSeconds to the health gate and fails on a timeout', () => {
    const sim = bg({ options: { healthTimeoutSeconds: 15 } }).start();
    sim.responder = (c) =>
      c.kind === 'waitHealthy' ? { type: 'healthTimeout', commandId: c.id, count: 2 } : 'default';
    sim.run();
    const wait = sim.log.find((c) => c.kind === 'waitHealthy');
    expect(wait).toMatchObject({ timeoutMs: 15_000, deadline: T0 + 15_000 });
    expect(sim.state.status).toBe('failed');
    expect(sim.state.outcome).toMatchObject({
      trigger: 'timeout',
      reason: 'v2 on green not healthy within 15s (2/3 healthy)',
    });
  });

  it('runs the smoke check when configured and fails on a bad result', () => {
    const ok = bg({ options: { smokeCheck: true } })
      .start()
      .run({ timers: false });
    expect(ok.trace()).toContain('smoke green');
    expect(ok.state.status).toBe('succeeded');

    const bad = bg({ options: { smokeCheck: true } }).start();
    bad.responder = (c) =>
      c.kind === 'smokeCheck'
        ? { type: 'smokeResult', commandId: c.id, passed: false, message: 'GET / 502' }
        : 'default';
    bad.run();
    expect(bad.state.status).toBe('failed');
    expect(bad.state.outcome?.reason).toBe('smoke check failed: GET / 502');
    expect(bad.state.outcome?.failedStep).toBe('smoke');
  });

  it('abort during the switch: switches back and stops the new pool; the late result is ignored', () => {
    const sim = bg().start();
    sim.responder = (c) => (c.kind === 'setTraffic' ? null : 'default');
    sim.run();
    const switchCmd = sim.pendingCommand();
    expect(switchCmd?.kind).toBe('setTraffic');
    const r = sim.send({ type: 'abort', actor: 'bob', reason: 'wrong build' });
    expect(r.commands.map((c) => c.kind)).toEqual(['setTraffic']);
    expect(r.commands[0]).toMatchObject({ weights: { blue: 100, green: 0 }, activeColor: 'blue' });
    // The in-flight switch completes after the abort: harmless.
    const late = sim.send({ type: 'trafficSet', commandId: switchCmd!.id });
    expect(late.ignored).toMatch(/no command .* in flight/);
    sim.responder = () => 'default';
    sim.run();
    expect(sim.state.status).toBe('aborted');
    expect(sim.state.outcome).toMatchObject({
      trigger: 'abort',
      actor: 'bob',
      reason: 'wrong build',
      liveVersion: 'v1',
    });
    expect(sim.trace().slice(-2)).toEqual(['traffic blue=100 green=0 active=blue', 'stop green all=0']);
    expect(sim.state.steps.find((s) => s.key === 'switch')?.status).toBe('skipped');
    expect(sim.state.steps.at(-1)?.name).toBe('Abort: return to v1');
  });

  it('rollback inside the window is an instant switch back (verification running)', () => {
    const sim = bg({ options: { analysis: { enabled: true, windowSeconds: 60 } } })
      .start()
      .run({ timers: false });
    expect(sim.state.status).toBe('running');
    expect(sim.state.steps.find((s) => s.key === 'verify')?.status).toBe('running');
    sim.send({ type: 'rollback', actor: 'rm', reason: 'customers complain' });
    sim.run();
    expect(sim.trace().slice(-2)).toEqual(['traffic blue=100 green=0 active=blue', 'stop green all=0']);
    expect(sim.trace().filter((t) => t.startsWith('start'))).toHaveLength(1);
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({ trigger: 'rollback', liveColor: 'blue', liveVersion: 'v1' });
  });

  it('post-switch analysis breach switches back automatically', () => {
    const sim = bg({ options: { analysis: { enabled: true, windowSeconds: 60 } } }).start();
    sim.responder = (c) =>
      c.kind === 'collectMetrics'
        ? { type: 'metrics', commandId: c.id, requests: 100, errors: 30, p95Ms: 20 }
        : 'default';
    sim.run();
    // Measured every 10 s after the switch: the first measurement already breaches (early abort).
    const collect = sim.log.filter((c) => c.kind === 'collectMetrics');
    expect(collect).toHaveLength(1);
    expect(collect[0]).toMatchObject({ pool: 'green', since: T0, until: T0 + 10_000, windowMs: 10_000 });
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome?.failedMetric).toMatchObject({
      metric: 'errorRate',
      value: 0.3,
      threshold: 0.05,
    });
  });

  it('a succeeded deployment refuses rollback and abort (rollback is a new deployment)', () => {
    const sim = bg().start().run({ timers: false });
    expect(sim.send({ type: 'rollback' }).rejected).toBe('cannot rollback a deployment that is succeeded');
    expect(sim.send({ type: 'abort' }).rejected).toBeDefined();
  });

  it('superseded during the rollback window: the warm colour is not scaled down', () => {
    const sim = bg().start().run({ timers: false });
    const r = sim.send({ type: 'superseded' });
    expect(r.commands.map((c) => c.kind)).toEqual(['cancelTimer']);
    expect(sim.state.phase).toBe('done');
    expect(sim.state.steps.at(-1)).toMatchObject({
      status: 'skipped',
      message: 'superseded by a newer deployment',
    });
    expect(sim.send({ type: 'superseded' }).ignored).toBe('nothing left to do');
    expect(sim.trace().some((t) => t.startsWith('stop'))).toBe(false);
  });

  it('scale-down failure leaves the deployment succeeded with a failed housekeeping step', () => {
    const sim = bg({ options: { commandRetries: 0 } }).start();
    sim.responder = (c) =>
      c.kind === 'stopInstances' ? { type: 'commandFailed', commandId: c.id, message: 'EPERM' } : 'default';
    sim.run();
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.phase).toBe('done');
    expect(sim.state.steps.at(-1)).toMatchObject({
      status: 'failed',
      message: 'stopInstances failed: EPERM',
    });
  });

  it('reuses a warm idle colour that already runs the release (fast switch back)', () => {
    const sim = bg({
      version: 'v1',
      fromVersion: 'v2',
      activeColor: 'green',
      idlePool: { version: 'v1', instances: 3 },
    })
      .start()
      .run({ timers: false });
    expect(sim.trace()).toEqual(['health blue 3', 'preview blue', 'traffic blue=100 green=0 active=blue']);
    expect(sim.state.steps[0]).toMatchObject({ key: 'start', status: 'skipped' });
    expect(sim.state.status).toBe('succeeded');
  });

  it('clears an idle colour that still holds an older release before starting', () => {
    const sim = bg({ idlePool: { version: 'v0', instances: 2 } })
      .start()
      .run({ timers: false });
    expect(sim.trace().slice(0, 2)).toEqual(['stop green all=0', 'start green v2 +3=3']);
  });

  it('first deployment: blue is used, nothing to scale down, abort only stops the new pool', () => {
    const sim = new Sim({ strategy: 'blue-green', fromVersion: null, activeColor: null }).start().run();
    expect(sim.trace()).toEqual([
      'start blue v2 +3=3',
      'health blue 3',
      'preview blue',
      'traffic blue=100 green=0 active=blue',
    ]);
    expect(sim.state.steps.some((s) => s.key === 'scale-down')).toBe(false);
    expect(sim.state.phase).toBe('done');
  });
});
