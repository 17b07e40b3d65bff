import { describe, expect, it } from 'vitest';
import { Sim, T0 } from './test-helpers.ts';
import type { Command, DeploymentEvent } from './types.ts';

const canary = (extra: Partial<ConstructorParameters<typeof Sim>[0]> = {}) =>
  new Sim({ strategy: 'canary', ...extra });

/** Healthy figures everywhere except the collection made while the new pool carries `weight` %. */
function breachAt(weight: number, figures: Partial<Extract<DeploymentEvent, { type: 'metrics' }>>) {
  let currentWeight = 0;
  return (c: Command): DeploymentEvent | 'default' => {
    if (c.kind === 'setTraffic') currentWeight = c.weights.green;
    if (c.kind === 'collectMetrics' && currentWeight === weight) {
      return { type: 'metrics', commandId: c.id, requests: 100, errors: 0, p95Ms: 10, ...figures };
    }
    return 'default';
  };
}

describe('canary', () => {
  it('weights by whole instances (Kubernetes replica ratio): each step scales the canary to round(weight × replicas), the old colour to the rest', () => {
    const sim = canary({ replicas: 4, weightsByInstances: true, options: { analysis: { enabled: false } } })
      .start()
      .run();
    expect(sim.trace()).toEqual([
      'start green v2 +1=1',
      'health green 1',
      // 10 % of 4 rounds to 0: at least 1 canary, 3 old = 25 % served.
      'stop blue 1=3',
      'traffic blue=90 green=10 active=blue',
      // 25 %: still 1 of 4.
      'traffic blue=75 green=25 active=blue',
      // 50 %: 2 of 4.
      'start green v2 +1=2',
      'health green 2',
      'stop blue 1=2',
      'traffic blue=50 green=50 active=blue',
      'start green v2 +2=4',
      'health green 4',
      'traffic blue=0 green=100 active=green',
      'stop blue all=0',
    ]);
    expect(sim.state.status).toBe('succeeded');
  });

  it('weights by whole instances: an abort brings the old colour back to its full count before the canary stops', () => {
    const sim = canary({
      replicas: 4,
      weightsByInstances: true,
      options: { steps: [50, 100], stepDurationSeconds: 'manual', analysis: { enabled: false } },
    })
      .start()
      .run();
    expect(sim.state.status).toBe('paused');
    sim.send({ type: 'abort', reason: 'bad' });
    sim.run();
    expect(sim.trace().slice(-5)).toEqual([
      // 50 % of 4: 2 and 2, held there when the abort came.
      'traffic blue=50 green=50 active=blue',
      'start blue v1 +2=4',
      'health blue 4',
      'traffic blue=100 green=0 active=blue',
      'stop green all=0',
    ]);
    expect(sim.state.status).toBe('aborted');
  });

  it('shifts weight 10 → 25 → 50 → 100 with a hold and analysis at each step, then stops the old pool', () => {
    const sim = canary().start().run();
    // Every 10 s of the 60 s hold the analysis measures the step so far: a time series.
    const measurements = [10, 20, 30, 40, 50, 60].map((s) => `metrics green ${s * 1000}ms`);
    expect(sim.trace()).toEqual([
      'start green v2 +1=1',
      'health green 1',
      'traffic blue=90 green=10 active=blue',
      ...measurements,
      'traffic blue=75 green=25 active=blue',
      ...measurements,
      'traffic blue=50 green=50 active=blue',
      ...measurements,
      'start green v2 +2=3',
      'health green 3',
      'traffic blue=0 green=100 active=green',
      'stop blue all=0',
    ]);
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.phase).toBe('done');
    expect(sim.stepStatuses()).toEqual([
      'start:succeeded',
      'approval:skipped',
      'weight-10:succeeded',
      'weight-25:succeeded',
      'weight-50:succeeded',
      'weight-100:succeeded',
      'stop-old:succeeded',
    ]);
    // Three checks per measurement, six measurements per step, three steps.
    expect(sim.state.analysis).toHaveLength(3 * 6 * 3);
    const first = sim.state.analysis.filter((a) => a.step === 'weight-10');
    expect(first.map((a) => a.metric).slice(0, 3)).toEqual(['minRequests', 'errorRate', 'p95Ms']);
    expect(first.at(-2)).toMatchObject({
      step: 'weight-10',
      pool: 'green',
      metric: 'errorRate',
      value: 0.005,
      threshold: 0.05,
      verdict: 'passed',
      passed: true,
      samples: 200,
      minSamples: 20,
      since: T0,
      until: T0 + 60_000,
    });
    expect(first.at(-1)).toMatchObject({
      metric: 'p95Ms',
      value: 40,
      threshold: 1000,
      passed: true,
    });
    expect(sim.log.find((c) => c.kind === 'collectMetrics')).toMatchObject({ baselinePool: 'blue' });
    expect(sim.state.outcome).toMatchObject({ liveVersion: 'v2', liveColor: 'green' });
    expect(sim.state.progress).toMatchObject({
      instancesReady: 3,
      instancesDesired: 3,
      activeColor: 'green',
    });
  });

  it('analysis breach at step 2 rolls back automatically, recording metric, value and threshold', () => {
    const sim = canary().start();
    sim.responder = breachAt(25, { errors: 12 });
    sim.run();
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({
      trigger: 'failure',
      failedStep: 'weight-25',
      failedMetric: {
        metric: 'errorRate',
        value: 0.12,
        threshold: 0.05,
        verdict: 'failed',
        passed: false,
        step: 'weight-25',
      },
      // Early abort: the first measurement with enough requests already breaches.
      reason:
        'analysis failed at Traffic 25% after 10 s of its 60 s hold: error rate 12 % > max 5 % (100 requests)',
      liveVersion: 'v1',
      liveColor: 'blue',
    });
    expect(sim.trace().slice(-2)).toEqual(['traffic blue=100 green=0 active=blue', 'stop green all=0']);
    expect(sim.stepStatuses()).toEqual([
      'start:succeeded',
      'approval:skipped',
      'weight-10:succeeded',
      'weight-25:failed',
      'weight-50:skipped',
      'weight-100:skipped',
      'stop-old:skipped',
      'rollback:succeeded',
    ]);
    expect(sim.state.analysis.filter((a) => a.verdict === 'failed')).toHaveLength(1);
    expect(sim.state.progress.weights).toEqual({ blue: 100, green: 0 });
  });

  it('fails on p95 latency, on too few requests and on unhealthy instances', () => {
    const slow = canary().start();
    slow.responder = breachAt(10, { p95Ms: 2500 });
    slow.run();
    expect(slow.state.outcome?.failedMetric).toMatchObject({ metric: 'p95Ms', value: 2500, threshold: 1000 });

    const quiet = canary({ options: { analysis: { minRequests: 50 } } }).start();
    quiet.responder = breachAt(10, { requests: 3, errors: 0 });
    quiet.run();
    expect(quiet.state.outcome?.failedMetric).toMatchObject({
      metric: 'minRequests',
      value: 3,
      threshold: 50,
      bound: 'min',
    });

    const sick = canary().start();
    sick.responder = breachAt(50, { healthy: 0 });
    sick.run();
    expect(sick.state.outcome?.failedMetric).toMatchObject({ metric: 'health', value: 0, threshold: 1 });
    expect(sick.state.status).toBe('rolled_back');
  });

  it('uses custom steps and durations and can disable analysis', () => {
    const sim = canary({ options: { steps: [20, 60], stepDurationSeconds: 5, analysis: { enabled: false } } })
      .start()
      .run();
    expect(sim.trace().filter((t) => t.startsWith('traffic'))).toEqual([
      'traffic blue=80 green=20 active=blue',
      'traffic blue=40 green=60 active=blue',
      'traffic blue=0 green=100 active=green',
    ]);
    expect(sim.trace().some((t) => t.startsWith('metrics'))).toBe(false);
    expect(sim.now).toBe(T0 + 10_000);
  });

  it('manual steps wait for advance; analysis covers the time since the weight changed', () => {
    const sim = canary({ options: { stepDurationSeconds: 'manual' } })
      .start()
      .run();
    expect(sim.state).toMatchObject({ status: 'paused', waitingFor: 'advance' });
    sim.now += 300_000;
    sim.send({ type: 'advance', actor: 'rm' });
    sim.run();
    expect(sim.log.find((c) => c.kind === 'collectMetrics')).toMatchObject({ windowMs: 300_000 });
    expect(sim.state.waitingFor).toBe('advance');
    expect(sim.state.steps.find((s) => s.key === 'weight-10')?.message).toBe(
      'analysis passed: error rate 0.5 % ≤ max 5 % (200 requests), p95 latency 40 ms ≤ max 1000 ms (200 requests)',
    );
  });

  it('an advance that never comes times out and rolls back (traffic had moved)', () => {
    const sim = canary({ options: { stepDurationSeconds: 'manual', waitTimeoutSeconds: 600 } })
      .start()
      .run();
    sim.fireTimer('timeout');
    sim.run();
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({
      trigger: 'timeout',
      failedStep: 'weight-10',
      reason: 'no advance within 600s',
    });
  });

  it('advance cuts a timed hold short', () => {
    const sim = canary().start().run({ timers: false });
    expect(sim.state.status).toBe('running');
    expect(sim.send({ type: 'approve' }).rejected).toBeDefined();
    const r = sim.send({ type: 'advance' });
    expect(r.commands.map((c) => c.kind)).toEqual(['cancelTimer', 'collectMetrics']);
  });

  it('waits for approval after the canary is healthy and before any traffic moves', () => {
    const sim = canary({ requiresApproval: true }).start().run();
    expect(sim.state.waitingFor).toBe('approval');
    expect(sim.trace()).toEqual(['start green v2 +1=1', 'health green 1']);
    sim.send({ type: 'approve' });
    sim.run();
    expect(sim.state.status).toBe('succeeded');
  });

  it('abort at 50 % returns all traffic to the old pool', () => {
    const sim = canary({ options: { stepDurationSeconds: 'manual' } })
      .start()
      .run();
    sim.send({ type: 'advance' });
    sim.run();
    sim.send({ type: 'advance' });
    sim.run();
    expect(sim.state.progress.weights).toEqual({ blue: 50, green: 50 });
    sim.send({ type: 'abort' });
    sim.run();
    expect(sim.state.status).toBe('aborted');
    expect(sim.state.progress.weights).toEqual({ blue: 100, green: 0 });
    expect(sim.state.progress.pools.green.instances).toBe(0);
  });

  it('canaryReplicas sets the size of the canary', () => {
    const sim = canary({ replicas: 4, options: { canaryReplicas: 2 } })
      .start()
      .run();
    expect(sim.trace()[0]).toBe('start green v2 +2=2');
    expect(sim.trace()).toContain('start green v2 +2=4');
  });

  it('first deployment: nothing to compare against, so it goes straight to 100 %', () => {
    const sim = new Sim({ strategy: 'canary', fromVersion: null, activeColor: null, replicas: 2 })
      .start()
      .run();
    expect(sim.trace()).toEqual([
      'start blue v2 +1=1',
      'health blue 1',
      'start blue v2 +1=2',
      'health blue 2',
      'traffic blue=100 green=0 active=blue',
    ]);
    expect(sim.state.steps.filter((s) => s.status === 'skipped').map((s) => s.key)).toContain('weight-10');
    expect(sim.state.status).toBe('succeeded');
  });
});
