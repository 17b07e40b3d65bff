-- Demo environments: the steady synthetic load is on (true), off (false), or not offered (null).
ALTER TABLE "environments" ADD COLUMN "synthetic_load" BOOLEAN;
