-- What an analysis still inconclusive after its limit does in this environment: 'fail' (roll
-- back) or 'wait' (pause for a person); null follows protection. Values checked by the API.
ALTER TABLE "environments" ADD COLUMN "analysis_on_inconclusive" TEXT;
