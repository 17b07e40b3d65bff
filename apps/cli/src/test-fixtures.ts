import type { Deployment, Environment } from '@qubot/api-contract';
// The server's own views over a real packages/core state machine (apps/api view-fixtures.ts), so
// fixtures carry the shape the API really sends; a test changes only what a later view changes.
import { deploymentFixture, environmentFixture } from '../../api/src/views/view-fixtures.ts';

export const DEPLOYMENT_ID = '0b5c0000-0000-4000-8000-000000000001';

/**
 * A blue-green deployment of 1.2.3 over 1.2.2 (one replica) by `ci`, as GET /deployments/:id
 * answers while its new instance is being health-checked (step 2 of 7 running).
 */
export function deployment(over: Partial<Deployment> = {}): Deployment {
  const base = deploymentFixture({
    id: DEPLOYMENT_ID,
    actor: 'ci',
    input: { strategy: 'blue-green', version: '1.2.3', fromVersion: '1.2.2', replicas: 1 },
    drive: (sim) => {
      sim.responder = (cmd) => (cmd.kind === 'waitHealthy' ? null : 'default');
      sim.start().run({ timers: false });
    },
  });
  return { ...base, ...over };
}

/** Staging with 1.2.2 live on blue (one replica) and nothing in progress. */
export function environment(over: Partial<Environment> = {}): Environment {
  return {
    ...environmentFixture({
      name: 'staging',
      position: 1,
      replicas: 1,
      live: { version: '1.2.2', color: 'blue' },
    }),
    ...over,
  };
}

/** The `activeDeployment` of an environment where a canary of 1.2.3 waits at its first held step. */
export function activeCanary(): NonNullable<Environment['activeDeployment']> {
  const env = environmentFixture({
    name: 'production',
    protected: true,
    replicas: 1,
    live: { version: '1.2.2', color: 'blue' },
    active: {
      input: { strategy: 'canary', version: '1.2.3', options: { stepDurationSeconds: 'manual' } },
      drive: (sim) => sim.start().run({ timers: false }),
    },
  });
  if (!env.activeDeployment) throw new Error('the canary is not in progress');
  return env.activeDeployment;
}
