import type { WebhookDelivery, WebhookEvent } from '@qubot/api-contract';

/** The event types a webhook may choose, in the order the form lists them, with what they mean. */
export const WEBHOOK_EVENT_OPTIONS: readonly { value: WebhookEvent; label: string }[] = [
  { value: 'deployment.approval_requested', label: 'Approval requested (with the approval link)' },
  { value: 'deployment.created', label: 'Deployment started' },
  { value: 'deployment.updated', label: 'Deployment changed (every step and status)' },
  { value: 'release.created', label: 'Release registered' },
  { value: 'environment.updated', label: 'Environment changed' },
  { value: 'config.updated', label: 'Configuration changed' },
  { value: 'application.created', label: 'Application created' },
  { value: 'instance.oom_killed', label: 'Instance killed by its memory limit' },
  { value: 'autoscale.decision', label: 'Autoscaler decision' },
];

/** Why the form cannot be sent yet, per field (the server checks again and names its field). */
export function webhookFormProblems(form: { name: string; url: string; events: readonly string[] }): {
  name: string | null;
  url: string | null;
  events: string | null;
} {
  let url: string | null = null;
  try {
    const u = new URL(form.url.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') url = 'Use an http:// or https:// address.';
  } catch {
    url = form.url.trim() ? 'Not a valid URL.' : 'Required.';
  }
  return {
    name: form.name.trim() ? (form.name.trim().length > 100 ? 'At most 100 characters.' : null) : 'Required.',
    url,
    events: form.events.length ? null : 'Choose at least one event type.',
  };
}

/** One short line for a delivery's last attempt: "200 in 12 ms", "timed out after 10000 ms". */
export function attemptSummary(
  d: Pick<WebhookDelivery, 'statusCode' | 'latencyMs' | 'error' | 'status'>,
): string {
  if (d.status === 'pending' && d.statusCode === null && d.error === null) return 'queued';
  if (d.status === 'delivering' && d.latencyMs === null) return 'sending…';
  const parts: string[] = [];
  if (d.statusCode !== null) parts.push(`HTTP ${d.statusCode}`);
  if (d.latencyMs !== null) parts.push(`in ${d.latencyMs} ms`);
  if (d.error && !(d.statusCode !== null && d.error === `HTTP ${d.statusCode}`)) parts.push(d.error);
  return parts.join(' ') || '—';
}

/** The badge tone of a delivery status. */
export function deliveryTone(status: WebhookDelivery['status']): 'ok' | 'bad' | 'active' {
  return status === 'delivered' ? 'ok' : status === 'failed' ? 'bad' : 'active';
}

/** Whether a delivery may be sent again now (not while it, or a redelivery of it, is on its way). */
export function canRedeliver(d: WebhookDelivery, all: readonly WebhookDelivery[]): boolean {
  if (d.status === 'pending' || d.status === 'delivering') return false;
  return !all.some((o) => o.redeliveryOf === d.id && (o.status === 'pending' || o.status === 'delivering'));
}
