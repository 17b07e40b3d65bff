import { describe, expect, it } from 'vitest';
import { Sim } from './test-helpers.ts';

/** A drain of `count` of the live pool's `replicas` instances off host `h1` (kind drain). */
const drain = (replicas: number, count: number) =>
  new Sim({
    strategy: 'rolling',
    version: 'v1',
    fromVersion: 'v1',
    replicas,
    scale: { from: replicas, drain: { host: 'h1', count } },
  });

describe('drain (kind drain: replacements elsewhere serve before the drained instances stop)', () => {
  it('starts the replacements, waits for all of them to serve, then stops as many (the drained ones)', () => {
    const sim = drain(3, 2);
    sim.send({ type: 'start' });
    sim.run();
    const kinds = sim.log.filter((c) => c.kind !== 'setTimer' && c.kind !== 'cancelTimer');
    expect(kinds).toEqual([
      expect.objectContaining({ kind: 'startInstances', pool: 'blue', version: 'v1', count: 2, total: 5 }),
      expect.objectContaining({ kind: 'waitHealthy', pool: 'blue', version: 'v1', count: 5 }),
      expect.objectContaining({ kind: 'stopInstances', pool: 'blue', count: 2, total: 3 }),
    ]);
    expect(sim.state.status).toBe('succeeded');
    expect(sim.state.outcome?.reason).toBe('3 × v1 serve on blue, none on h1');
    expect(sim.state.progress.weights).toEqual({ blue: 100, green: 0 });
    expect(sim.state.steps.map((s) => [s.key, s.status])).toEqual([
      ['replace', 'succeeded'],
      ['drain', 'succeeded'],
    ]);
  });

  it('replacements that never get healthy: they stop (the stop keeps the count it had), nothing on the host is touched', () => {
    const sim = drain(3, 1);
    sim.responder = (cmd) =>
      cmd.kind === 'waitHealthy' && sim.state.phase === 'forward'
        ? { type: 'healthTimeout', commandId: cmd.id, count: 3 }
        : 'default';
    sim.send({ type: 'start' });
    sim.run();
    const stops = sim.log.filter((c) => c.kind === 'stopInstances');
    expect(stops).toEqual([expect.objectContaining({ pool: 'blue', count: 1, total: 3 })]);
    expect(sim.log.some((c) => c.kind === 'startInstances' && sim.log.indexOf(c) > 0)).toBe(false);
    expect(sim.state.status).toBe('failed');
    expect(sim.state.outcome).toMatchObject({ liveVersion: 'v1', liveColor: 'blue' });
  });
});
