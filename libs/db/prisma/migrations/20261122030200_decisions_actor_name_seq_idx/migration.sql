-- "Decisions of a person" by exact name, walked in seq order and cut at the page size instead of
-- fetching every decision of the person and sorting them. Supersedes decisions_actor_name_idx
-- (dropped in 20261122030400, after this one exists).
--
-- One statement per file, CONCURRENTLY: see 20261122020000_decisions_decided_by_idx.
CREATE INDEX CONCURRENTLY "decisions_actor_name_seq_idx"
    ON "decisions" ("actor_name", "seq" DESC);
