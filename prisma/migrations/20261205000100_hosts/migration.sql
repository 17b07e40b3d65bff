-- AlterEnum
ALTER TYPE "InstanceStatus" ADD VALUE 'lost';

-- AlterTable
ALTER TABLE "environments" ADD COLUMN     "placement" TEXT NOT NULL DEFAULT 'local';

-- AlterTable
ALTER TABLE "instances" ADD COLUMN     "host_id" UUID;

-- CreateTable
CREATE TABLE "hosts" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "credential_hash" TEXT NOT NULL,
    "credential_prefix" TEXT NOT NULL,
    "scheduling" TEXT NOT NULL DEFAULT 'schedulable',
    "capacity" INTEGER NOT NULL DEFAULT 8,
    "agent_version" TEXT,
    "cpu_percent" DOUBLE PRECISION,
    "memory_used_bytes" BIGINT,
    "memory_total_bytes" BIGINT,
    "connected" BOOLEAN NOT NULL DEFAULT false,
    "last_seen_at" TIMESTAMPTZ(3),
    "lost_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "enrolled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "hosts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "enrolment_tokens" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_by_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "host_id" UUID,
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "enrolment_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "hosts_name_key" ON "hosts"("name");

-- CreateIndex
CREATE UNIQUE INDEX "hosts_credential_hash_key" ON "hosts"("credential_hash");

-- CreateIndex
CREATE UNIQUE INDEX "enrolment_tokens_token_hash_key" ON "enrolment_tokens"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "enrolment_tokens_host_id_key" ON "enrolment_tokens"("host_id");

-- CreateIndex
CREATE INDEX "enrolment_tokens_created_at_idx" ON "enrolment_tokens"("created_at");

-- CreateIndex
CREATE INDEX "instances_host_id_status_idx" ON "instances"("host_id", "status");

-- AddForeignKey
ALTER TABLE "instances" ADD CONSTRAINT "instances_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "enrolment_tokens" ADD CONSTRAINT "enrolment_tokens_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "enrolment_tokens" ADD CONSTRAINT "enrolment_tokens_host_id_fkey" FOREIGN KEY ("host_id") REFERENCES "hosts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

