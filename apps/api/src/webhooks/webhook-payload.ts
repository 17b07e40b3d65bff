// What a webhook delivery sends (docs/webhooks.md "The request"): the event with the resource view
// that the REST API and the event stream serve (events/event-views.ts, audience "reader": no
// launcher), or a Slack incoming-webhook message; signed with HMAC-SHA256 over
// `<timestamp>.<body>`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { viewFor } from '../events/event-views.ts';

export const SIGNATURE_HEADER = 'x-qubot-signature';
export const EVENT_HEADER = 'x-qubot-event';
export const DELIVERY_HEADER = 'x-qubot-delivery';

export interface StoredEvent {
  seq: bigint;
  type: string;
  deploymentId: string | null;
  payload: unknown;
  createdAt: Date;
}

export interface WebhookBody {
  id: string;
  event: string;
  seq: number;
  at: string;
  application: string;
  webhook: { id: string; name: string };
  data: unknown;
  /** Dashboard pages: the deployment's; `approve` on deployment.approval_requested. */
  links: { deployment?: string; approve?: string };
}

type DeploymentView = {
  id?: string;
  environment?: string;
  version?: string;
  release?: { version?: string };
  status?: string;
  strategy?: string;
  actor?: string;
  waitingFor?: string | null;
};

/** The dashboard page of a deployment, where a release-manager approves it (sign-in required). */
export function deploymentLink(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/deployments/${encodeURIComponent(id)}`;
}

export function buildBody(opts: {
  deliveryId: string;
  eventType: string;
  event: StoredEvent;
  application: string;
  webhook: { id: string; name: string };
  publicUrl: string;
}): WebhookBody {
  const { event } = opts;
  // A delivery of type deployment.approval_requested carries a deployment.updated event.
  const data = viewFor(event.type, event.payload, 'reader') ?? null;
  const links: WebhookBody['links'] = {};
  const deploymentId = event.deploymentId ?? (data as DeploymentView | null)?.id;
  if (deploymentId && event.type.startsWith('deployment.')) {
    links.deployment = deploymentLink(opts.publicUrl, deploymentId);
    if (opts.eventType === 'deployment.approval_requested') links.approve = links.deployment;
  }
  return {
    id: opts.deliveryId,
    event: opts.eventType,
    seq: Number(event.seq),
    at: event.createdAt.toISOString(),
    application: opts.application,
    webhook: opts.webhook,
    data,
    links,
  };
}

/** Slack escapes: &, < and > are control characters in a message's text. */
const esc = (s: unknown) =>
  String(s ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');

/** One line a person reads in a channel: what happened, and a link where one helps. */
export function slackText(body: WebhookBody): string {
  const d = (body.data ?? {}) as DeploymentView & Record<string, unknown>;
  const app = esc(body.application);
  const version = esc(d.release?.version ?? d.version);
  const link = (url: string | undefined, label: string) => (url ? ` <${url}|${label}>` : '');
  switch (body.event) {
    case 'deployment.approval_requested':
      return `:raised_hand: ${app}: deployment of ${version} to ${esc(d.environment)} is waiting for approval.${link(body.links.approve, 'Review and approve')}`;
    case 'deployment.created':
      return `${app}: deployment of ${version} to ${esc(d.environment)} started (${esc(d.strategy)}) by ${esc(d.actor)}.${link(body.links.deployment, 'Open')}`;
    case 'deployment.updated':
      return `${app}: deployment of ${version} to ${esc(d.environment)} is ${esc(d.status)}${d.waitingFor ? ` (waiting for ${esc(d.waitingFor)})` : ''}.${link(body.links.deployment, 'Open')}`;
    case 'release.created':
      return `${app}: release ${version} registered.`;
    case 'config.updated':
      return `${app}: configuration of ${esc(d.environment)} is now version ${esc(d.version)} (by ${esc(d.createdBy)}).`;
    case 'environment.updated': {
      const live = (d.live as { version?: string } | null)?.version;
      return `${app}: environment ${esc(d.name)} changed${live ? `; live: ${esc(live)}` : ''}.`;
    }
    case 'application.created':
      return `Application ${app} created.`;
    default:
      return `${app}: ${esc(body.event)}.`;
  }
}

/** The bytes sent: the body as JSON, or `{ text }` for Slack. */
export function renderBody(format: string, body: WebhookBody): string {
  return JSON.stringify(format === 'slack' ? { text: slackText(body) } : body);
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function sign(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * What a receiver does (the sample in docs/webhooks.md): recompute the MAC over the raw body,
 * compare in constant time, and refuse a timestamp older than `toleranceSeconds` (a replay).
 */
export function verifySignature(
  secret: string,
  rawBody: string,
  header: string | undefined,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !parts.v1) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex'));
  const given = Buffer.from(parts.v1);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
