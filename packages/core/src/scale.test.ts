import { describe, expect, it } from 'vitest';
import { Sim } from './test-helpers.ts';

const scale = (from: number, to: number) =>
  new Sim({ strategy: 'rolling', version: 'v1', fromVersion: 'v1', replicas: to, scale: { from } });

describe('scale (kind scale: the live release, its pool, a new count)', () => {
  it('up: starts the missing instances in the live pool, waits for all of them, never moves weight', () => {
    const sim = scale(2, 4);
    sim.send({ type: 'start' });
    sim.run();
    const kinds = sim.log.filter((c) => c.kind !== 'setTimer' && c.kind !== 'cancelTimer');
    expect(kinds).toEqual([
      expect.objectContaining({ kind: 'startInstances', pool: 'blue', version: 'v1', count: 2, total: 4 }),
      expect.objectContaining({ kind: 'waitHealthy', pool: 'blue', version: 'v1', count: 4 }),
    ]);
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.outcome).toMatchObject({ liveVersion: 'v1', liveColor: 'blue' });
    expect(sim.state.progress).toMatchObject({
      instancesReady: 4,
      instancesDesired: 4,
      weights: { blue: 100, green: 0 },
    });
    expect(sim.state.steps.map((s) => [s.key, s.status])).toEqual([
      ['scale-up', 'succeeded'],
      ['health', 'succeeded'],
    ]);
  });

  it('down: drains and stops the surplus only', () => {
    const sim = scale(4, 1);
    sim.send({ type: 'start' });
    sim.run();
    expect(sim.log.map((c) => c.kind)).toEqual(['stopInstances']);
    expect(sim.log[0]).toMatchObject({ pool: 'blue', count: 3, total: 1 });
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.progress.pools.blue).toMatchObject({ instances: 1, ready: 1, version: 'v1' });
  });

  it('up whose new instances never get healthy: the extra instances stop, back to the count it had', () => {
    const sim = scale(2, 3);
    sim.responder = (cmd) =>
      cmd.kind === 'waitHealthy' && sim.state.phase === 'forward'
        ? { type: 'healthTimeout', commandId: cmd.id, count: 2 }
        : 'default';
    sim.send({ type: 'start' });
    sim.run();
    const stop = sim.log.find((c) => c.kind === 'stopInstances');
    expect(stop).toMatchObject({ pool: 'blue', total: 2 });
    expect(sim.log.some((c) => c.kind === 'stopInstances' && c.total === 0)).toBe(false);
    expect(sim.state.status).toBe('failed');
    expect(sim.state.outcome).toMatchObject({ liveVersion: 'v1', liveColor: 'blue' });
    expect(sim.state.steps.at(-1)).toMatchObject({ key: 'rollback', name: 'Return to 2 instances' });
  });

  it('down aborted after its stop was issued: the stopped instances come back', () => {
    const sim = scale(3, 1);
    sim.responder = (cmd) =>
      cmd.kind === 'stopInstances' && sim.state.phase === 'forward' ? null : 'default';
    sim.send({ type: 'start' });
    sim.run();
    sim.send({ type: 'abort', actor: 'alice' });
    sim.run();
    const after = sim.log.slice(1);
    expect(after[0]).toMatchObject({ kind: 'startInstances', pool: 'blue', version: 'v1', total: 3 });
    expect(after[1]).toMatchObject({ kind: 'waitHealthy', count: 3 });
    expect(sim.state.status).toBe('aborted');
  });

  it('refuses to scale what is not live', () => {
    expect(
      () =>
        new Sim({
          strategy: 'rolling',
          version: 'v1',
          fromVersion: null,
          activeColor: null,
          scale: { from: 0 },
        }),
    ).toThrow(/live release/);
  });
});
