import type { Color, Environment, TrafficEntry } from '@qubot/api-contract';
import { formatPercent } from '../../lib/format-utils';
import { isActiveStatus } from '../../lib/status-utils';

export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}

/**
 * Health of the path users take: the environment's router first (healthy instances behind a dead
 * router serve nobody), then its instances.
 */
export function healthSummary(env: Pick<Environment, 'instances' | 'router'>) {
  const total = env.instances.length;
  const healthy = env.instances.filter((i) => i.healthy).length;
  if (env.router?.status === 'down') {
    return {
      healthy,
      total,
      tone: 'bad' as const,
      label: `Router down, restarting · ${healthy}/${total} instances healthy`,
    };
  }
  const tone: 'ok' | 'warn' | 'bad' | 'muted' =
    total === 0 ? 'muted' : healthy === total ? 'ok' : healthy === 0 ? 'bad' : 'warn';
  return { healthy, total, tone, label: `${healthy}/${total} healthy` };
}

export interface TrafficSegment {
  pool: Color;
  version: string | null;
  /** Share of all traffic, 0–100, rounded to one decimal. */
  percent: number;
  label: string;
}

/**
 * Pools that receive traffic, as shares of 100 whatever scale the weights use
 * (routers may report 0–1, 0–100 or raw weights).
 */
export function trafficSegments(traffic: readonly TrafficEntry[]): TrafficSegment[] {
  const serving = traffic.filter((t) => Number.isFinite(t.weight) && t.weight > 0);
  const sum = serving.reduce((acc, t) => acc + t.weight, 0);
  if (sum <= 0) return [];
  return serving.map((t) => {
    const percent = Math.round((t.weight / sum) * 1000) / 10;
    const name = `${t.pool}${t.version ? ` ${t.version}` : ''}`;
    const pct = (p: number) => formatPercent(p, p % 1 === 0 ? 0 : 1);
    // Kubernetes replica ratio: whole pods decide the split; the bar shows what is served.
    if (t.served) {
      return {
        pool: t.pool,
        version: t.version,
        percent: t.served.percent,
        label: `${name}: ${pct(percent)} requested, ${t.served.pods} of ${t.served.ofPods} pods = ${pct(t.served.percent)} served`,
      };
    }
    return { pool: t.pool, version: t.version, percent, label: `${name} ${pct(percent)}` };
  });
}

export function trafficDescription(traffic: readonly TrafficEntry[]): string {
  const segments = trafficSegments(traffic);
  if (segments.length === 0) return 'No traffic is being served';
  return `Traffic: ${segments.map((s) => s.label).join(', ')}`;
}

export interface ActionAvailability {
  disabled: boolean;
  /** Why it is disabled, or what it will do; shown as a hint. */
  hint: string;
  /**
   * Disabled only until the deployment in progress ends. For someone whose role does not allow
   * the action at all, that is the lasting reason and the one to show.
   */
  transient?: boolean;
}

type ActiveSummary = NonNullable<Environment['activeDeployment']>;

/** The deployment in progress; a summary that already reports its end no longer blocks anything. */
function inProgress(env: Pick<Environment, 'activeDeployment'>): ActiveSummary | null {
  const d = env.activeDeployment;
  return d && isActiveStatus(d.status) ? d : null;
}

/** "A deployment is in progress (canary of 1.2.0, paused): …" */
function inProgressHint(active: ActiveSummary, then: string): string {
  return `A deployment is in progress (${active.strategy} of ${active.version}, ${active.status}): ${then}`;
}

/**
 * Promote takes what is live in the previous environment. The server allows one active
 * deployment per environment, so only the target's own deployment blocks it; one running
 * upstream does not change what is live there.
 */
export function promoteAvailability(envs: readonly Environment[], index: number) {
  const env = envs[index];
  const previous = index > 0 ? envs[index - 1] : undefined;
  if (!env || !previous) {
    return {
      disabled: true,
      hint: 'The first environment receives new releases by deployment, not promotion.',
      from: null,
      version: null,
    };
  }
  const version = previous.live?.version ?? null;
  const busy = inProgress(env);
  if (busy) {
    return {
      disabled: true,
      transient: true,
      hint: inProgressHint(busy, 'promote once it has finished.'),
      from: previous.name,
      version,
    };
  }
  if (!version) {
    return {
      disabled: true,
      hint: `Nothing is live in ${previous.name} to promote.`,
      from: previous.name,
      version: null,
    };
  }
  if (env.live?.version === version) {
    return {
      disabled: false,
      hint: `${version} is already live here; promoting deploys it again from ${previous.name}.`,
      from: previous.name,
      version,
    };
  }
  return {
    disabled: false,
    hint: `Deploy ${version} from ${previous.name} to ${env.name}.`,
    from: previous.name,
    version,
  };
}

/** Blue-green only: the colour that is not serving, and what runs on it. */
export function switchTarget(env: Pick<Environment, 'activeColor' | 'traffic' | 'instances'>) {
  if (!env.activeColor) return null;
  const color = otherColor(env.activeColor);
  const version =
    env.traffic.find((t) => t.pool === color)?.version ??
    env.instances.find((i) => i.pool === color)?.version ??
    null;
  const instances = env.instances.filter((i) => i.pool === color);
  return { color, version, instances: instances.length, healthy: instances.filter((i) => i.healthy).length };
}

/**
 * The server takes a traffic change with no deployment running, or as the switch of a
 * blue-green deployment waiting for it; during anything else it answers 409.
 */
export function switchAvailability(env: Environment): ActionAvailability {
  const target = switchTarget(env);
  if (!target) return { disabled: true, hint: 'Traffic switching needs a blue-green environment.' };
  const active = inProgress(env);
  if (active) {
    // The deployment says whether it accepts the switch now (packages/core decides).
    if (active.actions.includes('switch')) {
      return {
        disabled: false,
        hint: `Perform the switch of the ${active.strategy} deployment of ${active.version}: all traffic to ${target.color}.`,
      };
    }
    return {
      disabled: true,
      transient: true,
      hint: inProgressHint(active, 'traffic moves with it, or switch when it waits for its switch.'),
    };
  }
  if (target.instances === 0 && !target.version) {
    return { disabled: true, hint: `Nothing runs on ${target.color} to switch to.` };
  }
  return {
    disabled: false,
    hint: `Send all traffic to ${target.color}${target.version ? ` (${target.version})` : ''}.`,
  };
}

export interface RollbackAvailability extends ActionAvailability {
  /** The release it returns to, when known. */
  version: string | null;
  /** Button text: rolling back a deployment in progress is a different act from a new rollback. */
  label: string;
  /** Rolls back the deployment in progress rather than starting a rollback deployment. */
  ofActiveDeployment: boolean;
}

/**
 * During a running or paused deployment `POST …/rollback` rolls that deployment back
 * (docs/deployments.md); a pending one accepts only abort. Otherwise it starts a rollback
 * deployment of the previous successful release.
 */
export function rollbackAvailability(env: Environment): RollbackAvailability {
  const active = inProgress(env);
  if (active) {
    // The summary does not say what ran before, and `live` may already be the new release.
    const base = { label: 'Roll back deployment', ofActiveDeployment: true, version: null };
    if (!active.actions.includes('rollback')) {
      return {
        ...base,
        disabled: true,
        transient: true,
        hint:
          active.status === 'pending'
            ? `The ${active.strategy} deployment of ${active.version} has not started yet: abort it from its page instead.`
            : `The ${active.strategy} deployment of ${active.version} is already returning to the release before it.`,
      };
    }
    return {
      ...base,
      disabled: false,
      hint: `Stop the ${active.strategy} deployment of ${active.version} and return ${env.name} to the release that ran before it.`,
    };
  }
  const label = 'Rollback';
  if (!env.live) {
    return {
      disabled: true,
      hint: 'Nothing is live to roll back.',
      version: null,
      label,
      ofActiveDeployment: false,
    };
  }
  const version = env.previous?.version ?? null;
  return {
    label,
    ofActiveDeployment: false,
    disabled: false,
    hint: version
      ? `Return ${env.name} from ${env.live.version} to ${version}.`
      : `Return ${env.name} to the previous successful release.`,
    version,
  };
}
