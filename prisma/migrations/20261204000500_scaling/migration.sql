-- Live scaling and autoscaling (docs/scaling.md): a `scale` deployment kind, the per-environment
-- autoscaling policy and the record of its decisions (keyset-paged per environment).
ALTER TYPE "DeploymentKind" ADD VALUE 'scale';

-- CreateTable
CREATE TABLE "autoscale_policies" (
    "environment_id" UUID NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "min_replicas" INTEGER NOT NULL,
    "max_replicas" INTEGER NOT NULL,
    "metric" TEXT NOT NULL,
    "target" DOUBLE PRECISION NOT NULL,
    "cooldown_seconds" INTEGER NOT NULL DEFAULT 60,
    "last_scale_at" TIMESTAMPTZ(3),
    "last_decision_at" TIMESTAMPTZ(3),
    "last_decision_key" TEXT,
    "updated_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "autoscale_policies_pkey" PRIMARY KEY ("environment_id")
);

-- CreateTable
CREATE TABLE "scaling_decisions" (
    "id" BIGSERIAL NOT NULL,
    "environment_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" TEXT NOT NULL,
    "from_replicas" INTEGER NOT NULL,
    "to_replicas" INTEGER NOT NULL,
    "metric" TEXT NOT NULL,
    "measured" DOUBLE PRECISION,
    "target" DOUBLE PRECISION NOT NULL,
    "reason" TEXT NOT NULL,
    "deployment_id" UUID,

    CONSTRAINT "scaling_decisions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "autoscale_policies_enabled_idx" ON "autoscale_policies"("enabled");

-- CreateIndex
CREATE INDEX "scaling_decisions_environment_id_at_id_idx" ON "scaling_decisions"("environment_id", "at" DESC, "id" DESC);

-- AddForeignKey
ALTER TABLE "autoscale_policies" ADD CONSTRAINT "autoscale_policies_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scaling_decisions" ADD CONSTRAINT "scaling_decisions_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Qubot: the deployment rollup (migration 20261203000000) leaves scales out of DORA.
CREATE OR REPLACE FUNCTION qubot_deployment_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  finished timestamptz;
  secs float8;
  idx int;
  buckets bigint[];
  d date;
  lead float8;
  since timestamptz;
  trig text;
  last_at text;
  r record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO deployment_counts (environment_id, strategy, kind, result, count)
    VALUES (NEW.environment_id, NEW.strategy, NEW.kind, 'started', 1)
    ON CONFLICT (environment_id, strategy, kind, result)
      DO UPDATE SET count = deployment_counts.count + 1;
    IF NEW.kind = 'rollback' THEN
      PERFORM qubot_count('rollback', NEW.environment_id, 'manual', 1);
    END IF;
    RETURN NULL;
  END IF;

  -- New analysis measurements: results stamped later than every earlier one (the list is
  -- bounded, so its length says nothing).
  IF NEW.analysis IS DISTINCT FROM OLD.analysis AND jsonb_typeof(NEW.analysis) = 'array' THEN
    SELECT max(x ->> 'at') INTO last_at FROM jsonb_array_elements(OLD.analysis) x;
    FOR r IN
      SELECT e ->> 'metric' AS metric, e ->> 'verdict' AS verdict, e ->> 'at' AS at
      FROM jsonb_array_elements(NEW.analysis) e
      WHERE last_at IS NULL OR (e ->> 'at') > last_at
    LOOP
      PERFORM qubot_count('analysis_check', NEW.environment_id, coalesce(r.metric, ''), 1);
      IF r.verdict = 'failed' THEN
        PERFORM qubot_count('analysis_check_failed', NEW.environment_id, coalesce(r.metric, ''), 1);
      END IF;
    END LOOP;
    PERFORM qubot_count('analysis_run', NEW.environment_id, '', count(DISTINCT e ->> 'at'))
    FROM jsonb_array_elements(NEW.analysis) e
    WHERE last_at IS NULL OR (e ->> 'at') > last_at
    HAVING count(DISTINCT e ->> 'at') > 0;
  END IF;

  IF OLD.status IN ('pending', 'running', 'paused')
     AND NEW.status IN ('succeeded', 'failed', 'rolled_back', 'aborted') THEN
    finished := coalesce(NEW.finished_at, now());
    secs := greatest(0, extract(epoch FROM finished - coalesce(NEW.started_at, NEW.created_at)));
    idx := 1 + (SELECT count(*) FROM unnest(qubot_duration_bounds()) b WHERE b < secs);
    buckets := array_fill(0::bigint, ARRAY[cardinality(qubot_duration_bounds()) + 1]);
    buckets[idx] := 1;
    INSERT INTO deployment_counts AS c
      (environment_id, strategy, kind, result, count, duration_sum, duration_buckets)
    VALUES (NEW.environment_id, NEW.strategy, NEW.kind, NEW.status::text, 1, secs, buckets)
    ON CONFLICT (environment_id, strategy, kind, result) DO UPDATE SET
      count = c.count + 1,
      duration_sum = c.duration_sum + secs,
      duration_buckets[idx] = coalesce(c.duration_buckets[idx], 0) + 1;

    -- Qubot: a scale is counted above (by kind) but is no change of release: it stays out of
    -- the rollback counter and the DORA figures.
    IF NEW.kind = 'scale' THEN
      RETURN NULL;
    END IF;
    IF NEW.status = 'rolled_back' THEN
      trig := coalesce(NEW.state -> 'outcome' ->> 'trigger', NEW.state -> 'rollback' ->> 'trigger');
      PERFORM qubot_count('rollback', NEW.environment_id,
        CASE WHEN trig IN ('failure', 'timeout') THEN 'automatic' ELSE 'manual' END, 1);
    END IF;

    d := (finished AT TIME ZONE 'UTC')::date;
    INSERT INTO deployment_daily (environment_id, application_id, day)
    VALUES (NEW.environment_id, NEW.application_id, d)
    ON CONFLICT (environment_id, day) DO NOTHING;
    INSERT INTO dora_state (environment_id) VALUES (NEW.environment_id)
    ON CONFLICT (environment_id) DO NOTHING;
    SELECT failing_since INTO since FROM dora_state WHERE environment_id = NEW.environment_id FOR UPDATE;

    IF NEW.status = 'succeeded' THEN
      lead := NULL;
      IF NEW.kind <> 'rollback' THEN
        SELECT greatest(0, extract(epoch FROM finished - rel.created_at)) INTO lead
        FROM releases rel WHERE rel.id = NEW.release_id;
      END IF;
      UPDATE deployment_daily SET
        succeeded = succeeded + 1,
        lead_time_sum = lead_time_sum + coalesce(lead, 0),
        lead_time_count = lead_time_count + CASE WHEN lead IS NULL THEN 0 ELSE 1 END,
        restore_sum = restore_sum + CASE WHEN since IS NULL THEN 0
          ELSE greatest(0, extract(epoch FROM finished - since)) END,
        restore_count = restore_count + CASE WHEN since IS NULL THEN 0 ELSE 1 END
      WHERE environment_id = NEW.environment_id AND day = d;
      IF since IS NOT NULL THEN
        UPDATE dora_state SET failing_since = NULL WHERE environment_id = NEW.environment_id;
      END IF;
    ELSIF NEW.status IN ('failed', 'rolled_back') THEN
      UPDATE deployment_daily SET failed = failed + 1
      WHERE environment_id = NEW.environment_id AND day = d;
      UPDATE dora_state SET failing_since = coalesce(failing_since, finished)
      WHERE environment_id = NEW.environment_id;
    ELSE
      UPDATE deployment_daily SET aborted = aborted + 1
      WHERE environment_id = NEW.environment_id AND day = d;
    END IF;
  END IF;
  RETURN NULL;
END $$;
