import type { DeploymentEta } from '@qubot/api-contract';

/** Fewer earlier deployments than this and a guess would mislead more than it helps. */
export const MIN_ETA_SAMPLES = 3;

/** Nearest-rank percentile of an ascending list (p in 0..1); null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/**
 * How long a deployment should take, from the durations (seconds) of earlier succeeded ones with
 * the same strategy in the same environment: their p90, counted from when this one started (or
 * was created, before it starts). Pure: the caller passes the history.
 */
export function computeEta(durationsSeconds: readonly number[], startedAt: Date): DeploymentEta | null {
  const usable = durationsSeconds.filter((d) => Number.isFinite(d) && d >= 0).sort((a, b) => a - b);
  if (usable.length < MIN_ETA_SAMPLES) return null;
  const p90 = percentile(usable, 0.9) as number;
  return {
    p90Seconds: Math.round(p90 * 10) / 10,
    samples: usable.length,
    expectedFinishAt: new Date(startedAt.getTime() + p90 * 1000).toISOString(),
  };
}
