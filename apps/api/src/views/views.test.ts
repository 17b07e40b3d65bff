// The progress view carries the engine's typed hold deadline (no client parses step messages).
import { type Command, type DeploymentEvent, initialState, transition } from '@qubot/core';
import { describe, expect, it } from 'vitest';
import { deploymentFixture, environmentFixture } from './view-fixtures.ts';
import { actionsView, progressView } from './views.ts';

const answer = (c: Command): DeploymentEvent | null => {
  switch (c.kind) {
    case 'startInstances':
      return { type: 'instancesStarted', commandId: c.id };
    case 'waitHealthy':
      return { type: 'healthy', commandId: c.id, count: c.count };
    case 'setTraffic':
      return { type: 'trafficSet', commandId: c.id };
    default:
      return null;
  }
};

describe('progressView', () => {
  it('reports holdUntil as the time the running step holds until, null before and after', () => {
    const now = Date.UTC(2026, 10, 30, 14, 37, 4);
    let state = initialState(
      {
        strategy: 'canary',
        version: '1.1.0',
        fromVersion: '1.0.0',
        activeColor: 'blue',
        replicas: 2,
        options: { steps: [10, 100], stepDurationSeconds: 45, analysis: { enabled: false } },
      },
      now,
    );
    expect(progressView(state.progress).holdUntil).toBeNull();
    const queue: DeploymentEvent[] = [{ type: 'start' }];
    for (let event = queue.shift(); event; event = queue.shift()) {
      const r = transition(state, event, now);
      state = r.state;
      for (const c of r.commands) {
        const a = answer(c);
        if (a) queue.push(a);
      }
    }
    expect(state.steps.find((s) => s.status === 'running')?.key).toBe('weight-10');
    expect(progressView(state.progress).holdUntil).toBe('2026-11-30T14:37:49.000Z');
    // Rows stored before the field existed read as no hold.
    const { holdUntil: _, ...older } = state.progress;
    expect(progressView(older).holdUntil).toBeNull();
  });
});

describe('actions', () => {
  it("are core's allowedActions of the stored state, in the deployment and the environment's summary", () => {
    const waiting = deploymentFixture({
      input: { strategy: 'blue-green', version: '1.1.0', options: { autoSwitch: false } },
      drive: (sim) => sim.start().run({ timers: false }),
    });
    expect([waiting.status, waiting.waitingFor]).toEqual(['paused', 'switch']);
    expect(waiting.actions).toEqual(['switch', 'advance', 'abort', 'rollback']);
    const env = environmentFixture({
      active: {
        input: { strategy: 'blue-green', version: '1.1.0', options: { autoSwitch: false } },
        drive: (sim) => sim.start().run({ timers: false }),
      },
    });
    expect(env.activeDeployment?.actions).toEqual(waiting.actions);
    expect(deploymentFixture({ input: { strategy: 'rolling', version: '1.1.0' } }).actions).toEqual([
      'abort',
    ]);
    const done = deploymentFixture({
      input: { strategy: 'rolling', version: '1.1.0' },
      drive: (s) => s.start().run(),
    });
    expect([done.status, done.actions]).toEqual(['succeeded', []]);
  });
  it('are empty for a state the engine has not written (a row created before it)', () => {
    expect(actionsView({})).toEqual([]);
    expect(actionsView(null)).toEqual([]);
  });
});
