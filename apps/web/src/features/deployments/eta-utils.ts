import type { DeploymentEta } from '@qubot/api-contract';

/** "about 40 s left", "about 3 min left", or "taking longer than usual" once past the p90. */
export function etaLabel(eta: DeploymentEta | null | undefined, now: number): string | null {
  if (!eta) return null;
  const left = Math.round((Date.parse(eta.expectedFinishAt) - now) / 1000);
  if (left <= 0) return 'taking longer than usual';
  if (left < 90) return `about ${left} s left`;
  return `about ${Math.round(left / 60)} min left`;
}

/** Where the ETA comes from, for a tooltip/description. */
export function etaBasis(eta: DeploymentEta): string {
  return `p90 of ${eta.samples} earlier succeeded deployments like this one: ${Math.round(eta.p90Seconds)} s`;
}
