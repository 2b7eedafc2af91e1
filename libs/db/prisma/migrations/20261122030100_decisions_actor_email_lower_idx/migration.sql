-- "Decisions of a person" by email, whatever its case: the query says lower(actor_email) = lower($1)
-- and walks this index in seq order, stopping at the page size. The former ILIKE (Prisma's
-- `mode: insensitive`) could use no btree index at all, and treated `_` and `%` in an email as
-- wildcards.
--
-- One statement per file, CONCURRENTLY: see 20261122020000_decisions_decided_by_idx.
CREATE INDEX CONCURRENTLY "decisions_actor_email_lower_idx"
    ON "decisions" (lower("actor_email"), "seq" DESC);
