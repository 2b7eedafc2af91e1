-- "Decisions of this Sync/Canary" (GET /api/v1/decisions?sync=ns/name), newest first: one index
-- range scan instead of walking the whole log backwards (1.5 s -> 0.4 ms at 1M decisions, see
-- docs/benchmarks.md audit-query-1m).
--
-- CONCURRENTLY so a big decisions table keeps taking appends while it builds. That cannot run in a
-- transaction block, and a migration file runs as one simple-protocol query (ours and Prisma's
-- alike): a single statement is not wrapped in a transaction, several would be. Hence this file
-- holds exactly one statement. If the build fails it leaves an INVALID index behind: drop it
-- (DROP INDEX CONCURRENTLY decisions_decided_by_idx), then resolve the migration as rolled back
-- and deploy again.
CREATE INDEX CONCURRENTLY "decisions_decided_by_idx"
    ON "decisions" ("decided_by_kind", "decided_by_namespace", "decided_by_name", "seq" DESC);
