-- Configuration drift (docs/configuration.md "Drift"): what each instance was started with, and
-- the keyed hash of each configuration version to compare it with.
ALTER TABLE "instances" ADD COLUMN "config_version" INTEGER,
ADD COLUMN "config_hash" TEXT;
ALTER TABLE "config_versions" ADD COLUMN "config_hash" TEXT;

-- Deployment hooks (docs/hooks.md): the job launcher per application, the hooks per environment,
-- and every hook run.
ALTER TABLE "applications" ADD COLUMN "job_launcher" TEXT;
ALTER TABLE "environments" ADD COLUMN "hooks" JSONB NOT NULL DEFAULT '{}';

CREATE TABLE "hook_runs" (
    "id" UUID NOT NULL,
    "deployment_id" UUID NOT NULL,
    "phase" TEXT NOT NULL,
    "job" TEXT NOT NULL,
    "command_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "pid" INTEGER,
    "exit_code" INTEGER,
    "message" TEXT,
    "log_path" TEXT,
    "timeout_ms" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "hook_runs_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "hook_runs_deployment_id_command_id_key" ON "hook_runs"("deployment_id", "command_id");
CREATE INDEX "hook_runs_deployment_id_started_at_idx" ON "hook_runs"("deployment_id", "started_at");

ALTER TABLE "hook_runs" ADD CONSTRAINT "hook_runs_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
