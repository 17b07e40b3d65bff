-- AlterTable
ALTER TABLE "deployments" ADD COLUMN     "traffic_counter" JSONB;

-- AlterTable
ALTER TABLE "environments" ADD COLUMN     "router_control_port" INTEGER;

