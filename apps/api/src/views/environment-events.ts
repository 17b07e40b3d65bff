import { appendEvent, createEnvironmentRepo, type Prisma, type Tx } from '@qubot/db';
import { environmentView } from './views.ts';

/**
 * Append `environment.updated` with the environment's view, inside the transaction that changed
 * it. Every change to what the pipeline shows commits one (the view cache and the live dashboards
 * rely on it: docs/events.md).
 */
export async function appendEnvironmentUpdated(
  tx: Tx,
  env: { id: string; applicationId: string; name: string },
): Promise<void> {
  const view = await createEnvironmentRepo(tx).findView(env.applicationId, env.name, tx);
  if (!view) return;
  await appendEvent(tx, {
    type: 'environment.updated',
    applicationId: env.applicationId,
    environmentId: env.id,
    payload: environmentView(view) as unknown as Prisma.InputJsonValue,
  });
}
