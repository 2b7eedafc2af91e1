-- Superseded by decisions_actor_name_seq_idx (same leading column, plus seq order for pages).
--
-- One statement per file: DROP INDEX CONCURRENTLY cannot run in a transaction block either.
DROP INDEX CONCURRENTLY IF EXISTS "decisions_actor_name_idx";
