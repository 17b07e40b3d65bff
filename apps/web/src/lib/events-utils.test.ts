import type { Deployment, Environment } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { progressFixture } from '../features/deployments/progress-fixture';
import { type LiveEvent, planCacheUpdates, replaceInList, replaceInPages } from './events-utils';

function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 'd1',
    application: 'qubot-one',
    environment: 'staging',
    release: { version: '1.1.0', artifact: 'build/1.1.0' },
    fromVersion: '1.0.0',
    configVersion: null,
    kind: 'deploy',
    strategy: 'canary',
    status: 'running',
    waitingFor: null,
    options: {},
    steps: [],
    progress: progressFixture('1.1.0'),
    analysis: [],
    traffic: { requests: 0, failed: 0 },
    reason: null,
    actor: 'alice',
    error: null,
    createdAt: '2025-01-01T00:00:00Z',
    startedAt: '2025-01-01T00:00:01Z',
    finishedAt: null,
    ...overrides,
  };
}

function environment(overrides: Partial<Environment> = {}): Environment {
  return {
    name: 'staging',
    position: 1,
    protected: false,
    requiresApproval: false,
    address: null,
    live: { version: '1.0.0' },
    previous: null,
    activeColor: 'blue',
    traffic: [],
    instances: [],
    activeDeployment: null,
    replicas: 2,
    updatedAt: '2025-01-01T00:00:00Z',
    ...overrides,
  };
}

const ev = (seq: number, name: string, data: unknown = null, topic: string | null = null): LiveEvent => ({
  seq,
  prev: null,
  name,
  topics: topic ? [topic] : [],
  data,
});

describe('planCacheUpdates with topics', () => {
  it('keys an environment view by the application name from the event topics', () => {
    expect(
      planCacheUpdates([
        {
          seq: 1,
          prev: 0,
          name: 'environment.updated',
          topics: ['application:9b2d7f3e-1c1a-4c7e-9a53-0f1f7c1c2a11', 'application:qubot-one'],
          data: environment({ name: 'staging' }),
        },
      ]),
    ).toContainEqual({
      type: 'setEnvironment',
      app: 'qubot-one',
      environment: environment({ name: 'staging' }),
    });
  });
});

describe('planCacheUpdates', () => {
  it('keeps only the newest full deployment per id and refreshes environment cards', () => {
    const actions = planCacheUpdates([
      ev(2, 'deployment.updated', { deployment: deployment({ status: 'paused' }) }),
      ev(1, 'deployment.updated', deployment({ status: 'running' })),
    ]);
    const sets = actions.filter((a) => a.type === 'setDeployment');
    expect(sets).toHaveLength(1);
    expect(sets[0]).toMatchObject({ deployment: { status: 'paused' } });
    expect(actions).toContainEqual({ type: 'invalidate', target: 'environments', app: 'qubot-one' });
  });

  it('refreshes releases when a deployment finishes', () => {
    const actions = planCacheUpdates([ev(1, 'deployment.succeeded', deployment({ status: 'succeeded' }))]);
    expect(actions).toContainEqual({ type: 'invalidate', target: 'releases', app: 'qubot-one' });
  });

  it('sets a full environment when the application is known', () => {
    const env = environment();
    expect(
      planCacheUpdates([ev(1, 'environment.updated', { application: 'qubot-one', environment: env })]),
    ).toEqual([{ type: 'setEnvironment', app: 'qubot-one', environment: env }]);
  });

  it('falls back to deduplicated invalidation for thin events', () => {
    const actions = planCacheUpdates([
      ev(1, 'step.started', { deploymentId: 'd1' }),
      ev(2, 'step.finished', { deploymentId: 'd1' }),
      ev(3, 'release.created', { application: 'qubot-one', version: '2.0.0' }),
      ev(4, 'traffic.changed', { application: 'qubot-one', environment: 'production' }),
    ]);
    expect(actions).toEqual([
      { type: 'invalidate', target: 'deployments', id: 'd1' },
      { type: 'invalidate', target: 'deployments' },
      { type: 'invalidate', target: 'environments' },
      { type: 'invalidate', target: 'releases', app: 'qubot-one' },
      { type: 'invalidate', target: 'environments', app: 'qubot-one', env: 'production' },
    ]);
  });

  it('takes the deployment id from the topic when the data lacks it', () => {
    expect(
      planCacheUpdates([ev(1, 'analysis.result', { metric: 'errorRate' }, 'deployment:d9')]),
    ).toContainEqual({
      type: 'invalidate',
      target: 'deployments',
      id: 'd9',
    });
  });
});

describe('replaceInPages / replaceInList', () => {
  const same = (a: { id: string }, b: { id: string }) => a.id === b.id;
  it('replaces by identity and reports whether it was there', () => {
    const data = {
      pages: [
        { items: [{ id: 'a', v: 1 }], nextCursor: 'x' },
        { items: [{ id: 'b', v: 1 }], nextCursor: null },
      ],
      pageParams: [null, 'x'],
    };
    const hit = replaceInPages(data, { id: 'b', v: 2 }, same);
    expect(hit.found).toBe(true);
    expect(hit.data?.pages[1]?.items[0]).toEqual({ id: 'b', v: 2 });
    expect(hit.data?.pages[0]).toBe(data.pages[0]);
    const miss = replaceInPages(data, { id: 'c', v: 1 }, same);
    expect(miss).toEqual({ data, found: false });
    expect(replaceInPages(undefined, { id: 'a', v: 1 }, same)).toEqual({ data: undefined, found: false });

    const list = { items: [{ id: 'a', v: 1 }], nextCursor: null };
    expect(replaceInList(list, { id: 'a', v: 3 }, same)).toEqual({
      data: { items: [{ id: 'a', v: 3 }], nextCursor: null },
      found: true,
    });
  });
});
