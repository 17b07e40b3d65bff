-- AlterTable
ALTER TABLE "applications" ADD COLUMN     "pod_template" JSONB;

-- AlterTable
-- runtime_target is shared with the hosts runtime (i12): whichever migration runs first adds it.
ALTER TABLE "environments" ADD COLUMN IF NOT EXISTS "runtime_target" TEXT NOT NULL DEFAULT 'local';
ALTER TABLE "environments" ADD COLUMN     "kubernetes" JSONB;
