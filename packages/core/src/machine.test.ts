import { describe, expect, it } from 'vitest';
import { allowedActions, InvalidOptionsError, initialState, transition } from './machine.ts';
import { defaultAnswer, Sim, T0 } from './test-helpers.ts';
import type { Command, StrategyName } from './types.ts';

const STRATEGIES: StrategyName[] = ['blue-green', 'rolling', 'canary'];

describe('deployment machine', () => {
  it('starts pending with every step listed and no commands until start', () => {
    const s = initialState(
      { strategy: 'canary', version: 'v2', fromVersion: 'v1', activeColor: 'blue', replicas: 2 },
      T0,
    );
    expect(s).toMatchObject({
      status: 'pending',
      waitingFor: null,
      phase: 'forward',
      createdAt: '2025-01-01T12:00:00.000Z',
    });
    expect(s.steps.every((st) => st.status === 'pending' || st.status === 'skipped')).toBe(true);
    expect(s.progress).toMatchObject({
      instancesReady: 0,
      instancesDesired: 2,
      weights: { blue: 100, green: 0 },
      activeColor: 'blue',
      currentStep: null,
      totalSteps: s.steps.length,
    });
    expect(allowedActions(s)).toEqual(['abort']);
  });

  it('throws InvalidOptionsError naming the field', () => {
    expect(() =>
      initialState(
        {
          strategy: 'canary',
          version: 'v2',
          fromVersion: null,
          activeColor: null,
          replicas: 1,
          options: { steps: [10, 5] },
        },
        T0,
      ),
    ).toThrow(InvalidOptionsError);
    const err = (() => {
      try {
        initialState(
          {
            strategy: 'rolling',
            version: 'v2',
            fromVersion: null,
            activeColor: null,
            replicas: 1,
            options: { maxSurge: -1 },
          },
          T0,
        );
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as InvalidOptionsError).errors).toEqual([
      { field: 'options.maxSurge', message: "must be a non-negative integer or a percentage such as '25%'" },
    ]);
    expect(() =>
      initialState(
        { strategy: 'rolling', version: 'v2', fromVersion: null, activeColor: null, replicas: 0 },
        T0,
      ),
    ).toThrow(RangeError);
  });

  it('a second start is ignored; abort before start ends aborted with no commands', () => {
    const sim = new Sim({ strategy: 'blue-green' }).start();
    expect(sim.send({ type: 'start' }).ignored).toBe('already started');
    const pending = new Sim({ strategy: 'blue-green' });
    const r = pending.send({ type: 'abort', actor: 'ann' });
    expect(r.commands).toEqual([]);
    expect(pending.state).toMatchObject({ status: 'aborted', phase: 'done' });
    expect(pending.state.outcome).toMatchObject({ status: 'aborted', actor: 'ann', liveVersion: 'v1' });
    expect(pending.state.steps.every((s) => s.status === 'skipped')).toBe(true);
  });

  it('never mutates the state it is given, and the state survives a JSON round trip', () => {
    const sim = new Sim({ strategy: 'rolling' }).start();
    sim.responder = (c, s) => {
      const before = JSON.stringify(s.state);
      const frozen = structuredClone(s.state);
      const ev = defaultAnswer(c);
      if (!ev) return null;
      const r = transition(frozen, ev, s.now);
      expect(JSON.stringify(frozen)).toBe(before);
      expect(JSON.parse(JSON.stringify(r.state))).toEqual(r.state);
      return ev;
    };
    sim.run();
    expect(sim.state.status).toBe('succeeded');
  });

  it('is deterministic: the same events at the same times give the same states and commands', () => {
    for (const strategy of STRATEGIES) {
      const a = new Sim({ strategy }).start().run();
      const b = new Sim({ strategy }).start().run();
      expect(b.log).toEqual(a.log);
      expect(b.state).toEqual(a.state);
    }
  });

  it('command ids are unique and stable', () => {
    for (const strategy of STRATEGIES) {
      const sim = new Sim({ strategy }).start().run();
      const ids = sim.log.filter((c) => c.kind !== 'setTimer' && c.kind !== 'cancelTimer').map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      // `<phase>:<op>:<kind>:<attempt>`; a holding analysis numbers its measurements `<n>.<attempt>`.
      for (const id of ids) expect(id).toMatch(/^(fwd|rb):\d+:[a-zA-Z]+:(\d+\.)?\d+$/);
    }
  });

  it('ignores a duplicate result for a completed command', () => {
    const sim = new Sim({ strategy: 'blue-green' }).start();
    const start = sim.queue.shift()!;
    sim.send({ type: 'instancesStarted', commandId: start.id });
    const after = sim.state;
    const dup = sim.send({ type: 'instancesStarted', commandId: start.id });
    expect(dup.ignored).toBe(`duplicate result for ${start.id}`);
    expect(dup.commands).toEqual([]);
    expect(dup.state).toBe(after);
  });

  it('ignores results that do not answer the command in flight, and unknown timers', () => {
    const sim = new Sim({ strategy: 'blue-green' }).start();
    const start = sim.pendingCommand()!;
    expect(sim.send({ type: 'trafficSet', commandId: start.id }).ignored).toBe(
      'trafficSet does not answer startInstances',
    );
    expect(sim.send({ type: 'healthy', commandId: 'fwd:9:waitHealthy:1' }).ignored).toMatch(/no command/);
    expect(sim.send({ type: 'timerFired', name: 'nope' }).ignored).toBe('timer nope is not set');
    expect(sim.send({ type: 'reboot' } as never).ignored).toBe('unknown event reboot');
    expect(sim.pendingCommand()).toEqual(start);
  });

  it('resumed re-issues the command in flight with the same id (health deadline kept)', () => {
    const sim = new Sim({ strategy: 'blue-green' }).start();
    sim.responder = (c) => (c.kind === 'waitHealthy' ? null : 'default');
    sim.run();
    const wait = sim.pendingCommand()!;
    expect(wait).toMatchObject({ kind: 'waitHealthy', timeoutMs: 120_000 });
    sim.now += 45_000;
    const r = sim.send({ type: 'resumed' });
    expect(r.commands).toEqual([{ ...wait, timeoutMs: 75_000 }]);
    // The restarted orchestrator may deliver the answer twice.
    sim.send({ type: 'healthy', commandId: wait.id });
    expect(sim.send({ type: 'healthy', commandId: wait.id }).ignored).toMatch(/duplicate/);
    sim.responder = () => 'default';
    sim.run({ timers: false });
    expect(sim.state.status).toBe('succeeded');
  });

  it('resumed re-arms the timers of a hold, a wait and a pause', () => {
    const hold = new Sim({ strategy: 'canary', options: { analysis: { enabled: false } } })
      .start()
      .run({ timers: false });
    hold.send({ type: 'pause' });
    const r = hold.send({ type: 'resumed' });
    expect(r.commands.map((c) => c.kind === 'setTimer' && c.name)).toEqual(['fwd:3:hold', 'pause:1:timeout']);

    const measuring = new Sim({ strategy: 'canary' }).start().run({ timers: false });
    expect(measuring.send({ type: 'resumed' }).commands).toEqual([
      { kind: 'setTimer', id: 'timer:fwd:3:sample', name: 'fwd:3:sample', at: T0 + 10_000 },
    ]);

    const wait = new Sim({ strategy: 'blue-green', protected: true }).start().run();
    expect(wait.send({ type: 'resumed' }).commands).toEqual([
      { kind: 'setTimer', id: 'timer:fwd:3:timeout', name: 'fwd:3:timeout', at: T0 + 86_400_000 },
    ]);
  });

  it('survives a crash after any transition: lost commands come back with the same ids', () => {
    for (const strategy of STRATEGIES) {
      const baseline = new Sim({ strategy }).start().run();
      const baselineIds = new Set(baseline.log.map((c) => c.id));
      const transitions = baseline.results.length;
      for (let crashAt = 1; crashAt < transitions; crashAt++) {
        const sim = new Sim({ strategy }).start();
        const executed = new Set<string>();
        sim.responder = (c) => {
          executed.add(c.id);
          if (sim.results.length === crashAt) {
            // The worker dies: queued commands and in-memory timers are gone; the persisted state is not.
            sim.queue.length = 0;
            sim.timers.clear();
            sim.send({ type: 'resumed' });
            return null;
          }
          return 'default';
        };
        sim.run();
        expect(sim.state.status, `${strategy} crash at ${crashAt}`).toBe('succeeded');
        expect(sim.state.phase).toBe('done');
        for (const id of executed) expect(baselineIds.has(id)).toBe(true);
        expect(sim.state.steps).toEqual(baseline.state.steps);
      }
    }
  });

  it('delivering every result twice changes nothing', () => {
    for (const strategy of STRATEGIES) {
      const baseline = new Sim({ strategy }).start().run();
      const sim = new Sim({ strategy }).start();
      sim.responder = (c: Command, s) => {
        const ev = defaultAnswer(c);
        if (!ev) return null;
        s.send(ev);
        return ev;
      };
      sim.run();
      expect(sim.state).toEqual(baseline.state);
      expect(sim.results.filter((r) => r.ignored).length).toBeGreaterThan(0);
    }
  });

  it('allowedActions follows the phase and the wait', () => {
    const sim = new Sim({
      strategy: 'canary',
      requiresApproval: true,
      options: { stepDurationSeconds: 'manual' },
    }).start();
    expect(allowedActions(sim.state)).toEqual(['pause', 'abort', 'rollback']);
    sim.run();
    expect(allowedActions(sim.state)).toEqual(['approve', 'abort', 'rollback']);
    sim.send({ type: 'approve' });
    sim.run();
    expect(allowedActions(sim.state)).toEqual(['advance', 'abort', 'rollback']);
    sim.send({ type: 'abort' });
    expect(allowedActions(sim.state)).toEqual([]);
    expect(sim.send({ type: 'pause' }).rejected).toBe('cannot pause a deployment that is rolling back');
    sim.run();
    expect(allowedActions(sim.state)).toEqual([]);

    const bg = new Sim({ strategy: 'blue-green', protected: true }).start().run();
    expect(allowedActions(bg.state)).toEqual(['switch', 'advance', 'abort', 'rollback']);
    const hold = new Sim({ strategy: 'canary' }).start().run({ timers: false });
    expect(allowedActions(hold.state)).toEqual(['pause', 'advance', 'abort', 'rollback']);
    hold.send({ type: 'pause' });
    expect(allowedActions(hold.state)).toEqual(['resume', 'abort', 'rollback']);
  });

  it('a rejected action returns the state unchanged', () => {
    const sim = new Sim({ strategy: 'blue-green' }).start();
    const before = sim.state;
    const r = sim.send({ type: 'approve' });
    expect(r.rejected).toBe('cannot approve a deployment that is running');
    expect(r.state).toBe(before);
  });

  it('a hold timer that fires during a pause is remembered; resume continues from there', () => {
    const sim = new Sim({ strategy: 'rolling', options: { pauseBetweenBatchesSeconds: 30 } })
      .start()
      .run({ timers: false });
    sim.send({ type: 'pause' });
    const fired = sim.fireTimer('hold');
    expect(fired.commands).toEqual([]);
    expect(sim.state.status).toBe('paused');
    const r = sim.send({ type: 'resume' });
    expect(r.commands.map((c) => c.kind)).toEqual(['cancelTimer', 'startInstances']);
  });

  it('a paused canary step keeps measuring (a breach still rolls back) and stops at the step boundary', () => {
    const sim = new Sim({ strategy: 'canary' }).start().run({ timers: false });
    sim.send({ type: 'pause' });
    for (let i = 0; i < 6; i++) {
      sim.fireTimer('sample');
      sim.run({ timers: false });
    }
    expect(sim.state.status).toBe('paused');
    expect(sim.state.steps.find((s) => s.key === 'weight-10')?.status).toBe('succeeded');
    expect(sim.queue).toEqual([]);
    const r = sim.send({ type: 'resume' });
    expect(r.commands.map((c) => c.kind)).toEqual(['cancelTimer', 'setTraffic']);
  });

  it('a failure while paused still rolls back at once', () => {
    const sim = new Sim({ strategy: 'rolling' }).start();
    sim.responder = (c) => (c.kind === 'waitHealthy' ? null : 'default');
    sim.run();
    const wait = sim.pendingCommand()!;
    sim.send({ type: 'pause' });
    const r = sim.send({ type: 'unhealthy', commandId: wait.id });
    expect(r.commands.map((c) => c.kind)).toEqual(['cancelTimer', 'stopInstances']);
    expect(sim.state.status).toBe('running');
    expect(sim.state.pause).toBeNull();
  });

  it('steps carry timestamps from the events that moved them', () => {
    const sim = new Sim({ strategy: 'canary', options: { stepDurationSeconds: 30 } }).start().run();
    const step = sim.state.steps.find((s) => s.key === 'weight-10')!;
    expect(step.startedAt).toBe(new Date(T0).toISOString());
    expect(step.finishedAt).toBe(new Date(T0 + 30_000).toISOString());
    expect(sim.state.startedAt).toBe(new Date(T0).toISOString());
    expect(sim.state.finishedAt).toBe(new Date(T0 + 90_000).toISOString());
  });
});
