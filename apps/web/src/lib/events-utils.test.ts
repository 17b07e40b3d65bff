import type { Deployment, Environment, ServerEvent } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { deliveryView } from '../../../api/src/services/webhook-service.ts';
import { deploymentFixture, environmentFixture } from '../../../api/src/views/view-fixtures.ts';
import {
  type LiveEvent,
  planCacheUpdates,
  replaceInList,
  replaceInPages,
  upsertDelivery,
} from './events-utils';

// What the server really sends: its views over a real packages/core state machine.
const running = () =>
  deploymentFixture({
    id: 'd1',
    input: { strategy: 'canary', version: '1.1.0', fromVersion: '1.0.0' },
    drive: (sim) => sim.start().run({ timers: false }),
  });
function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return { ...running(), ...overrides };
}
function environment(overrides: Partial<Environment> = {}): Environment {
  return { ...environmentFixture({ name: 'staging', position: 1 }), ...overrides };
}

/** An event message as the server sends it, with its `event` name and the view it carries. */
const ev = (seq: number, e: ServerEvent | { event: null; data: null }, topics: string[] = []): LiveEvent =>
  ({ seq, prev: null, topics, ...e }) as LiveEvent;
const unknown = (seq: number) => ev(seq, { event: null, data: null });

describe('planCacheUpdates with topics', () => {
  it('keys an environment view by the application name from the event topics', () => {
    expect(
      planCacheUpdates([
        ev(1, { event: 'environment.updated', data: environment({ name: 'staging' }) }, [
          'application:9b2d7f3e-1c1a-4c7e-9a53-0f1f7c1c2a11',
          'application:qubot-one',
        ]),
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
      ev(2, { event: 'deployment.updated', data: deployment({ status: 'paused' }) }),
      ev(1, { event: 'deployment.created', data: deployment({ status: 'running' }) }),
    ]);
    const sets = actions.filter((a) => a.type === 'setDeployment');
    expect(sets).toHaveLength(1);
    expect(sets[0]).toMatchObject({ deployment: { status: 'paused' } });
    expect(actions).toContainEqual({ type: 'invalidate', target: 'environments', app: 'qubot-one' });
  });

  it('refreshes releases when a deployment finishes', () => {
    const done = deploymentFixture({
      id: 'd1',
      input: { strategy: 'blue-green', version: '1.1.0', fromVersion: '1.0.0' },
      drive: (sim) => sim.start().run(),
    });
    expect(done.status).toBe('succeeded');
    const actions = planCacheUpdates([ev(1, { event: 'deployment.updated', data: done })]);
    expect(actions).toContainEqual({ type: 'invalidate', target: 'releases', app: 'qubot-one' });
    expect(actions).toContainEqual({ type: 'invalidate', target: 'dora', app: 'qubot-one' });
    expect(planCacheUpdates([ev(2, { event: 'deployment.updated', data: running() })])).not.toContainEqual({
      type: 'invalidate',
      target: 'dora',
      app: 'qubot-one',
    });
    expect(planCacheUpdates([ev(2, { event: 'deployment.updated', data: running() })])).not.toContainEqual({
      type: 'invalidate',
      target: 'releases',
      app: 'qubot-one',
    });
  });

  it('sets a full environment under the application its topics name', () => {
    const env = environment();
    expect(
      planCacheUpdates([ev(1, { event: 'environment.updated', data: env }, ['application:qubot-one'])]),
    ).toEqual([
      { type: 'setEnvironment', app: 'qubot-one', environment: env },
      // What the promotion policies will do next may have changed with it.
      { type: 'invalidate', target: 'policies', app: 'qubot-one' },
    ]);
  });

  it('refreshes what the thin events name, deduplicated, and ignores types it does not know', () => {
    const config = {
      application: 'qubot-one',
      environment: 'production',
      version: 3,
      createdBy: 'alice',
      added: ['A'],
      removed: [],
      changed: [],
    };
    const actions = planCacheUpdates([
      ev(1, {
        event: 'release.created',
        data: { application: 'qubot-one', version: '2.0.0', artifact: 'b' },
      }),
      ev(2, {
        event: 'release.created',
        data: { application: 'qubot-one', version: '2.0.1', artifact: 'b' },
      }),
      ev(3, { event: 'config.updated', data: config }),
      unknown(4),
    ]);
    expect(actions).toEqual([
      { type: 'invalidate', target: 'releases', app: 'qubot-one' },
      // A new release is what the first environment's policy deploys.
      { type: 'invalidate', target: 'policies', app: 'qubot-one' },
      { type: 'invalidate', target: 'config' },
    ]);
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

describe('webhook.delivery events', () => {
  // The server's own view of a delivery row (services/webhook-service.ts deliveryView).
  const delivery = (id: string, over: Partial<Parameters<typeof deliveryView>[0]> = {}) =>
    deliveryView({
      id,
      webhookId: 'w1',
      eventSeq: 7n,
      eventType: 'release.created',
      status: 'pending',
      attempts: 1,
      nextAttemptAt: new Date('2026-12-01T10:00:10Z'),
      claimedBy: null,
      statusCode: 503,
      latencyMs: 12,
      responseExcerpt: 'busy',
      error: 'HTTP 503',
      redeliveryOf: null,
      requestedBy: null,
      createdAt: new Date('2026-12-01T10:00:00Z'),
      finishedAt: null,
      ...over,
    });

  it('the newest attempt of each delivery becomes one setDelivery for its application', () => {
    const first = delivery('d1');
    const second = delivery('d1', { status: 'delivered', attempts: 2, statusCode: 200 });
    expect(
      planCacheUpdates([
        ev(2, { event: 'webhook.delivery', data: { ...second, application: 'qubot-one' } }),
        ev(1, { event: 'webhook.delivery', data: { ...first, application: 'qubot-one' } }),
      ]),
    ).toEqual([{ type: 'setDelivery', app: 'qubot-one', delivery: second }]);
  });

  it('patches the row where it is, or puts a new delivery at the top of the first page', () => {
    const old = delivery('d1');
    const data = {
      pages: [
        { items: [old], nextCursor: 'x' },
        { items: [delivery('d0')], nextCursor: null },
      ],
      pageParams: [null, 'x'],
    };
    const done = delivery('d1', { status: 'delivered', attempts: 2 });
    expect(upsertDelivery(data, done)?.pages[0]?.items).toEqual([done]);
    const fresh = delivery('d2');
    const added = upsertDelivery(data, fresh);
    expect(added?.pages[0]?.items.map((d) => d.id)).toEqual(['d2', 'd1']);
    expect(added?.pages[1]).toBe(data.pages[1]);
    expect(upsertDelivery(undefined, fresh)).toBeUndefined();
  });
});
