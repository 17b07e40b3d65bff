-- Outgoing webhooks (issue 13, docs/webhooks.md).
-- CreateTable
CREATE TABLE "webhooks" (
    "id" UUID NOT NULL,
    "application_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT[],
    "format" TEXT NOT NULL DEFAULT 'json',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "secret" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "webhooks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "webhook_id" UUID NOT NULL,
    "event_seq" BIGINT NOT NULL,
    "event_type" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_by" TEXT,
    "status_code" INTEGER,
    "latency_ms" INTEGER,
    "response_excerpt" TEXT,
    "error" TEXT,
    "redelivery_of" UUID,
    "requested_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "allow_private_targets" BOOLEAN NOT NULL DEFAULT false,
    "updated_by" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_settings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "webhooks_application_id_name_key" ON "webhooks"("application_id", "name");

-- CreateIndex
CREATE INDEX "webhook_deliveries_webhook_id_created_at_id_idx" ON "webhook_deliveries"("webhook_id", "created_at" DESC, "id" DESC);

-- AddForeignKey
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "applications"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Qubot: the delivery queue's hot query (workers claiming due deliveries) reads only open rows.
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries"("next_attempt_at")
  WHERE "status" IN ('pending', 'delivering');

-- Qubot: at most one open redelivery of a delivery at a time (two clicks → one redelivery, 409).
CREATE UNIQUE INDEX "webhook_deliveries_open_redelivery_key" ON "webhook_deliveries"("redelivery_of")
  WHERE "redelivery_of" IS NOT NULL AND "status" IN ('pending', 'delivering');

-- Qubot: a delivery is queued in the transaction that appends its event, whatever code path
-- appends it: one indexed lookup of the application's webhooks per event, never a scan of
-- history. A deployment.updated event of a deployment that waits for approval is also a
-- `deployment.approval_requested` for the webhooks that chose that type (one delivery per webhook
-- and event either way).
CREATE FUNCTION qubot_enqueue_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  approval boolean := NEW.type = 'deployment.updated'
    AND NEW.payload->>'status' = 'paused' AND NEW.payload->>'waitingFor' = 'approval';
BEGIN
  IF NEW.application_id IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO webhook_deliveries (id, webhook_id, event_seq, event_type)
  SELECT gen_random_uuid(), w.id, NEW.seq,
         CASE WHEN approval AND 'deployment.approval_requested' = ANY (w.events)
              THEN 'deployment.approval_requested' ELSE NEW.type END
    FROM webhooks w
   WHERE w.application_id = NEW.application_id
     AND w.enabled
     AND (NEW.type = ANY (w.events) OR (approval AND 'deployment.approval_requested' = ANY (w.events)));
  RETURN NULL;
END;
$$;
CREATE TRIGGER events_enqueue_webhooks AFTER INSERT ON "events"
  FOR EACH ROW EXECUTE FUNCTION qubot_enqueue_webhook_deliveries();

INSERT INTO "webhook_settings" ("id") VALUES (1);
