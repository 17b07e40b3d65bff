-- Promotion policies (docs/deployments.md "Promotion policies"): `auto_deploy` ({ enabled,
-- strategy }), which nothing read, becomes `promotion_policy`; an environment that had it enabled
-- keeps an automatic policy with the strategy it named.
ALTER TABLE "environments" RENAME COLUMN "auto_deploy" TO "promotion_policy";
UPDATE "environments"
SET "promotion_policy" = CASE
  WHEN ("promotion_policy"->>'enabled') = 'true' THEN jsonb_build_object(
    'mode', 'auto',
    'strategy', CASE WHEN "promotion_policy"->>'strategy' IN ('blue-green', 'rolling', 'canary')
                     THEN "promotion_policy"->>'strategy' ELSE 'blue-green' END,
    'soakSeconds', 600,
    'options', '{}'::jsonb,
    'paused', false)
  ELSE '{"mode":"manual"}'::jsonb END;
ALTER TABLE "environments" ALTER COLUMN "promotion_policy" SET DEFAULT '{"mode":"manual"}';

-- CreateTable
CREATE TABLE "policy_runs" (
    "id" UUID NOT NULL,
    "environment_id" UUID NOT NULL,
    "release_id" UUID NOT NULL,
    "deployment_id" UUID NOT NULL,
    "rule" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "policy_runs_deployment_id_key" ON "policy_runs"("deployment_id");

-- CreateIndex
CREATE UNIQUE INDEX "policy_runs_environment_id_release_id_key" ON "policy_runs"("environment_id", "release_id");

-- AddForeignKey
ALTER TABLE "policy_runs" ADD CONSTRAINT "policy_runs_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_runs" ADD CONSTRAINT "policy_runs_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_runs" ADD CONSTRAINT "policy_runs_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
