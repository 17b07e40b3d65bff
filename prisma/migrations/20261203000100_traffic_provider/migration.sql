-- Which traffic provider serves an environment's address: 'node' (the embedded router, the
-- default) or 'haproxy'. Values checked by the API (environment settings PATCH).
ALTER TABLE "environments" ADD COLUMN     "traffic_provider" TEXT NOT NULL DEFAULT 'node';
