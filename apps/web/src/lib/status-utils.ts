import type { DeploymentStatus } from '@qubot/api-contract';

// Kept here rather than imported from @qubot/api-contract: a value import would pull the
// schema library into the browser bundle; only its types are used on the web side.
export const ACTIVE_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ['pending', 'running', 'paused'];
export const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'pending',
  'running',
  'paused',
  'succeeded',
  'failed',
  'rolled_back',
  'aborted',
];

export function isActiveStatus(status: string | null | undefined): boolean {
  return ACTIVE_DEPLOYMENT_STATUSES.includes(status as DeploymentStatus);
}

export function isDeploymentStatus(value: string | null | undefined): value is DeploymentStatus {
  return DEPLOYMENT_STATUSES.includes(value as DeploymentStatus);
}

const STATUS_LABELS: Record<DeploymentStatus, string> = {
  pending: 'Pending',
  running: 'Running',
  paused: 'Paused',
  succeeded: 'Succeeded',
  failed: 'Failed',
  rolled_back: 'Rolled back',
  aborted: 'Aborted',
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status as DeploymentStatus] ?? status.replaceAll('_', ' ');
}

/** CSS modifier for a status badge: the tone, not the exact status, drives colour. */
export function statusTone(status: string): 'ok' | 'bad' | 'warn' | 'active' | 'muted' {
  switch (status) {
    case 'succeeded':
    case 'healthy':
    case 'running_healthy':
    case 'ready':
      return 'ok';
    case 'failed':
    case 'unhealthy':
    case 'crashed':
    case 'oom_killed':
    case 'lost':
      return 'bad';
    case 'rolled_back':
    case 'aborted':
    case 'paused':
    case 'cordoned':
    case 'draining':
    case 'drained':
    case 'disconnected':
      return 'warn';
    case 'running':
    case 'pending':
    case 'starting':
      return 'active';
    default:
      return 'muted';
  }
}

const WAITING_LABELS: Record<string, string> = {
  switch: 'Waiting for traffic switch',
  advance: 'Waiting to advance to the next step',
  approval: 'Waiting for approval',
};

export function waitingLabel(waitingFor: string | null | undefined): string | null {
  if (!waitingFor) return null;
  return WAITING_LABELS[waitingFor] ?? `Waiting for ${waitingFor}`;
}
