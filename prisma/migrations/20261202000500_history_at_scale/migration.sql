-- History at scale (docs/operations.md "History at scale"): every list is a keyset page,
-- newest first, so every filter gets an index that is the filter's columns followed by the
-- page order (created_at/at DESC, id DESC) — the scan stops after one page however long the
-- history is. The unfiltered deployment list had no such index at all.

-- DropIndex
DROP INDEX "audit_entries_action_idx";

-- DropIndex
DROP INDEX "audit_entries_actor_idx";

-- DropIndex
DROP INDEX "audit_entries_at_id_idx";

-- DropIndex
DROP INDEX "deployments_application_id_created_at_id_idx";

-- DropIndex
DROP INDEX "deployments_environment_id_created_at_id_idx";

-- DropIndex
DROP INDEX "deployments_status_idx";

-- CreateIndex
CREATE INDEX "audit_entries_at_id_idx" ON "audit_entries"("at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_entries_actor_at_id_idx" ON "audit_entries"("actor", "at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_entries_action_at_id_idx" ON "audit_entries"("action", "at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_entries_target_at_id_idx" ON "audit_entries"("target", "at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "deployments_created_at_id_idx" ON "deployments"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "deployments_environment_id_created_at_id_idx" ON "deployments"("environment_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "deployments_application_id_created_at_id_idx" ON "deployments"("application_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "deployments_status_created_at_id_idx" ON "deployments"("status", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "deployments_environment_id_finished_at_id_idx" ON "deployments"("environment_id", "finished_at" DESC, "id" DESC);


-- The orchestrator's open work (start-up resume, the sweep every few seconds, superseding a
-- cleanup): deployments still active, and succeeded ones whose strategy is still cleaning up
-- (e.g. the blue-green rollback window). A partial index holds only those few rows, so those
-- queries never read finished history. The queries (packages/db/src/repos/deployment-write-repo.ts,
-- OPEN_WORK) must repeat this predicate exactly for PostgreSQL to use the index.
CREATE INDEX "deployments_open_work_idx" ON "deployments" ("environment_id")
  WHERE "status" IN ('pending', 'running', 'paused')
     OR ("status" = 'succeeded' AND ("state" ->> 'phase') = 'cleanup');
