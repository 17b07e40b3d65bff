-- The person behind a deployment (a token acts for the user who created it): two-person approval.
ALTER TABLE "deployments" ADD COLUMN "actor_user_id" UUID;

-- A release's latest result in one environment (promotion order, verification gate).
CREATE INDEX "deployments_release_id_environment_id_finished_at_idx" ON "deployments"("release_id", "environment_id", "finished_at" DESC);

CREATE INDEX "deployments_from_release_id_environment_id_finished_at_idx" ON "deployments"("from_release_id", "environment_id", "finished_at" DESC);
