-- The deploy timeline (GET /api/v1/timeline/{correlationId}) reads every decision of one
-- reconcile or rollout in seq order. Without an index that was a scan of the whole table: fine
-- at a few thousand rows, seconds at 10M. A handful of rows per correlation id, read in order.
--
-- One statement per file, CONCURRENTLY: see 20261122020000_decisions_decided_by_idx.
CREATE INDEX CONCURRENTLY "decisions_correlation_id_seq_idx" ON "decisions" ("correlation_id", "seq");
