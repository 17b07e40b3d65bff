import type { Environment, InstanceView } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import {
  type DeploymentFixture,
  environmentFixture,
  type Sim,
} from '../../../../api/src/views/view-fixtures.ts';
import {
  healthSummary,
  promoteAvailability,
  rollbackAvailability,
  switchAvailability,
  switchTarget,
  trafficDescription,
  trafficSegments,
} from './environment-utils';

/** Development with 1.0.0 live on blue, as the server sends it; `overrides` as a later view changes it. */
function env(overrides: Partial<Environment> = {}): Environment {
  return { ...environmentFixture({ name: 'development', position: 0 }), instances: [], ...overrides };
}

const instance = (pool: 'blue' | 'green', healthy: boolean, version = '1.0.0'): InstanceView => ({
  id: `${pool}-${Math.random()}`,
  pool,
  version,
  status: healthy ? 'running' : 'starting',
  healthy,
  port: 1,
  restarts: 0,
  startedAt: '2025-01-01T00:00:00Z',
});

describe('healthSummary', () => {
  it('counts healthy instances and picks a tone', () => {
    expect(healthSummary(env()).tone).toBe('muted');
    expect(healthSummary(env({ instances: [instance('blue', true), instance('blue', true)] }))).toMatchObject(
      {
        healthy: 2,
        total: 2,
        tone: 'ok',
        label: '2/2 healthy',
      },
    );
    expect(healthSummary(env({ instances: [instance('blue', true), instance('blue', false)] })).tone).toBe(
      'warn',
    );
    expect(healthSummary(env({ instances: [instance('blue', false)] })).tone).toBe('bad');
  });

  it('says the router is down whatever the instances say (the path users take)', () => {
    const down = healthSummary(
      env({
        instances: [instance('blue', true), instance('blue', true)],
        router: { status: 'down', restarts: 1, lastOutageAt: '2026-11-30T17:00:00.000Z' },
      }),
    );
    expect(down).toMatchObject({ tone: 'bad', label: 'Router down, restarting · 2/2 instances healthy' });
    const up = healthSummary(
      env({
        instances: [instance('blue', true)],
        router: { status: 'up', restarts: 1, lastOutageAt: null },
      }),
    );
    expect(up).toMatchObject({ tone: 'ok', label: '1/1 healthy' });
  });
});

describe('trafficSegments', () => {
  it('drops idle pools and normalises any weight scale to percent', () => {
    expect(trafficSegments(env().traffic)).toEqual([
      { pool: 'blue', version: '1.0.0', percent: 100, label: 'blue 1.0.0 100 %' },
    ]);
    const canary = trafficSegments([
      { pool: 'blue', version: '1.0.0', weight: 0.75 },
      { pool: 'green', version: '1.1.0', weight: 0.25 },
    ]);
    expect(canary.map((s) => s.percent)).toEqual([75, 25]);
    const thirds = trafficSegments([
      { pool: 'blue', version: 'a', weight: 2 },
      { pool: 'green', version: 'b', weight: 1 },
    ]);
    expect(thirds.map((s) => s.percent)).toEqual([66.7, 33.3]);
  });
  it('Kubernetes replica ratio: says what was requested and what whole pods serve; the bar shows the served share', () => {
    const split = trafficSegments([
      { pool: 'blue', version: '1.0.0', weight: 90, served: { pods: 3, ofPods: 4, percent: 75 } },
      { pool: 'green', version: '1.1.0', weight: 10, served: { pods: 1, ofPods: 4, percent: 25 } },
    ]);
    expect(split.map((s) => s.percent)).toEqual([75, 25]);
    expect(split[1]?.label).toBe('green 1.1.0: 10 % requested, 1 of 4 pods = 25 % served');
  });
  it('describes no traffic', () => {
    expect(trafficSegments([])).toEqual([]);
    expect(trafficDescription([{ pool: 'blue', version: null, weight: 0 }])).toBe(
      'No traffic is being served',
    );
  });
});

describe('promoteAvailability', () => {
  const dev = env({ name: 'development', live: { version: '1.1.0' } });
  const staging = env({ name: 'staging', position: 1, live: { version: '1.0.0' } });
  const prod = env({ name: 'production', position: 2, protected: true, live: null });

  it('is disabled on the first environment', () => {
    expect(promoteAvailability([dev, staging], 0).disabled).toBe(true);
  });
  it('offers the previous environment’s live version', () => {
    expect(promoteAvailability([dev, staging, prod], 1)).toMatchObject({
      disabled: false,
      from: 'development',
      version: '1.1.0',
    });
  });
  it('is disabled when nothing is live upstream', () => {
    const emptyDev = env({ live: null });
    expect(promoteAvailability([emptyDev, staging], 1)).toMatchObject({ disabled: true, version: null });
  });
});

type Active = NonNullable<Environment['activeDeployment']>;
/** The active deployment's summary as the environment view carries it, from a real core state. */
const activeOf = (input: DeploymentFixture['input'], drive: DeploymentFixture['drive']): Active => {
  const summary = environmentFixture({ name: 'development', active: { input, drive } }).activeDeployment;
  if (!summary) throw new Error('not in progress');
  return summary;
};
const started = (sim: Sim) => sim.start().run({ timers: false });
/** A canary of 1.1.0 at its first traffic step (a timed hold). */
const active = () => activeOf({ strategy: 'canary', version: '1.1.0' }, started);
const canaryHeld = () =>
  activeOf({ strategy: 'canary', version: '1.1.0', options: { stepDurationSeconds: 'manual' } }, started);
const blueGreenSwitch = () =>
  activeOf({ strategy: 'blue-green', version: '1.1.0', options: { autoSwitch: false } }, started);
const blueGreenApproval = () =>
  activeOf({ strategy: 'blue-green', version: '1.1.0', requiresApproval: true }, started);
const pending = () => activeOf({ strategy: 'canary', version: '1.1.0' }, undefined);

describe('actions during an active deployment', () => {
  const dev = env({ name: 'development', live: { version: '1.1.0' } });
  const blueGreenReady = {
    traffic: [
      { pool: 'blue' as const, version: '1.0.0', weight: 100 },
      { pool: 'green' as const, version: '1.1.0', weight: 0 },
    ],
    instances: [instance('green', true, '1.1.0')],
  };

  it('disables Promote → on a target with a deployment in progress, saying so', () => {
    const staging = env({ name: 'staging', position: 1, activeDeployment: active() });
    const a = promoteAvailability([dev, staging], 1);
    expect(a.disabled).toBe(true);
    expect(a.hint).toMatch(/a deployment is in progress/i);
  });
  it('ignores a deployment in progress upstream: only the target matters', () => {
    const busyDev = env({ name: 'development', live: { version: '1.1.0' }, activeDeployment: active() });
    const staging = env({ name: 'staging', position: 1 });
    expect(promoteAvailability([busyDev, staging], 1)).toMatchObject({ disabled: false, version: '1.1.0' });
  });
  it('enables Switch traffic when a blue-green deployment waits for its switch (that is the switch)', () => {
    const e = env({
      ...blueGreenReady,
      activeDeployment: blueGreenSwitch(),
    });
    const a = switchAvailability(e);
    expect(a.disabled).toBe(false);
    expect(a.hint).toMatch(/switch of the blue-green deployment of 1\.1\.0/);
  });
  it('disables Switch traffic during any other deployment, with a hint', () => {
    const waits = [active(), canaryHeld(), blueGreenApproval(), pending()];
    expect(waits.map((d) => [d.status, d.waitingFor])).toEqual([
      ['running', null],
      ['paused', 'advance'],
      ['paused', 'approval'],
      ['pending', null],
    ]);
    for (const d of waits) {
      const a = switchAvailability(env({ ...blueGreenReady, activeDeployment: d }));
      expect(a.disabled).toBe(true);
      expect(a.hint).toMatch(/a deployment is in progress/i);
    }
    expect(switchAvailability(env(blueGreenReady)).disabled).toBe(false);
  });
  it('keeps Rollback enabled on a running or paused deployment, labelled as rolling it back', () => {
    for (const d of [active(), blueGreenSwitch()]) {
      // Even with nothing live yet: the server rolls the deployment itself back.
      expect(rollbackAvailability(env({ live: null, activeDeployment: d }))).toMatchObject({
        disabled: false,
        label: 'Roll back deployment',
        ofActiveDeployment: true,
      });
    }
    expect(rollbackAvailability(env({ activeDeployment: active() })).hint).toBe(
      'Stop the canary deployment of 1.1.0 and return development to the release that ran before it.',
    );
  });
  it('does not count a deployment that already reports its end', () => {
    // The view lists only deployments in progress; a stale one that ended must not count either.
    const ended: Active = { ...active(), status: 'rolled_back', actions: [] };
    const done = env({ activeDeployment: ended, previous: { version: '0.9.0' } });
    expect(rollbackAvailability(done)).toMatchObject({
      disabled: false,
      label: 'Rollback',
      version: '0.9.0',
    });
    expect(promoteAvailability([env({ live: { version: '1.1.0' } }), done], 1).disabled).toBe(false);
  });
  it('disables Rollback on a pending deployment (only abort is accepted then)', () => {
    const a = rollbackAvailability(env({ activeDeployment: pending() }));
    expect(a).toMatchObject({ disabled: true, ofActiveDeployment: true });
    expect(a.hint).toMatch(/abort/);
  });
});

describe('switch and rollback', () => {
  it('targets the idle colour with its version', () => {
    const e = env({
      activeColor: 'blue',
      traffic: [
        { pool: 'blue', version: '1.0.0', weight: 100 },
        { pool: 'green', version: '1.1.0', weight: 0 },
      ],
      instances: [instance('green', true, '1.1.0'), instance('green', false, '1.1.0')],
    });
    expect(switchTarget(e)).toEqual({ color: 'green', version: '1.1.0', instances: 2, healthy: 1 });
    expect(switchAvailability(e).disabled).toBe(false);
  });
  it('cannot switch to an idle colour with nothing on it', () => {
    expect(switchAvailability(env()).disabled).toBe(true);
  });
  it('cannot switch a non blue-green environment', () => {
    expect(switchTarget(env({ activeColor: null }))).toBeNull();
    expect(switchAvailability(env({ activeColor: null })).disabled).toBe(true);
  });
  it('rolls back to the previous version when known', () => {
    expect(rollbackAvailability(env({ previous: { version: '0.9.0' } }))).toMatchObject({
      disabled: false,
      version: '0.9.0',
      label: 'Rollback',
      ofActiveDeployment: false,
    });
    expect(rollbackAvailability(env({ live: null })).disabled).toBe(true);
  });
});
