import type { DeploymentProgress } from '@qubot/api-contract';

/**
 * A deployment's progress as packages/core `initialState` reports it for a first deployment of
 * `version` (nothing live, blue idle → green new), with `overrides` applied. For tests.
 */
export function progressFixture(
  version: string,
  overrides: Partial<DeploymentProgress> = {},
): DeploymentProgress {
  return {
    instancesReady: 0,
    instancesDesired: 2,
    weights: { blue: 100, green: 0 },
    activeColor: 'blue',
    pools: {
      blue: { version: '1.0.0', instances: 2, ready: 2 },
      green: { version, instances: 0, ready: 0 },
    },
    currentStep: null,
    totalSteps: 4,
    holdUntil: null,
    ...overrides,
  };
}
