-- "Pruned (or any action) in a time window" (GET /api/v1/decisions?action=...&since=...&until=...):
-- an index-only range scan over the action's window yields the seqs, and a top-N sort picks the
-- page, whatever part of the log the window falls in. Without it Postgres walked the whole log
-- backwards by seq, filtering (920 ms p50, 2.1 s p99 at 1M decisions for a month of prunes). seq is
-- a key column (not INCLUDE) only so that prisma/schema.prisma can describe the index.
--
-- One statement per file, CONCURRENTLY: see 20261122020000_decisions_decided_by_idx.
CREATE INDEX CONCURRENTLY "decisions_action_time_idx"
    ON "decisions" ("action", "time", "seq");
