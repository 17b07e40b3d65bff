import { describe, expect, it } from 'vitest';
import { canPromote, type EnvironmentSnapshot, planRollback, previousEnvironment } from './decisions.ts';
import { Sim } from './test-helpers.ts';

const env = (over: Partial<EnvironmentSnapshot> = {}): EnvironmentSnapshot => ({
  activeColor: 'green',
  liveVersion: 'v2',
  replicas: 2,
  pools: {
    blue: { version: null, instances: 0, healthy: 0 },
    green: { version: 'v2', instances: 2, healthy: 2 },
  },
  ...over,
});

const history = [
  { id: 'd3', version: 'v2', status: 'succeeded' as const, finishedAt: '2025-01-03T00:00:00Z' },
  { id: 'd2', version: 'v1b', status: 'failed' as const, finishedAt: '2025-01-02T12:00:00Z' },
  { id: 'd1', version: 'v1', status: 'succeeded' as const, finishedAt: '2025-01-02T00:00:00Z' },
  { id: 'd0', version: 'v0', status: 'succeeded' as const, finishedAt: '2025-01-01T00:00:00Z' },
];

describe('planRollback', () => {
  it('switches back to the warm colour inside the window', () => {
    const plan = planRollback(
      env({
        pools: {
          blue: { version: 'v1', instances: 2, healthy: 2 },
          green: { version: 'v2', instances: 2, healthy: 2 },
        },
      }),
      [...history].reverse(),
    );
    expect(plan).toEqual({
      ok: true,
      mode: 'switch-back',
      version: 'v1',
      fromDeploymentId: 'd1',
      strategy: 'blue-green',
      options: { autoSwitch: true, smokeCheck: false },
      idlePool: { version: 'v1', instances: 2 },
    });
  });

  it('redeploys the previous successful release once the old colour is gone', () => {
    const plan = planRollback(env(), history);
    expect(plan).toMatchObject({ ok: true, mode: 'redeploy', version: 'v1', fromDeploymentId: 'd1' });
  });

  it('does not treat a partly warm or unhealthy colour as a fast path', () => {
    const plan = planRollback(
      env({
        pools: {
          blue: { version: 'v1', instances: 2, healthy: 1 },
          green: { version: 'v2', instances: 2, healthy: 2 },
        },
      }),
      history,
    );
    expect(plan).toMatchObject({ ok: true, mode: 'redeploy' });
  });

  it('rolls back to a named release', () => {
    expect(planRollback(env(), history, 'v0')).toMatchObject({
      ok: true,
      version: 'v0',
      fromDeploymentId: 'd0',
    });
    expect(planRollback(env(), history, 'v2')).toMatchObject({ ok: false, code: 'already_live' });
  });

  it('refuses when there is nothing earlier', () => {
    expect(planRollback(env(), [history[0]!])).toMatchObject({ ok: false, code: 'nothing_to_roll_back_to' });
  });

  it('the switch-back plan runs as a fast blue-green deployment with no new instances', () => {
    const plan = planRollback(
      env({
        pools: {
          blue: { version: 'v1', instances: 2, healthy: 2 },
          green: { version: 'v2', instances: 2, healthy: 2 },
        },
      }),
      history,
    );
    if (!plan.ok) throw new Error('expected a plan');
    const sim = new Sim({
      strategy: plan.strategy,
      version: plan.version,
      fromVersion: 'v2',
      activeColor: 'green',
      replicas: 2,
      idlePool: plan.idlePool,
      protected: true,
      options: plan.options,
    })
      .start()
      .run({ timers: false });
    expect(sim.trace()).toEqual(['health blue 2', 'preview blue', 'traffic blue=100 green=0 active=blue']);
    expect(sim.state.status).toBe('succeeded');
  });
});

describe('canPromote', () => {
  const pipeline = [
    { name: 'production', position: 2 },
    { name: 'development', position: 0 },
    { name: 'staging', position: 1 },
  ];

  it('lets anything into the first environment', () => {
    expect(canPromote(pipeline, { version: 'v3', succeededIn: [] }, 'development')).toEqual({
      allowed: true,
      previous: null,
    });
  });

  it('requires success in the environment just before', () => {
    expect(
      canPromote(pipeline, { version: 'v3', succeededIn: ['development', 'staging'] }, 'production'),
    ).toEqual({
      allowed: true,
      previous: 'staging',
    });
    expect(canPromote(pipeline, { version: 'v3', succeededIn: ['development'] }, 'production')).toEqual({
      allowed: false,
      code: 'not_succeeded_in_previous',
      previous: 'staging',
      message: 'v3 has not succeeded in staging, which comes before production',
    });
    expect(canPromote(pipeline, { version: 'v3', succeededIn: [] }, 'staging')).toMatchObject({
      allowed: false,
      previous: 'development',
    });
  });

  it('rejects an unknown environment', () => {
    expect(canPromote(pipeline, { version: 'v3', succeededIn: [] }, 'qa')).toMatchObject({
      allowed: false,
      code: 'unknown_environment',
    });
  });

  it('previousEnvironment follows positions, not list order', () => {
    expect(previousEnvironment(pipeline, 'production')).toBe('staging');
    expect(previousEnvironment(pipeline, 'development')).toBeNull();
    expect(previousEnvironment(pipeline, 'qa')).toBeNull();
  });
});
