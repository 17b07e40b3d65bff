// The promotion order and the verification gate, shared by every path that puts a release into
// an environment (deploy, promote, API tokens) and by the promotion preview that warns about it.
import { canPromote, previousEnvironment } from '@qubot/core';
import type { DeploymentRepo, EnvironmentRepo, Tx } from '@qubot/db';

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

export interface PromotionGateReads {
  environments: Pick<EnvironmentRepo, 'pipeline'>;
  deployments: Pick<DeploymentRepo, 'promotionFacts'>;
}

export async function promotionGate(
  reads: PromotionGateReads,
  target: {
    applicationId: string;
    environment: { id: string; name: string; protected: boolean };
    release: { id: string; version: string };
  },
  tx?: Tx,
): Promise<PromotionGate> {
  const pipeline = await reads.environments.pipeline(target.applicationId, tx);
  const previousName = previousEnvironment(pipeline, target.environment.name);
  const previous = pipeline.find((e) => e.name === previousName);
  if (!previous) return { previous: null, verification: null, blocked: null };

  const { wasLiveHere, latest, leftBy, succeeded } = await reads.deployments.promotionFacts(
    target.release.id,
    target.environment.id,
    previous.id,
    tx,
  );
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
