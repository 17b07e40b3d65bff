// The promotion order and the verification gate, shared by every path that puts a release into
// an environment (deploy, promote, API tokens) and by the promotion preview that warns about it.
import { canPromote, previousEnvironment } from '@qubot/core';
import type { Db } from '@qubot/db';

/** A release's latest result in the previous environment. */
export interface PromotionVerification {
  environment: string;
  version: string;
  /** `none`: never finished there; `rolled_back`: it was rolled back there, or a later rollback left it. */
  result: 'none' | 'succeeded' | 'failed' | 'rolled_back' | 'aborted';
  deploymentId: string | null;
  finishedAt: string | null;
  /** True when promoting into the target (a protected environment) is refused without an override. */
  blocking: boolean;
  /** A sentence for the promote dialog; null when the latest result is a success. */
  message: string | null;
}

export interface PromotionGate {
  previous: string | null;
  verification: PromotionVerification | null;
  /** Why the release may not enter the environment (without an admin override), or null. */
  blocked: { code: 'not_succeeded_in_previous' | 'not_verified'; message: string } | null;
}

export async function promotionGate(
  db: Db,
  target: {
    applicationId: string;
    environment: { id: string; name: string; protected: boolean };
    release: { id: string; version: string };
  },
): Promise<PromotionGate> {
  const pipeline = await db.environment.findMany({
    where: { applicationId: target.applicationId },
    select: { id: true, name: true, position: true },
    orderBy: { position: 'asc' },
  });
  const previousName = previousEnvironment(pipeline, target.environment.name);
  const previous = pipeline.find((e) => e.name === previousName);
  if (!previous) return { previous: null, verification: null, blocked: null };

  // Coming back to a release that was live here before is a rollback, always allowed.
  const wasLiveHere = await db.deployment.findFirst({
    where: { releaseId: target.release.id, environmentId: target.environment.id, status: 'succeeded' },
    select: { id: true },
  });
  const [latest, leftBy, succeeded] = await Promise.all([
    db.deployment.findFirst({
      where: { releaseId: target.release.id, environmentId: previous.id, finishedAt: { not: null } },
      orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }],
      select: { id: true, status: true, finishedAt: true },
    }),
    // A rollback that moved the previous environment away from this release.
    db.deployment.findFirst({
      where: {
        fromReleaseId: target.release.id,
        environmentId: previous.id,
        kind: 'rollback',
        status: 'succeeded',
      },
      orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }],
      select: { id: true, finishedAt: true },
    }),
    db.deployment.findFirst({
      where: { releaseId: target.release.id, environmentId: previous.id, status: 'succeeded' },
      select: { id: true },
    }),
  ]);
  let result: PromotionVerification['result'] = latest
    ? (latest.status as PromotionVerification['result'])
    : 'none';
  let deploymentId = latest?.id ?? null;
  let finishedAt = latest?.finishedAt ?? null;
  if (leftBy?.finishedAt && (!finishedAt || leftBy.finishedAt > finishedAt)) {
    result = 'rolled_back';
    deploymentId = leftBy.id;
    finishedAt = leftBy.finishedAt;
  }
  const v = target.release.version;
  const failedThere = result === 'failed' || result === 'rolled_back' || result === 'aborted';
  const said: Record<PromotionVerification['result'], string> = {
    none: `${v} has not run in ${previous.name}`,
    succeeded: '',
    failed: `${v} failed in ${previous.name}`,
    rolled_back: `${v} was rolled back in ${previous.name}`,
    aborted: `${v} was aborted in ${previous.name}`,
  };
  const verification: PromotionVerification = {
    environment: previous.name,
    version: v,
    result,
    deploymentId,
    finishedAt: finishedAt?.toISOString() ?? null,
    blocking: failedThere && target.environment.protected && !wasLiveHere,
    message: result === 'succeeded' ? null : `${said[result]} (its latest result there)`,
  };
  if (wasLiveHere) return { previous: previous.name, verification, blocked: null };

  const order = canPromote(
    pipeline,
    { version: v, succeededIn: succeeded ? [previous.name] : [] },
    target.environment.name,
  );
  if (!order.allowed) {
    return {
      previous: previous.name,
      verification,
      blocked: {
        code: 'not_succeeded_in_previous',
        message: `promotion order: ${order.message}`,
      },
    };
  }
  if (verification.blocking) {
    return {
      previous: previous.name,
      verification,
      blocked: {
        code: 'not_verified',
        message: `verification gate: ${said[result]} (its latest result there), and ${target.environment.name} is protected`,
      },
    };
  }
  return { previous: previous.name, verification, blocked: null };
}
