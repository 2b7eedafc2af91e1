-- Superseded by decision_targets_object_touch_idx (same leading columns, and it also covers the
-- object-history query). Every index on decision_targets costs ingest a write per target.
--
-- One statement per file: DROP INDEX CONCURRENTLY cannot run in a transaction block either.
DROP INDEX CONCURRENTLY IF EXISTS "decision_targets_object_history_idx";
