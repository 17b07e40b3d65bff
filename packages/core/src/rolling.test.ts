import { describe, expect, it } from 'vitest';
import { planBatches } from './program.ts';
import { Sim } from './test-helpers.ts';

const rolling = (extra: Partial<ConstructorParameters<typeof Sim>[0]> = {}) =>
  new Sim({ strategy: 'rolling', ...extra });

describe('planBatches', () => {
  it('maxSurge 1 / maxUnavailable 0: one in, one out', () => {
    expect(planBatches(3, 3, 1, 0)).toEqual([
      { preRemove: 0, add: 1, remove: 1, newTotal: 1, oldTotal: 2 },
      { preRemove: 0, add: 1, remove: 1, newTotal: 2, oldTotal: 1 },
      { preRemove: 0, add: 1, remove: 1, newTotal: 3, oldTotal: 0 },
    ]);
  });

  it('maxSurge 0 / maxUnavailable 1: removes before adding', () => {
    const b = planBatches(3, 3, 0, 1);
    expect(b[0]).toMatchObject({ preRemove: 1, add: 1 });
    expect(b.at(-1)).toMatchObject({ newTotal: 3, oldTotal: 0 });
  });

  it('first deployment starts everything in one batch; scale-up and scale-down work', () => {
    expect(planBatches(2, 0, 1, 0)).toEqual([{ preRemove: 0, add: 2, remove: 0, newTotal: 2, oldTotal: 0 }]);
    expect(planBatches(5, 3, 2, 0).at(-1)).toMatchObject({ newTotal: 5, oldTotal: 0 });
    expect(planBatches(2, 4, 1, 0).at(-1)).toMatchObject({ newTotal: 2, oldTotal: 0 });
  });

  it('treats 0/0 as surge 1 rather than looping forever', () => {
    expect(planBatches(2, 2, 0, 0)).toHaveLength(2);
  });

  it('keeps within the surge and availability bounds for every combination', () => {
    for (let r = 1; r <= 6; r++) {
      for (let old = 0; old <= 6; old++) {
        for (let s = 0; s <= 3; s++) {
          for (let u = 0; u <= 3; u++) {
            const surge = s === 0 && u === 0 ? 1 : s;
            let n = 0;
            let o = old;
            for (const b of planBatches(r, old, s, u)) {
              o -= b.preRemove;
              if (n + o < Math.min(old, r - u))
                throw new Error(`unavailable r=${r} old=${old} s=${s} u=${u}`);
              n += b.add;
              if (n + o > Math.max(old, r + surge)) throw new Error(`surge r=${r} old=${old} s=${s} u=${u}`);
              o -= b.remove;
              if (n + o < Math.min(old, r - u))
                throw new Error(`unavailable r=${r} old=${old} s=${s} u=${u}`);
              expect([b.newTotal, b.oldTotal]).toEqual([n, o]);
            }
            expect([n, o]).toEqual([r, 0]);
          }
        }
      }
    }
  });
});

describe('rolling', () => {
  it('replaces instances batch by batch, each new one healthy before an old one goes', () => {
    const sim = rolling().start().run();
    expect(sim.trace()).toEqual([
      'start green v2 +1=1',
      'health green 1',
      'traffic blue=67 green=33 active=blue',
      'stop blue 1=2',
      'start green v2 +1=2',
      'health green 2',
      'traffic blue=33 green=67 active=blue',
      'stop blue 1=1',
      'start green v2 +1=3',
      'health green 3',
      'traffic blue=0 green=100 active=green',
      'stop blue 1=0',
    ]);
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.phase).toBe('done');
    expect(sim.stepStatuses()).toEqual([
      'approval:skipped',
      'batch-1:succeeded',
      'batch-2:succeeded',
      'batch-3:succeeded',
    ]);
    expect(sim.state.steps[1]?.name).toBe('Batch 1/3: +1 new, −1 old');
    expect(sim.state.progress).toMatchObject({
      activeColor: 'green',
      weights: { blue: 0, green: 100 },
      pools: { blue: { instances: 0, version: null }, green: { instances: 3, ready: 3, version: 'v2' } },
    });
  });

  it('uses maxSurge / maxUnavailable (percentages too)', () => {
    const sim = rolling({ replicas: 4, options: { maxSurge: '50%', maxUnavailable: 0 } })
      .start()
      .run();
    expect(sim.trace().filter((t) => t.startsWith('start'))).toEqual([
      'start green v2 +2=2',
      'start green v2 +2=4',
    ]);
  });

  it('health check fails in batch 3: restores the old pool, moves traffic back, stops the new pool', () => {
    const sim = rolling().start();
    sim.responder = (c) =>
      c.kind === 'waitHealthy' && c.pool === 'green' && c.count === 3
        ? { type: 'unhealthy', commandId: c.id, message: 'crash loop' }
        : 'default';
    sim.run();
    expect(sim.trace().slice(8)).toEqual([
      'start green v2 +1=3',
      'health green 3',
      'start blue v1 +2=3',
      'health blue 3',
      'traffic blue=100 green=0 active=blue',
      'stop green all=0',
    ]);
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({ failedStep: 'batch-3', liveVersion: 'v1', liveColor: 'blue' });
    expect(sim.stepStatuses()).toEqual([
      'approval:skipped',
      'batch-1:succeeded',
      'batch-2:succeeded',
      'batch-3:failed',
      'rollback:succeeded',
    ]);
    expect(sim.state.progress.pools.blue.instances).toBe(3);
    expect(sim.state.progress.pools.green.instances).toBe(0);
  });

  it('health failure in batch 1 before any old instance went is a plain failure', () => {
    const sim = rolling().start();
    sim.responder = (c) => (c.kind === 'waitHealthy' ? { type: 'unhealthy', commandId: c.id } : 'default');
    sim.run();
    expect(sim.state.status).toBe('failed');
    expect(sim.trace().slice(-1)).toEqual(['stop green all=0']);
  });

  it('pause mid-batch: the in-flight step completes, nothing new starts until resume', () => {
    const sim = rolling().start();
    sim.responder = (c) => (c.kind === 'waitHealthy' ? null : 'default');
    sim.run();
    const wait = sim.pendingCommand()!;
    sim.send({ type: 'pause', actor: 'ops' });
    expect(sim.state).toMatchObject({ status: 'paused', waitingFor: null });
    expect(sim.send({ type: 'pause' }).rejected).toBe('cannot pause a deployment that is paused');
    const r = sim.send({ type: 'healthy', commandId: wait.id, count: 1 });
    expect(r.commands).toEqual([]);
    expect(sim.state.status).toBe('paused');
    expect(sim.state.progress.instancesReady).toBe(1);
    sim.responder = () => 'default';
    const resumed = sim.send({ type: 'resume' });
    expect(resumed.commands.map((c) => c.kind)).toEqual(['cancelTimer', 'setTraffic']);
    sim.run();
    expect(sim.state.status).toBe('succeeded');
  });

  it('a pause that outlives waitTimeoutSeconds rolls back', () => {
    const sim = rolling({ options: { waitTimeoutSeconds: 120, pauseBetweenBatchesSeconds: 'manual' } })
      .start()
      .run();
    expect(sim.state.waitingFor).toBe('advance');
    sim.send({ type: 'advance' });
    sim.send({ type: 'pause' });
    sim.run({ timers: false });
    expect(sim.state.status).toBe('paused');
    sim.fireTimer('pause:1');
    sim.run();
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({ trigger: 'timeout', reason: 'paused for longer than 120s' });
  });

  it('manual pause between batches waits for advance', () => {
    const sim = rolling({ options: { pauseBetweenBatchesSeconds: 'manual' } })
      .start()
      .run();
    expect(sim.state).toMatchObject({ status: 'paused', waitingFor: 'advance' });
    expect(sim.trace()).toHaveLength(4);
    sim.send({ type: 'advance' });
    sim.run();
    expect(sim.state.waitingFor).toBe('advance');
    sim.send({ type: 'advance' });
    sim.run();
    // No pause after the last batch.
    expect(sim.state.status).toBe('succeeded');
  });

  it('timed pause between batches holds, and advance cuts it short', () => {
    const sim = rolling({ options: { pauseBetweenBatchesSeconds: 30 } })
      .start()
      .run({ timers: false });
    expect(sim.state.status).toBe('running');
    expect([...sim.timers.keys()]).toEqual(['fwd:4:hold']);
    const r = sim.send({ type: 'advance' });
    expect(r.commands.map((c) => c.kind)).toEqual(['cancelTimer', 'startInstances']);
    sim.run();
    expect(sim.state.status).toBe('succeeded');
  });

  it('abort mid-way returns to the old release', () => {
    const sim = rolling({ options: { pauseBetweenBatchesSeconds: 'manual' } })
      .start()
      .run();
    sim.send({ type: 'advance' });
    sim.run();
    sim.send({ type: 'abort', actor: 'rm' });
    sim.run();
    expect(sim.state.status).toBe('aborted');
    expect(sim.trace().slice(-4)).toEqual([
      'start blue v1 +2=3',
      'health blue 3',
      'traffic blue=100 green=0 active=blue',
      'stop green all=0',
    ]);
    expect(sim.state.steps.find((s) => s.key === 'batch-2')?.status).toBe('skipped');
  });

  it('rollback mid-way is recorded as rolled_back', () => {
    const sim = rolling({ options: { pauseBetweenBatchesSeconds: 'manual' } })
      .start()
      .run();
    sim.send({ type: 'rollback', reason: 'latency' });
    sim.run();
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({ reason: 'latency', trigger: 'rollback' });
  });

  it('retries a failed command once by default, then fails', () => {
    let failures = 0;
    const sim = rolling().start();
    sim.responder = (c) => {
      if (c.kind === 'setTraffic' && failures < 1) {
        failures++;
        return { type: 'commandFailed', commandId: c.id, message: 'router busy' };
      }
      return 'default';
    };
    sim.run();
    expect(sim.state.status).toBe('succeeded');
    expect(
      sim.log
        .filter((c) => c.kind === 'setTraffic')
        .map((c) => c.id)
        .slice(0, 2),
    ).toEqual(['fwd:2:traffic:1', 'fwd:2:traffic:2']);

    const always = rolling().start();
    always.responder = (c) =>
      c.kind === 'setTraffic' && c.weights.green > 0
        ? { type: 'commandFailed', commandId: c.id, message: 'router down' }
        : 'default';
    always.run();
    expect(always.state.status).toBe('rolled_back');
    expect(always.state.outcome?.reason).toBe('setTraffic failed: router down');
  });

  it('a rollback that cannot restore the old pool ends failed and says so', () => {
    const sim = rolling().start();
    sim.responder = (c) => {
      if (c.kind === 'waitHealthy' && c.pool === 'green' && c.count === 2)
        return { type: 'unhealthy', commandId: c.id };
      if (c.kind === 'waitHealthy' && c.pool === 'blue') return { type: 'healthTimeout', commandId: c.id };
      return 'default';
    };
    sim.run();
    expect(sim.state.status).toBe('failed');
    expect(sim.state.phase).toBe('done');
    expect(sim.state.outcome?.reason).toMatch(/then the rollback failed: v1 on blue not healthy within 120s/);
    expect(sim.state.outcome?.liveVersion).toBeNull();
    expect(sim.state.steps.at(-1)?.status).toBe('failed');
  });

  it('runs analysis after each batch when enabled', () => {
    const sim = rolling({ options: { analysis: { enabled: true, windowSeconds: 10 } } })
      .start()
      .run();
    expect(sim.trace().filter((t) => t.startsWith('metrics'))).toEqual([
      'metrics green 10000ms',
      'metrics green 10000ms',
      'metrics green 10000ms',
    ]);
    expect(sim.state.analysis.filter((a) => a.metric === 'errorRate')).toHaveLength(3);
  });

  it('first deployment starts every instance at once', () => {
    const sim = new Sim({ strategy: 'rolling', fromVersion: null, activeColor: null, replicas: 2 })
      .start()
      .run();
    expect(sim.trace()).toEqual([
      'start blue v2 +2=2',
      'health blue 2',
      'traffic blue=100 green=0 active=blue',
    ]);
  });

  it('approval comes before any batch', () => {
    const sim = rolling({ requiresApproval: true }).start().run();
    expect(sim.state.waitingFor).toBe('approval');
    expect(sim.trace()).toEqual([]);
    sim.send({ type: 'approve' });
    sim.run();
    expect(sim.state.status).toBe('succeeded');
  });
});
