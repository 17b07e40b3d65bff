-- The runtime driver seam (issue 12): each instance's address is the driver's answer, stored on
-- the row (instances before this ran on the local driver, on 127.0.0.1); the smoke check's path
-- and version header are the application's settings (Qubot-One's header is x-qubot-version);
-- per-instance limits and OOM kills are recorded.

-- AlterEnum
ALTER TYPE "InstanceStatus" ADD VALUE 'oom_killed';

-- AlterTable
ALTER TABLE "applications" ADD COLUMN     "smoke_path" TEXT NOT NULL DEFAULT '/',
ADD COLUMN     "version_header" TEXT;
UPDATE "applications" SET "version_header" = 'x-qubot-version' WHERE "name" = 'qubot-one';

-- AlterTable
ALTER TABLE "instances" ADD COLUMN     "cpu_percent" INTEGER,
ADD COLUMN     "host" TEXT NOT NULL DEFAULT '127.0.0.1',
ADD COLUMN     "last_oom" JSONB,
ADD COLUMN     "memory_mb" INTEGER,
ADD COLUMN     "oom_kills" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "instances" ALTER COLUMN "host" DROP DEFAULT;

-- Qubot: instances_live_idx now also holds instances killed by their memory limit (their supervisor
-- starts them again). Written as "not over" because a value added to an enum cannot be named in
-- the transaction that adds it; queries still list the live statuses, which PostgreSQL proves to
-- imply this predicate.
DROP INDEX "instances_live_idx";
CREATE INDEX "instances_live_idx" ON "instances" ("environment_id", "status")
  WHERE "status" NOT IN ('stopped', 'crashed');
