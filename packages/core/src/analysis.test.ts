// Analysis that cannot pass on silence: inconclusive checks, minimum samples, the hold and its
// limit, early abort, and the time series with the stable pool beside the canary.
import { describe, expect, it } from 'vitest';
import { MAX_POINTS_PER_STEP } from './machine.ts';
import { parseStrategyOptions } from './options.ts';
import { Sim, T0 } from './test-helpers.ts';
import type { Command, DeploymentEvent } from './types.ts';

type Figures = Omit<Extract<DeploymentEvent, { type: 'metrics' }>, 'type' | 'commandId'>;

const SILENCE: Figures = { requests: 0, errors: 0, p95Ms: null };
const GOOD: Figures = {
  requests: 200,
  errors: 1,
  p95Ms: 40,
  baseline: { requests: 1800, errors: 9, p95Ms: 35 },
};

/** Answers every measurement with `figures(cmd, sim)`; everything else the happy way. */
const measuring =
  (figures: (c: Extract<Command, { kind: 'collectMetrics' }>, sim: Sim) => Figures) =>
  (c: Command, sim: Sim): DeploymentEvent | 'default' =>
    c.kind === 'collectMetrics' ? { type: 'metrics', commandId: c.id, ...figures(c, sim) } : 'default';

/** A canary with one 10 % step held 60 s (then 100 %), analysed every 10 s. */
const oneStep = (
  analysis: Record<string, unknown> = {},
  extra: Partial<ConstructorParameters<typeof Sim>[0]> = {},
) => new Sim({ strategy: 'canary', options: { steps: [10, 100], analysis }, ...extra });

const step = (sim: Sim) => sim.state.steps.find((s) => s.key === 'weight-10')!;

/** Runs until the deployment stops moving or `until` passes (epoch ms), without deciding the waits. */
function runUntil(sim: Sim, until: number) {
  for (let guard = 0; guard < 1000; guard++) {
    sim.run({ timers: false });
    if (sim.state.phase === 'done' || sim.state.status === 'paused') return sim;
    const next = Math.min(...sim.timers.values());
    if (!Number.isFinite(next) || next > until) return sim;
    sim.fireNextTimer();
  }
  throw new Error('did not settle');
}

describe('analysis: silence is inconclusive, never a pass', () => {
  it('no traffic at all: every check is inconclusive, the step holds with the reason, then fails at the limit', () => {
    const sim = oneStep({ inconclusiveLimitSeconds: 120 }).start();
    sim.responder = measuring(() => SILENCE);
    runUntil(sim, T0 + 60_000);
    // The hold is over but nothing was measured: the step is still running, and says why.
    expect(sim.now).toBe(T0 + 60_000);
    expect(sim.state.status).toBe('running');
    expect(step(sim).status).toBe('running');
    expect(step(sim).message).toMatch(
      /^analysis inconclusive: waiting for at least 20 requests \(0 so far\)/,
    );
    const last = sim.state.analysis.slice(-3);
    expect(last.map((r) => [r.metric, r.verdict, r.value])).toEqual([
      ['minRequests', 'inconclusive', 0],
      ['errorRate', 'inconclusive', null],
      // The latency check never silently disappears.
      ['p95Ms', 'inconclusive', null],
    ]);
    expect(last.every((r) => r.passed === false && r.samples === 0 && r.minSamples === 20)).toBe(true);

    runUntil(sim, T0 + 10 * 60_000);
    expect(sim.now).toBe(T0 + 180_000);
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({
      trigger: 'failure',
      failedStep: 'weight-10',
      reason: 'analysis inconclusive at Traffic 10% after 3 min: waiting for at least 20 requests (0 so far)',
      failedMetric: { metric: 'minRequests', verdict: 'inconclusive', value: 0, threshold: 20 },
      liveVersion: 'v1',
    });
    expect(sim.trace().slice(-2)).toEqual(['traffic blue=100 green=0 active=blue', 'stop green all=0']);
    expect(sim.state.steps.find((s) => s.key === 'weight-100')?.status).toBe('skipped');
  });

  it('with the default limit an unattended silent canary never reaches 100 %', () => {
    const sim = new Sim({ strategy: 'canary' }).start();
    sim.responder = measuring(() => SILENCE);
    sim.run();
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.trace()).not.toContain('traffic blue=0 green=100 active=green');
    expect(sim.now).toBe(T0 + 60_000 + 300_000);
  });

  it('onInconclusive "wait" (the default on protected environments) pauses for a person; advance accepts', () => {
    const sim = oneStep({ inconclusiveLimitSeconds: 30 }, { protected: true }).start();
    sim.responder = measuring(() => ({ requests: 12, errors: 0, p95Ms: 30 }));
    runUntil(sim, T0 + 10 * 60_000);
    expect(sim.state).toMatchObject({ status: 'paused', waitingFor: 'advance' });
    expect(sim.now).toBe(T0 + 90_000);
    expect(step(sim).message).toBe(
      'analysis inconclusive at Traffic 10% after 90 s: waiting for at least 20 requests (12 so far); advance to accept it, or roll back',
    );
    expect(sim.queue).toEqual([]);
    expect(sim.send({ type: 'pause' }).rejected).toBeDefined();
    sim.send({ type: 'advance', actor: 'rm' });
    sim.responder = () => 'default';
    sim.run();
    expect(sim.state.status).toBe('succeeded');
    expect(step(sim)).toMatchObject({ status: 'succeeded', message: 'advanced by rm' });
  });

  it('waiting on an inconclusive step: rollback returns, and nobody coming times out', () => {
    const rolled = oneStep({ inconclusiveLimitSeconds: 0, onInconclusive: 'wait' }).start();
    rolled.responder = measuring(() => SILENCE);
    runUntil(rolled, T0 + 120_000);
    expect(rolled.state.waitingFor).toBe('advance');
    rolled.send({ type: 'rollback', actor: 'rm', reason: 'no traffic to judge it' });
    rolled.run();
    expect(rolled.state.outcome).toMatchObject({ status: 'rolled_back', trigger: 'rollback' });

    const nobody = oneStep({ inconclusiveLimitSeconds: 0, onInconclusive: 'wait' }, {}).start();
    nobody.responder = measuring(() => SILENCE);
    runUntil(nobody, T0 + 120_000);
    nobody.fireTimer('timeout');
    nobody.run();
    expect(nobody.state.outcome).toMatchObject({ status: 'rolled_back', trigger: 'timeout' });
  });

  it('traffic that arrives late passes within the limit', () => {
    const sim = oneStep().start();
    // 2 requests a second on the canary from 50 s on: 20 requests at 60 s … enough at 70 s.
    sim.responder = measuring((c) => {
      const n = Math.max(0, Math.floor((c.until - (T0 + 50_000)) / 500));
      return { requests: n, errors: 0, p95Ms: n ? 30 : null };
    });
    sim.run();
    expect(sim.state.status).toBe('succeeded');
    const weight10 = sim.state.analysis.filter((a) => a.step === 'weight-10' && a.metric === 'minRequests');
    expect(weight10.map((a) => [a.until - T0, a.verdict])).toEqual([
      [10_000, 'inconclusive'],
      [20_000, 'inconclusive'],
      [30_000, 'inconclusive'],
      [40_000, 'inconclusive'],
      [50_000, 'inconclusive'],
      [60_000, 'passed'],
    ]);
  });

  it('enough good traffic passes at the end of the hold, with the stable pool measured beside it', () => {
    const sim = oneStep().start();
    sim.responder = measuring(() => GOOD);
    sim.run();
    expect(sim.state.status).toBe('succeeded');
    const at60 = sim.state.analysis.filter((a) => a.until === T0 + 60_000);
    expect(at60.map((a) => [a.metric, a.verdict, a.value, a.baseline])).toEqual([
      ['minRequests', 'passed', 200, 1800],
      ['errorRate', 'passed', 0.005, 0.005],
      ['p95Ms', 'passed', 40, 35],
    ]);
    // Passing early does not cut the hold short: the step ends when its time is up.
    expect(step(sim).finishedAt).toBe(new Date(T0 + 60_000).toISOString());
    expect(step(sim).message).toBe(
      'analysis passed: error rate 0.5 % ≤ max 5 % (200 requests), p95 latency 40 ms ≤ max 1000 ms (200 requests)',
    );
  });
});

describe('analysis: early abort', () => {
  it('a breach on enough samples fails the step at once, long before the hold ends', () => {
    const sim = oneStep().start();
    sim.responder = measuring(() => ({ requests: 30, errors: 13, p95Ms: 20 }));
    sim.run();
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.trace().filter((t) => t.startsWith('metrics'))).toEqual(['metrics green 10000ms']);
    expect(sim.state.outcome).toMatchObject({
      reason:
        'analysis failed at Traffic 10% after 10 s of its 60 s hold: error rate 43.33 % > max 5 % (30 requests)',
      failedMetric: { metric: 'errorRate', verdict: 'failed', samples: 30, minSamples: 20 },
    });
    expect(step(sim)).toMatchObject({ status: 'failed', finishedAt: new Date(T0 + 10_000).toISOString() });
  });

  it('latency breaches abort early too', () => {
    const sim = oneStep().start();
    sim.responder = measuring(() => ({ requests: 50, errors: 0, p95Ms: 2500 }));
    sim.run();
    expect(sim.state.outcome?.failedMetric).toMatchObject({
      metric: 'p95Ms',
      value: 2500,
      verdict: 'failed',
    });
    expect(sim.state.outcome?.reason).toContain('p95 latency 2500 ms > max 1000 ms (50 requests)');
  });

  it('errors on too few samples are not yet a breach: inconclusive, the step keeps measuring', () => {
    const sim = oneStep().start();
    let calls = 0;
    sim.responder = measuring(() => {
      calls += 1;
      return calls === 1 ? { requests: 3, errors: 2, p95Ms: 20 } : { requests: 400, errors: 2, p95Ms: 20 };
    });
    sim.run();
    expect(sim.state.analysis.find((a) => a.metric === 'errorRate')).toMatchObject({
      verdict: 'inconclusive',
      value: 2 / 3,
      samples: 3,
    });
    // What the step said meanwhile: the figures so far, marked as not judged.
    expect(sim.results.map((r) => r.state.steps.find((s) => s.key === 'weight-10')?.message)).toContain(
      `holding until 12:01:00 UTC; analysis so far: 3 requests, error rate 66.67 % > max 5 % (3 requests, fewer than 20: not judged yet), p95 latency 20 ms ≤ max 1000 ms (3 requests, fewer than 20: not judged yet)`,
    );
    expect(sim.state.status).toBe('succeeded');
  });

  it('an unhealthy canary is judged at the end of the hold, not on one probe', () => {
    const sim = oneStep().start();
    sim.responder = measuring((c) => ({ ...GOOD, healthy: c.until < T0 + 60_000 ? 0 : 1 }));
    sim.run();
    expect(sim.state.status).toBe('succeeded');
    const sick = oneStep().start();
    sick.responder = measuring(() => ({ ...GOOD, healthy: 0 }));
    sick.run();
    expect(sick.now).toBe(T0 + 60_000);
    expect(sick.state.outcome?.failedMetric).toMatchObject({ metric: 'health', value: 0, threshold: 1 });
  });
});

describe('analysis: advance, restarts and size', () => {
  it('advance cuts the hold short but still measures: good passes, a breach fails, inconclusive goes on', () => {
    const good = oneStep().start();
    good.responder = measuring(() => GOOD);
    good.run({ timers: false });
    good.now = T0 + 5_000;
    const r = good.send({ type: 'advance', actor: 'rm' });
    expect(r.commands.map((c) => c.kind)).toEqual(['cancelTimer', 'collectMetrics']);
    good.run({ timers: false });
    expect(step(good).status).toBe('succeeded');

    const bad = oneStep().start();
    bad.responder = measuring(() => ({ requests: 40, errors: 20, p95Ms: 20 }));
    bad.run({ timers: false });
    bad.send({ type: 'advance', actor: 'rm' });
    bad.run();
    expect(bad.state.status).toBe('rolled_back');

    const quiet = oneStep().start();
    quiet.responder = measuring(() => SILENCE);
    quiet.run({ timers: false });
    quiet.send({ type: 'advance', actor: 'rm' });
    quiet.run({ timers: false });
    expect(step(quiet)).toMatchObject({
      status: 'succeeded',
      message: 'advanced by rm with the analysis inconclusive: waiting for at least 20 requests (0 so far)',
    });
  });

  it('advance while a measurement is in flight decides on that measurement', () => {
    const sim = oneStep().start();
    sim.responder = measuring(() => GOOD);
    sim.run({ timers: false });
    sim.responder = () => null;
    sim.fireTimer('sample');
    sim.run({ timers: false });
    const inFlight = sim.pendingCommand()!;
    const r = sim.send({ type: 'advance', actor: 'rm' });
    expect(r.commands).toEqual([]);
    sim.send({ type: 'metrics', commandId: inFlight.id, ...GOOD });
    expect(step(sim).status).toBe('succeeded');
  });

  it('a restart during an inconclusive hold re-arms the next measurement', () => {
    const sim = oneStep().start();
    sim.responder = measuring(() => SILENCE);
    runUntil(sim, T0 + 70_000);
    const r = sim.send({ type: 'resumed' });
    expect(r.commands).toEqual([
      { kind: 'setTimer', id: 'timer:fwd:3:sample', name: 'fwd:3:sample', at: T0 + 80_000 },
    ]);
  });

  it('keeps at most MAX_POINTS_PER_STEP measurements per step, the first and the latest among them', () => {
    const sim = new Sim({
      strategy: 'canary',
      options: { steps: [10, 100], stepDurationSeconds: 3600, analysis: { intervalSeconds: 1 } },
    }).start();
    sim.responder = measuring(() => GOOD);
    sim.run();
    expect(sim.state.status).toBe('succeeded');
    const times = [...new Set(sim.state.analysis.map((a) => a.until))];
    // An hour at 1 s would be 3600 measurements: the interval stretches to 60 per hold.
    expect(sim.log.filter((c) => c.kind === 'collectMetrics')).toHaveLength(60);
    expect(times).toHaveLength(MAX_POINTS_PER_STEP);
    expect(times[0]).toBe(T0 + 60_000);
    expect(times.at(-1)).toBe(T0 + 3_600_000);
  });
});

describe('analysis: a minimum sample size per check', () => {
  it('an error-rate minimum below minRequests judges (and aborts) on fewer requests; latency still waits', () => {
    const sim = oneStep({ minSamples: { errorRate: 5 } }).start();
    sim.responder = measuring(() => ({ requests: 10, errors: 4, p95Ms: 20 }));
    sim.run();
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({
      reason:
        'analysis failed at Traffic 10% after 10 s of its 60 s hold: error rate 40 % > max 5 % (10 requests)',
      failedMetric: { metric: 'errorRate', verdict: 'failed', samples: 10, minSamples: 5 },
    });
    const first = sim.state.analysis.filter((a) => a.until === T0 + 10_000);
    expect(first.map((a) => [a.metric, a.verdict, a.minSamples])).toEqual([
      // The step needs the largest minimum of its checks: p95 keeps the default 20.
      ['minRequests', 'inconclusive', 20],
      ['errorRate', 'failed', 5],
      ['p95Ms', 'inconclusive', 20],
    ]);
  });

  it('a latency minimum above minRequests keeps the step holding after the error rate passed', () => {
    const sim = oneStep({ minSamples: { p95Ms: 100 }, inconclusiveLimitSeconds: 60 }).start();
    sim.responder = measuring(() => ({ requests: 40, errors: 0, p95Ms: 20 }));
    runUntil(sim, T0 + 60_000);
    expect(step(sim).status).toBe('running');
    const last = sim.state.analysis.slice(-3);
    expect(last.map((a) => [a.metric, a.verdict, a.minSamples])).toEqual([
      ['minRequests', 'inconclusive', 100],
      ['errorRate', 'passed', 20],
      ['p95Ms', 'inconclusive', 100],
    ]);
    expect(step(sim).message).toMatch(
      /^analysis inconclusive: waiting for at least 100 requests \(40 so far\)/,
    );
    sim.run();
    expect(sim.state.outcome).toMatchObject({ status: 'rolled_back', trigger: 'failure' });
  });

  it('without a latency gate only the error-rate minimum counts', () => {
    const sim = oneStep({ maxP95Ms: null, minSamples: { errorRate: 5, p95Ms: 500 } }).start();
    sim.responder = measuring(() => ({ requests: 6, errors: 0, p95Ms: null }));
    sim.run();
    expect(sim.state.status).toBe('succeeded');
  });

  it('options: minRequests is the default of every check; each is validated, naming the field', () => {
    const plain = parseStrategyOptions('canary', { analysis: { minRequests: 7 } });
    expect(plain.ok && plain.options.analysis.minSamples).toEqual({ errorRate: 7, p95Ms: 7 });
    const own = parseStrategyOptions('canary', { analysis: { minSamples: { p95Ms: 50 } } });
    expect(own.ok && own.options.analysis.minSamples).toEqual({ errorRate: 20, p95Ms: 50 });
    const bad = parseStrategyOptions('canary', {
      analysis: { minSamples: { p95Ms: 0, health: 3 } },
    });
    expect(!bad.ok && bad.errors).toEqual([
      { field: 'options.analysis.minSamples.health', message: 'unknown option' },
      { field: 'options.analysis.minSamples.p95Ms', message: 'must be an integer from 1 to 1000000000' },
    ]);
    const notObject = parseStrategyOptions('canary', { analysis: { minSamples: 5 } });
    expect(!notObject.ok && notObject.errors).toEqual([
      { field: 'options.analysis.minSamples', message: 'must be an object' },
    ]);
  });
});

describe('progress.holdUntil: the typed end of a timed hold', () => {
  it('an analysis hold, its inconclusive extension, then null while waiting for a person', () => {
    const sim = oneStep({ inconclusiveLimitSeconds: 30, onInconclusive: 'wait' }).start();
    sim.responder = measuring(() => SILENCE);
    expect(sim.state.progress.holdUntil).toBeNull();
    runUntil(sim, T0 + 30_000);
    expect(step(sim).status).toBe('running');
    expect(sim.state.progress.holdUntil).toBe(T0 + 60_000);
    runUntil(sim, T0 + 60_000);
    // The hold is over, the step inconclusive: it holds at most until the limit.
    expect(sim.now).toBe(T0 + 60_000);
    expect(sim.state.progress.holdUntil).toBe(T0 + 90_000);
    runUntil(sim, T0 + 10 * 60_000);
    expect(sim.state).toMatchObject({ status: 'paused', waitingFor: 'advance' });
    expect(sim.state.progress.holdUntil).toBeNull();
  });

  it('a plain hold (canary without analysis) and a finished deployment', () => {
    const sim = new Sim({
      strategy: 'canary',
      options: { steps: [10, 100], stepDurationSeconds: 45, analysis: { enabled: false } },
    }).start();
    sim.run({ timers: false });
    expect(step(sim).status).toBe('running');
    expect(sim.state.progress.holdUntil).toBe(T0 + 45_000);
    sim.run();
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.progress.holdUntil).toBeNull();
  });
});

describe('analysis options', () => {
  it('minimum sample size, interval, limit and what to do after it, with defaults per protection', () => {
    const plain = parseStrategyOptions('canary', {});
    expect(plain.ok && plain.options.analysis).toMatchObject({
      minRequests: 20,
      intervalSeconds: 10,
      inconclusiveLimitSeconds: 300,
      onInconclusive: 'fail',
    });
    const prot = parseStrategyOptions('canary', {}, { protected: true });
    expect(prot.ok && prot.options.analysis.onInconclusive).toBe('wait');
    const chosen = parseStrategyOptions(
      'canary',
      { analysis: { onInconclusive: 'fail' } },
      { protected: true },
    );
    expect(chosen.ok && chosen.options.analysis.onInconclusive).toBe('fail');
  });

  it("the environment's onInconclusive setting decides unless the options do; null follows protection", () => {
    const onInc = (raw: unknown, ctx: Parameters<typeof parseStrategyOptions>[2]) => {
      const r = parseStrategyOptions('canary', raw, ctx);
      return r.ok ? r.options.analysis.onInconclusive : null;
    };
    expect(onInc({}, { protected: false, onInconclusive: 'wait' })).toBe('wait');
    expect(onInc({}, { protected: true, onInconclusive: 'fail' })).toBe('fail');
    expect(onInc({}, { protected: true, onInconclusive: null })).toBe('wait');
    expect(onInc({}, { protected: false, onInconclusive: null })).toBe('fail');
    expect(onInc({ analysis: { onInconclusive: 'fail' } }, { onInconclusive: 'wait' })).toBe('fail');
    // Through the machine: an unprotected environment set to wait pauses for a person.
    const sim = oneStep({ inconclusiveLimitSeconds: 0 }, { onInconclusive: 'wait' }).start();
    sim.responder = measuring(() => SILENCE);
    runUntil(sim, T0 + 10 * 60_000);
    expect(sim.state).toMatchObject({ status: 'paused', waitingFor: 'advance' });
  });

  it('rejects a minimum of 0 (silence would pass) and unknown choices, naming the field', () => {
    const zero = parseStrategyOptions('canary', { analysis: { minRequests: 0 } });
    expect(!zero.ok && zero.errors).toEqual([
      { field: 'options.analysis.minRequests', message: 'must be an integer from 1 to 1000000000' },
    ]);
    const choice = parseStrategyOptions('canary', { analysis: { onInconclusive: 'pass' } });
    expect(!choice.ok && choice.errors).toEqual([
      { field: 'options.analysis.onInconclusive', message: 'must be one of fail, wait' },
    ]);
    const interval = parseStrategyOptions('canary', { analysis: { intervalSeconds: 0 } });
    expect(!interval.ok && interval.errors[0]?.field).toBe('options.analysis.intervalSeconds');
  });
});

describe('analysis: a router that measures no latency (HAProxy provider)', () => {
  const NO_LATENCY: Figures = {
    requests: 200,
    errors: 0,
    p95Ms: null,
    p95Unavailable: 'the haproxy traffic provider measures no latency percentiles',
    baseline: { requests: 1800, errors: 0, p95Ms: null },
  };

  it('a latency threshold never passes: the step fails at the end of its hold, saying why', () => {
    const sim = oneStep({ inconclusiveLimitSeconds: 600 }).start();
    sim.responder = measuring(() => NO_LATENCY);
    runUntil(sim, T0 + 10 * 60_000);
    // Not the 10 min limit: waiting would never bring the figure.
    expect(sim.now).toBe(T0 + 60_000);
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({
      trigger: 'failure',
      failedStep: 'weight-10',
      reason:
        'analysis inconclusive at Traffic 10%: p95 latency cannot be measured: the haproxy traffic provider measures no latency percentiles (set analysis.maxP95Ms to null to judge on the error rate alone)',
      failedMetric: { metric: 'p95Ms', verdict: 'inconclusive', value: null },
    });
    const p95 = sim.state.analysis.filter((r) => r.metric === 'p95Ms');
    expect(p95.length).toBeGreaterThan(0);
    expect(p95.every((r) => r.verdict === 'inconclusive' && r.unavailable)).toBe(true);
  });

  it('on a protected environment it waits for a person instead', () => {
    const sim = oneStep({}, { protected: true }).start();
    sim.responder = measuring(() => NO_LATENCY);
    runUntil(sim, T0 + 10 * 60_000);
    expect(sim.state).toMatchObject({ status: 'paused', waitingFor: 'advance' });
    expect(step(sim).message).toMatch(
      /^analysis inconclusive at Traffic 10%: p95 latency cannot be measured/,
    );
  });

  it('with maxP95Ms null the step is judged on its error rate: passes when good, fails when bad', () => {
    const good = oneStep({ maxP95Ms: null }).start();
    good.responder = measuring(() => NO_LATENCY);
    good.run();
    expect(good.state.status).toBe('succeeded');

    const bad = oneStep({ maxP95Ms: null }).start();
    bad.responder = measuring(() => ({ ...NO_LATENCY, errors: 40 }));
    bad.run();
    expect(bad.state.status).toBe('rolled_back');
    expect(bad.state.outcome?.failedMetric).toMatchObject({ metric: 'errorRate', verdict: 'failed' });
  });
});

describe('analysis: a source that gives no figures (Prometheus unreachable)', () => {
  const DOWN: Figures = {
    requests: 0,
    errors: 0,
    p95Ms: null,
    unavailable: 'Prometheus at http://prom:9090: connect ECONNREFUSED',
  };

  it('every traffic check is inconclusive (never passed); it keeps measuring to its limit, then rolls back saying why', () => {
    const sim = oneStep({ inconclusiveLimitSeconds: 120 }).start();
    sim.responder = measuring(() => DOWN);
    runUntil(sim, T0 + 60_000);
    expect(sim.state.status).toBe('running');
    expect(step(sim).message).toMatch(
      /^analysis inconclusive: waiting for the request count cannot be measured: Prometheus at http:\/\/prom:9090: connect ECONNREFUSED; holding until/,
    );
    const traffic = sim.state.analysis.filter((r) => r.metric !== 'health');
    expect(traffic.length).toBeGreaterThan(0);
    expect(traffic.every((r) => r.verdict === 'inconclusive' && r.value === null && r.unavailable)).toBe(
      true,
    );
    runUntil(sim, T0 + 10 * 60_000);
    // Not at the end of the hold (the source may come back), at the limit.
    expect(sim.now).toBe(T0 + 180_000);
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.state.outcome).toMatchObject({
      trigger: 'failure',
      reason:
        'analysis inconclusive at Traffic 10% after 3 min: waiting for the request count cannot be measured: Prometheus at http://prom:9090: connect ECONNREFUSED',
      failedMetric: { metric: 'minRequests', verdict: 'inconclusive', value: null },
    });
  });

  it('on a protected environment it waits for a person; figures that come back in time pass the step', () => {
    const waits = oneStep({ inconclusiveLimitSeconds: 60 }, { protected: true }).start();
    waits.responder = measuring(() => DOWN);
    runUntil(waits, T0 + 10 * 60_000);
    expect(waits.state).toMatchObject({ status: 'paused', waitingFor: 'advance' });

    const back = oneStep({ inconclusiveLimitSeconds: 120 }).start();
    back.responder = measuring((_c, sim) => (sim.now < T0 + 70_000 ? DOWN : GOOD));
    back.run();
    expect(back.state.status).toBe('succeeded');
  });
});
