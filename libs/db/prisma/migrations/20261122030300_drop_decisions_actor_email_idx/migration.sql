-- No query can use it: the actor filter compares lower(actor_email) (decisions_actor_email_lower_idx).
-- Every index on decisions costs ingest a write per row, so it goes.
--
-- One statement per file: DROP INDEX CONCURRENTLY cannot run in a transaction block either.
DROP INDEX CONCURRENTLY IF EXISTS "decisions_actor_email_idx";
