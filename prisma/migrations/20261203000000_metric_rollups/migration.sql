-- Metric rollups (docs/monitoring.md): the control plane's /metrics and the DORA figures read a
-- few rows per environment, never the deployment history, and every process (API or worker)
-- reads the same values, which survive restarts.
-- AlterTable
ALTER TABLE "deployments" ADD COLUMN     "waiting_since" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "deployment_counts" (
    "environment_id" UUID NOT NULL,
    "strategy" "Strategy" NOT NULL,
    "kind" "DeploymentKind" NOT NULL,
    "result" TEXT NOT NULL,
    "count" BIGINT NOT NULL DEFAULT 0,
    "duration_sum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "duration_buckets" BIGINT[] DEFAULT ARRAY[]::BIGINT[],

    CONSTRAINT "deployment_counts_pkey" PRIMARY KEY ("environment_id","strategy","kind","result")
);

-- CreateTable
CREATE TABLE "metric_counters" (
    "name" TEXT NOT NULL,
    "environment_id" UUID NOT NULL,
    "label" TEXT NOT NULL DEFAULT '',
    "count" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "metric_counters_pkey" PRIMARY KEY ("name","environment_id","label")
);

-- CreateTable
CREATE TABLE "deployment_daily" (
    "environment_id" UUID NOT NULL,
    "application_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "succeeded" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "aborted" INTEGER NOT NULL DEFAULT 0,
    "lead_time_sum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "lead_time_count" INTEGER NOT NULL DEFAULT 0,
    "restore_sum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "restore_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "deployment_daily_pkey" PRIMARY KEY ("environment_id","day")
);

-- CreateTable
CREATE TABLE "dora_state" (
    "environment_id" UUID NOT NULL,
    "failing_since" TIMESTAMPTZ(3),

    CONSTRAINT "dora_state_pkey" PRIMARY KEY ("environment_id")
);

-- CreateIndex
CREATE INDEX "deployment_daily_application_id_day_idx" ON "deployment_daily"("application_id", "day");

-- CreateIndex
CREATE INDEX "deployment_daily_day_idx" ON "deployment_daily"("day");


-- Qubot: live instances (not stopped or crashed), per environment and status (/metrics "instances by
-- state"). Stopped and crashed instances pile up with the history; this partial index holds only the others.
-- Queries repeat the predicate (LIVE_INSTANCE_STATUSES) for PostgreSQL to use it.
CREATE INDEX "instances_live_idx" ON "instances" ("environment_id", "status")
  WHERE "status" IN ('starting', 'running', 'unhealthy', 'stopping');

-- Qubot: one counter of metric_counters, +n.
CREATE FUNCTION qubot_count(p_name text, p_env uuid, p_label text, p_n bigint) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO metric_counters (name, environment_id, label, count) VALUES (p_name, p_env, p_label, p_n)
  ON CONFLICT (name, environment_id, label) DO UPDATE SET count = metric_counters.count + EXCLUDED.count;
$$;

-- Qubot: waiting_since follows waiting_for (the age of a waiting approval, switch or advance).
CREATE FUNCTION qubot_deployment_waiting_since() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.waiting_for IS DISTINCT FROM OLD.waiting_for THEN
    NEW.waiting_since := CASE WHEN NEW.waiting_for IS NULL THEN NULL ELSE now() END;
  ELSE
    NEW.waiting_since := OLD.waiting_since;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER deployments_waiting_since BEFORE INSERT OR UPDATE ON deployments
  FOR EACH ROW EXECUTE FUNCTION qubot_deployment_waiting_since();

-- Qubot: the rollups, in the transaction that starts, measures or finishes a deployment.
-- Duration bucket upper bounds, seconds (+Inf last); control-plane-metrics.ts repeats them.
CREATE FUNCTION qubot_duration_bounds() RETURNS float8[] LANGUAGE sql IMMUTABLE AS
  $$ SELECT ARRAY[5, 15, 30, 60, 120, 300, 600, 1800, 3600]::float8[] $$;

CREATE FUNCTION qubot_deployment_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER deployments_rollup AFTER INSERT OR UPDATE ON deployments
  FOR EACH ROW EXECUTE FUNCTION qubot_deployment_rollup();

-- Qubot: instance restarts (the supervisor's count only grows while the instance lives).
CREATE FUNCTION qubot_instance_restarts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.restarts > OLD.restarts THEN
    PERFORM qubot_count('instance_restart', NEW.environment_id, '', NEW.restarts - OLD.restarts);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER instances_restarts AFTER UPDATE OF restarts ON instances
  FOR EACH ROW EXECUTE FUNCTION qubot_instance_restarts();

-- Qubot: history recorded before this migration, rolled up once (time to restore starts here).
INSERT INTO deployment_counts (environment_id, strategy, kind, result, count)
SELECT environment_id, strategy, kind, 'started', count(*) FROM deployments
GROUP BY environment_id, strategy, kind;
WITH f AS (
  SELECT environment_id, strategy, kind, status::text AS result, secs,
    1 + (SELECT count(*) FROM unnest(qubot_duration_bounds()) x WHERE x < secs) AS idx
  FROM (
    SELECT environment_id, strategy, kind, status,
      greatest(0, extract(epoch FROM finished_at - coalesce(started_at, created_at))) AS secs
    FROM deployments
    WHERE status IN ('succeeded', 'failed', 'rolled_back', 'aborted') AND finished_at IS NOT NULL
  ) s
), h AS (
  SELECT environment_id, strategy, kind, result, idx, count(*) AS n, sum(secs) AS total
  FROM f GROUP BY 1, 2, 3, 4, 5
), g AS (
  SELECT environment_id, strategy, kind, result, sum(n) AS n, sum(total) AS total
  FROM h GROUP BY 1, 2, 3, 4
)
INSERT INTO deployment_counts (environment_id, strategy, kind, result, count, duration_sum, duration_buckets)
SELECT g.environment_id, g.strategy, g.kind, g.result, g.n, g.total,
  ARRAY(
    SELECT coalesce(h.n, 0)::bigint
    FROM generate_series(1, cardinality(qubot_duration_bounds()) + 1) i
    LEFT JOIN h ON h.environment_id = g.environment_id AND h.strategy = g.strategy
      AND h.kind = g.kind AND h.result = g.result AND h.idx = i
    ORDER BY i
  )
FROM g;
INSERT INTO deployment_daily (environment_id, application_id, day, succeeded, failed, aborted, lead_time_sum, lead_time_count)
SELECT d.environment_id, d.application_id, (d.finished_at AT TIME ZONE 'UTC')::date,
  count(*) FILTER (WHERE d.status = 'succeeded'),
  count(*) FILTER (WHERE d.status IN ('failed', 'rolled_back')),
  count(*) FILTER (WHERE d.status = 'aborted'),
  coalesce(sum(extract(epoch FROM d.finished_at - r.created_at))
    FILTER (WHERE d.status = 'succeeded' AND d.kind <> 'rollback'), 0),
  count(*) FILTER (WHERE d.status = 'succeeded' AND d.kind <> 'rollback')
FROM deployments d JOIN releases r ON r.id = d.release_id
WHERE d.status IN ('succeeded', 'failed', 'rolled_back', 'aborted') AND d.finished_at IS NOT NULL
GROUP BY 1, 2, 3;
