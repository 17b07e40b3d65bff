import type { WebhookDelivery } from '@qubot/api-contract';
import { EVENT_NAMES } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import {
  attemptSummary,
  canRedeliver,
  deliveryTone,
  WEBHOOK_EVENT_OPTIONS,
  webhookFormProblems,
} from './webhook-utils';

const delivery = (over: Partial<WebhookDelivery>): WebhookDelivery => ({
  id: 'd1',
  webhookId: 'w1',
  eventSeq: 1,
  event: 'release.created',
  status: 'delivered',
  attempts: 1,
  nextAttemptAt: null,
  statusCode: 200,
  latencyMs: 12,
  responseExcerpt: 'ok',
  error: null,
  redeliveryOf: null,
  requestedBy: null,
  createdAt: '2026-12-01T00:00:00.000Z',
  finishedAt: '2026-12-01T00:00:00.100Z',
  ...over,
});

describe('webhook utils', () => {
  it('offers every stream event type and the approval request', () => {
    const offered = WEBHOOK_EVENT_OPTIONS.map((o) => o.value);
    // …but a webhook's own delivery log, which would feed itself, and host events, which belong to
    // no application (webhooks are an application's).
    const none = ['webhook.delivery', 'host.updated'];
    for (const name of EVENT_NAMES.filter((n) => !none.includes(n))) expect(offered).toContain(name);
    for (const name of none) expect(offered).not.toContain(name);
    expect(offered).toContain('deployment.approval_requested');
  });

  it('names the field at fault before sending', () => {
    expect(webhookFormProblems({ name: '', url: 'ftp://x', events: [] })).toEqual({
      name: 'Required.',
      url: 'Use an http:// or https:// address.',
      events: 'Choose at least one event type.',
    });
    expect(
      webhookFormProblems({ name: 'ci', url: 'https://hooks.example.com/x', events: ['release.created'] }),
    ).toEqual({
      name: null,
      url: null,
      events: null,
    });
  });

  it('summarises an attempt', () => {
    expect(attemptSummary(delivery({}))).toBe('HTTP 200 in 12 ms');
    expect(attemptSummary(delivery({ status: 'failed', statusCode: 500, error: 'HTTP 500' }))).toBe(
      'HTTP 500 in 12 ms',
    );
    expect(
      attemptSummary(
        delivery({
          status: 'pending',
          statusCode: null,
          latencyMs: 10000,
          error: 'timed out after 10000 ms',
        }),
      ),
    ).toBe('in 10000 ms timed out after 10000 ms');
    expect(
      attemptSummary(delivery({ status: 'pending', statusCode: null, latencyMs: null, error: null })),
    ).toBe('queued');
    expect(deliveryTone('failed')).toBe('bad');
  });

  it('redelivers only what is finished and not already being sent again', () => {
    const d = delivery({});
    expect(canRedeliver(d, [d])).toBe(true);
    expect(canRedeliver(d, [d, delivery({ id: 'd2', redeliveryOf: 'd1', status: 'pending' })])).toBe(false);
    expect(canRedeliver(delivery({ status: 'delivering' }), [])).toBe(false);
  });
});
