-- AlterTable
ALTER TABLE "environments" ADD COLUMN     "analysis_prometheus" JSONB;
