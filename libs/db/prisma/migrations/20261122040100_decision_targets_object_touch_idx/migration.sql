-- Object history ("who deployed X") as an index-only walk that stops at the page size. The old
-- index (namespace, kind, name, decision_seq DESC) could not give the ORDER BY decision_seq DESC,
-- api_version of the DISTINCT ON, nor api_version and action, so at 10M decisions (~1,000 touches
-- per object) Postgres read every touch of the object from the heap and sorted them: 100-170 ms.
-- With every column the query needs, in its order, it reads ~20 index entries. `action` is a key
-- column (not INCLUDE) only so that prisma/schema.prisma can describe the index.
--
-- One statement per file, CONCURRENTLY: see 20261122020000_decisions_decided_by_idx.
CREATE INDEX CONCURRENTLY "decision_targets_object_touch_idx"
    ON "decision_targets" ("namespace", "kind", "name", "decision_seq" DESC, "api_version", "action");
