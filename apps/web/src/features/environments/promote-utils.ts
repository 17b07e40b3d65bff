import type { StrategyName } from '@qubot/api-contract';

/** The strategies a person can choose, for every deploy and promote form. */
export const STRATEGY_OPTIONS: { value: StrategyName; label: string }[] = [
  { value: 'blue-green', label: 'Blue-green (switch when ready)' },
  { value: 'rolling', label: 'Rolling (batches)' },
  { value: 'canary', label: 'Canary (traffic by steps)' },
];

export function promoteStepTitle(step: 'preview' | 'confirm', env: string): string {
  return step === 'preview' ? `Promote to ${env}: what would ship` : `Promote to ${env}?`;
}
