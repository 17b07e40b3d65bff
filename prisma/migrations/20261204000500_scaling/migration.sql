-- Live scaling and autoscaling (docs/scaling.md): a `scale` deployment kind, the per-environment
-- autoscaling policy and the record of its decisions (keyset-paged per environment).
ALTER TYPE "DeploymentKind" ADD VALUE 'scale';

-- CreateTable
CREATE TABLE "autoscale_policies" (
    "environment_id" UUID NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "min_replicas" INTEGER NOT NULL,
    "max_replicas" INTEGER NOT NULL,
    "metric" TEXT NOT NULL,
    "target" DOUBLE PRECISION NOT NULL,
    "cooldown_seconds" INTEGER NOT NULL DEFAULT 60,
    "last_scale_at" TIMESTAMPTZ(3),
    "last_decision_at" TIMESTAMPTZ(3),
    "last_decision_key" TEXT,
    "updated_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "autoscale_policies_pkey" PRIMARY KEY ("environment_id")
);

-- CreateTable
CREATE TABLE "scaling_decisions" (
    "id" BIGSERIAL NOT NULL,
    "environment_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" TEXT NOT NULL,
    "from_replicas" INTEGER NOT NULL,
    "to_replicas" INTEGER NOT NULL,
    "metric" TEXT NOT NULL,
    "measured" DOUBLE PRECISION,
    "target" DOUBLE PRECISION NOT NULL,
    "reason" TEXT NOT NULL,
    "deployment_id" UUID,

    CONSTRAINT "scaling_decisions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "autoscale_policies_enabled_idx" ON "autoscale_policies"("enabled");

-- CreateIndex
CREATE INDEX "scaling_decisions_environment_id_at_id_idx" ON "scaling_decisions"("environment_id", "at" DESC, "id" DESC);

-- AddForeignKey
ALTER TABLE "autoscale_policies" ADD CONSTRAINT "autoscale_policies_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scaling_decisions" ADD CONSTRAINT "scaling_decisions_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
