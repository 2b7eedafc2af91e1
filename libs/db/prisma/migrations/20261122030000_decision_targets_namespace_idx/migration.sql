-- "Decisions of a namespace" (GET /api/v1/decisions?namespace=...), newest first: walk the touches of
-- the namespace in seq order and stop at the page size, as object history does with
-- decision_targets_object_history_idx (which cannot serve a namespace alone in seq order). At 1M
-- decisions this replaces ~10,000 per-decision probes per page (178 ms p50) with ~100 index entries.
--
-- One statement per file, CONCURRENTLY: see 20261122020000_decisions_decided_by_idx for why, and
-- for what to do if the build fails (DROP INDEX CONCURRENTLY, resolve as rolled back, deploy again).
CREATE INDEX CONCURRENTLY "decision_targets_namespace_idx"
    ON "decision_targets" ("namespace", "decision_seq" DESC);
