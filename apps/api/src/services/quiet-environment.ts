// Settings that move where an environment's instances run or how its traffic is routed (traffic
// provider, placement, runtime target) may change only while nothing is moving there: a
// deployment in progress (409 `active_deployment`) or, where asked, one that still has work to do
// such as a colour kept warm for rollback (409 `open_work`). Called inside the transaction that
// holds the environment's row lock, so no deployment can start between the check and the change.
import type { DeploymentWriteRepo, Tx } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';

export async function requireQuietEnvironment(
  writes: Pick<DeploymentWriteRepo, 'findActive' | 'hasOpenWork'>,
  tx: Tx,
  env: { id: string; name: string },
  change: { field: string; what: string; openWork: boolean },
): Promise<void> {
  const active = await writes.findActive(env.id, tx);
  if (active) {
    throw AppError.conflict(
      `a deployment is in progress in ${env.name} (${active.id}); change ${change.what} once it is finished`,
      { field: change.field, reason: 'active_deployment', activeDeploymentId: active.id },
    );
  }
  if (change.openWork && (await writes.hasOpenWork(env.id, tx))) {
    throw AppError.conflict(
      `a deployment in ${env.name} still has work to do (e.g. its rollback window keeps the old colour warm); change ${change.what} once it is done`,
      { field: change.field, reason: 'open_work' },
    );
  }
}
