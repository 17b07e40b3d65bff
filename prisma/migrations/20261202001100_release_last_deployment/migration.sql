-- The release list shows each release's newest deployment per environment. It loaded every
-- deployment of every release on the page; now one index probe per (release, environment)
-- answers it (packages/db/src/repos/release-repo.ts `withLastDeployments`).

-- CreateIndex
CREATE INDEX "deployments_release_id_environment_id_created_at_id_idx" ON "deployments"("release_id", "environment_id", "created_at" DESC, "id" DESC);
