import type { DeploymentProgress } from '@qubot/api-contract';
import { deploymentFixture } from '../../../../api/src/views/view-fixtures.ts';

/**
 * A deployment's progress as the server sends it (views.ts over packages/core's `initialState`)
 * for a canary of `version` over 1.0.0 on blue (two replicas) at its first traffic step, with
 * `overrides` applied.
 * For tests.
 */
export function progressFixture(
  version: string,
  overrides: Partial<DeploymentProgress> = {},
): DeploymentProgress {
  const { progress } = deploymentFixture({
    input: { strategy: 'canary', version, fromVersion: '1.0.0', activeColor: 'blue', replicas: 2 },
    drive: (sim) => sim.start().run({ timers: false }),
  });
  return { ...progress, ...overrides };
}
