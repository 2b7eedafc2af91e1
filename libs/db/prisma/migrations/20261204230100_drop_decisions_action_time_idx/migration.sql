-- Superseded by decisions_action_day_idx: an open window (only since, or only until) is bounded
-- by its days on that index too. Every index on decisions costs ingest a write per row.
--
-- One statement per file: DROP INDEX CONCURRENTLY cannot run in a transaction block either.
DROP INDEX CONCURRENTLY IF EXISTS "decisions_action_time_idx";
