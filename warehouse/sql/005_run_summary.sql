-- Each run's summary, for whoever reads the register later: one line per submission, as the
-- run's log and its Prefect artifact show it. A run still `running` when the next one takes
-- the ingestion lock was killed; the next run marks it `interrupted`.
ALTER TABLE ingestion_runs ADD COLUMN IF NOT EXISTS deferred INTEGER;
ALTER TABLE ingestion_runs ADD COLUMN IF NOT EXISTS held INTEGER;  -- held for confirmation
ALTER TABLE ingestion_runs ADD COLUMN IF NOT EXISTS summary VARCHAR;
