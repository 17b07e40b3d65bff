import { describe, expect, it } from 'vitest';
import { Sim } from './test-helpers.ts';

const hooks = {
  pre: { job: 'migrate', timeoutMs: 60_000 },
  post: { job: 'smoke', timeoutMs: 30_000 },
};

describe('deployment hooks', () => {
  it('runs the pre-hook before anything starts and the post-hook after traffic moved, before success', () => {
    const sim = new Sim({ strategy: 'blue-green', hooks }).start();
    sim.run({ timers: false });
    expect(sim.trace()).toEqual([
      'hook pre migrate',
      'start green v2 +3=3',
      'health green 3',
      'preview green',
      'traffic blue=0 green=100 active=green',
      'hook post smoke',
    ]);
    expect(sim.state.status).toBe('succeeded');
    expect(sim.stepStatuses()).toEqual([
      'pre-hook:succeeded',
      'start:succeeded',
      'health:succeeded',
      'preview:succeeded',
      'smoke:skipped',
      'approval:skipped',
      'switch:succeeded',
      'post-hook:succeeded',
      'scale-down:running',
    ]);
    expect(sim.state.steps[0]?.message).toBe('exited 0');
  });

  it('a failing pre-hook fails the deployment before any instance starts or traffic moves', () => {
    const sim = new Sim({ strategy: 'canary', hooks });
    sim.responder = (cmd) =>
      cmd.kind === 'runHook'
        ? { type: 'hookResult', commandId: cmd.id, passed: false, message: 'exited 3' }
        : 'default';
    sim.start().run();
    expect(sim.trace()).toEqual(['hook pre migrate']);
    expect(sim.state.status).toBe('failed');
    expect(sim.state.outcome).toMatchObject({
      failedStep: 'pre-hook',
      reason: 'pre-deployment hook migrate failed: exited 3',
      liveVersion: 'v1',
    });
    expect(sim.stepStatuses()[0]).toBe('pre-hook:failed');
  });

  it('a failing post-hook rolls back: traffic returns to the old colour and the new one stops', () => {
    const sim = new Sim({ strategy: 'blue-green', hooks });
    sim.responder = (cmd) =>
      cmd.kind === 'runHook' && cmd.phase === 'post'
        ? { type: 'hookResult', commandId: cmd.id, passed: false, message: 'exited 1' }
        : 'default';
    sim.start().run();
    expect(sim.state.status).toBe('rolled_back');
    expect(sim.trace().slice(-3)).toEqual([
      'hook post smoke',
      'traffic blue=100 green=0 active=blue',
      'stop green all=0',
    ]);
    expect(sim.state.outcome).toMatchObject({ failedStep: 'post-hook', liveVersion: 'v1' });
  });

  it('a rolling deployment runs the post-hook after its last batch, then succeeds', () => {
    const sim = new Sim({ strategy: 'rolling', hooks: { post: hooks.post } }).start().run();
    expect(sim.state.status).toBe('succeeded');
    const trace = sim.trace();
    expect(trace.at(-1)).toBe('hook post smoke');
    expect(sim.stepStatuses().at(-1)).toBe('post-hook:succeeded');
  });

  it('a hook that cannot be started is retried as a new command, then fails the deployment', () => {
    const sim = new Sim({ strategy: 'blue-green', hooks: { pre: hooks.pre } });
    sim.responder = (cmd) =>
      cmd.kind === 'runHook'
        ? { type: 'commandFailed', commandId: cmd.id, message: 'spawn ENOENT' }
        : 'default';
    sim.start().run();
    const ids = sim.log.filter((c) => c.kind === 'runHook').map((c) => c.id);
    expect(ids).toEqual(['fwd:0:hook:1', 'fwd:0:hook:2']);
    expect(sim.state.status).toBe('failed');
  });

  it('after a restart the hook in flight is asked for again with the same id (never assumed passed)', () => {
    const sim = new Sim({ strategy: 'blue-green', hooks: { pre: hooks.pre } });
    sim.responder = () => null;
    sim.start().run();
    expect(sim.state.inFlight?.command?.kind).toBe('runHook');
    const r = sim.send({ type: 'resumed' });
    expect(r.commands.map((c) => `${c.kind} ${c.id}`)).toEqual(['runHook fwd:0:hook:1']);
    expect(sim.state.steps[0]?.status).toBe('running');
    expect(sim.state.progress.weights).toEqual({ blue: 100, green: 0 });
  });

  it('without hooks the program is unchanged', () => {
    const a = new Sim({ strategy: 'canary' }).state;
    const b = new Sim({ strategy: 'canary', hooks: {} }).state;
    expect(b.steps).toEqual(a.steps);
    expect(b.program).toEqual(a.program);
  });
});
