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

/**
 * Append `instance.oom_killed`: an instance was killed by its memory limit, with the figures (the
 * event log's record; the environment's view shows the instance as `oom_killed` beside it).
 */
export async function appendInstanceOomKilled(
  tx: Tx,
  e: {
    environmentId: string;
    instanceId: string;
    pool: string;
    version: string;
    oomKills: number;
    oom: { at: string; limitBytes: number | null; peakBytes: number | null };
  },
): Promise<void> {
  const env = await tx.environment.findUnique({
    where: { id: e.environmentId },
    select: { name: true, applicationId: true, application: { select: { name: true } } },
  });
  if (!env) return;
  await appendEvent(tx, {
    type: 'instance.oom_killed',
    applicationId: env.applicationId,
    environmentId: e.environmentId,
    payload: {
      application: env.application.name,
      environment: env.name,
      instanceId: e.instanceId,
      pool: e.pool,
      version: e.version,
      oomKills: e.oomKills,
      limitBytes: e.oom.limitBytes,
      peakBytes: e.oom.peakBytes,
      at: e.oom.at,
    },
  });
}
