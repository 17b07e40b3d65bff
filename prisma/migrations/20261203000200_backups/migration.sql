-- Backups and restore drills (docs/backup.md): what the dashboard and /metrics show.
-- AlterTable
ALTER TABLE "backups" ALTER COLUMN "id" SET DATA TYPE TEXT;

-- AlterTable
ALTER TABLE "backups" ADD COLUMN     "duration_ms" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "migration" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "rows" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "verify_error" TEXT,
ADD COLUMN     "verify_kind" TEXT,
ADD COLUMN     "verify_ms" INTEGER;

-- CreateIndex
CREATE INDEX "backups_created_at_idx" ON "backups"("created_at" DESC);

-- CreateIndex
CREATE INDEX "backups_verified_at_idx" ON "backups"("verified_at" DESC);
