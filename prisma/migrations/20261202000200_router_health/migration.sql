-- The reconcile loop's view of each environment's traffic router (issue 8, items 2 and 3).
ALTER TABLE "environments" ADD COLUMN "router_status" TEXT,
ADD COLUMN "router_restarts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "router_outage_at" TIMESTAMPTZ(3);
