// Pure decisions the API makes before it creates a deployment (DESIGN §3 Rollback, Promote).
import { type Color, type DeploymentStatus, otherColor } from './types.ts';

export interface PoolSnapshot {
  version: string | null;
  instances: number;
  healthy: number;
}

export interface EnvironmentSnapshot {
  activeColor: Color | null;
  liveVersion: string | null;
  replicas: number;
  pools: Record<Color, PoolSnapshot>;
}

export interface DeploymentRecord {
  id: string;
  version: string;
  status: DeploymentStatus;
  /** ISO time; used to order the history. */
  finishedAt: string | null;
}

export type RollbackPlan =
  | {
      ok: true;
      /** `switch-back`: the idle colour still runs the target warm, so the new deployment only moves traffic. */
      mode: 'switch-back' | 'redeploy';
      version: string;
      /** Deployment whose release is the target, when the target comes from the history. */
      fromDeploymentId: string | null;
      strategy: 'blue-green';
      /** Options for the rollback deployment (merge over the environment's defaults). */
      options: { autoSwitch: true; smokeCheck: false };
      /** Pass as DeploymentInput.idlePool so the warm instances are reused. */
      idlePool: { version: string | null; instances: number };
    }
  | { ok: false; code: 'nothing_to_roll_back_to' | 'already_live'; message: string };

/**
 * Decide how to roll an environment back: to `target` when named, else to the release of the
 * most recent succeeded deployment that is not the live one. The result is always a new
 * deployment (DESIGN: a rollback is recorded as its own deployment), fast when the old colour is warm.
 */
export function planRollback(
  env: EnvironmentSnapshot,
  history: readonly DeploymentRecord[],
  target?: string | null,
): RollbackPlan {
  const succeeded = history
    .filter((d) => d.status === 'succeeded')
    .sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''));
  let version: string;
  let fromDeploymentId: string | null = null;
  if (target) {
    if (target === env.liveVersion) {
      return { ok: false, code: 'already_live', message: `${target} is already live` };
    }
    version = target;
    fromDeploymentId = succeeded.find((d) => d.version === target)?.id ?? null;
  } else {
    const previous = succeeded.find((d) => d.version !== env.liveVersion);
    if (!previous) {
      return {
        ok: false,
        code: 'nothing_to_roll_back_to',
        message: 'no earlier successful release in this environment',
      };
    }
    version = previous.version;
    fromDeploymentId = previous.id;
  }
  const idleColor: Color = env.activeColor === null ? 'blue' : otherColor(env.activeColor);
  const idle = env.pools[idleColor];
  const warm = idle.version === version && idle.instances >= env.replicas && idle.healthy >= env.replicas;
  return {
    ok: true,
    mode: warm ? 'switch-back' : 'redeploy',
    version,
    fromDeploymentId,
    strategy: 'blue-green',
    options: { autoSwitch: true, smokeCheck: false },
    idlePool: { version: idle.version, instances: idle.instances },
  };
}

export interface PipelineEnvironment {
  name: string;
  position: number;
}

export interface ReleaseRecord {
  version: string;
  /** Environments where a deployment of this release succeeded. */
  succeededIn: readonly string[];
}

export type PromotionCheck =
  | { allowed: true; previous: string | null }
  | {
      allowed: false;
      code: 'unknown_environment' | 'not_succeeded_in_previous';
      previous: string | null;
      message: string;
    };

/** The environment before `env` in the pipeline order, or null for the first one. */
export function previousEnvironment(pipeline: readonly PipelineEnvironment[], env: string): string | null {
  const ordered = [...pipeline].sort((a, b) => a.position - b.position);
  const i = ordered.findIndex((e) => e.name === env);
  return i > 0 ? (ordered[i - 1]?.name ?? null) : null;
}

/**
 * Promotion order: a release may enter an environment only after succeeding in the one before it.
 * Admin override is the caller's decision (with a reason, audited).
 */
export function canPromote(
  pipeline: readonly PipelineEnvironment[],
  release: ReleaseRecord,
  targetEnv: string,
): PromotionCheck {
  if (!pipeline.some((e) => e.name === targetEnv)) {
    return {
      allowed: false,
      code: 'unknown_environment',
      previous: null,
      message: `${targetEnv} is not in the pipeline`,
    };
  }
  const previous = previousEnvironment(pipeline, targetEnv);
  if (previous === null || release.succeededIn.includes(previous)) return { allowed: true, previous };
  return {
    allowed: false,
    code: 'not_succeeded_in_previous',
    previous,
    message: `${release.version} has not succeeded in ${previous}, which comes before ${targetEnv}`,
  };
}
