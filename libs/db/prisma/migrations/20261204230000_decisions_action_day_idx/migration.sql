-- "Pruned (or any action) in a time window" (GET /api/v1/decisions?action=...&since=...&until=...),
-- newest first, as one short walk per UTC day of the window: within an action and a day the
-- entries are in seq order, so each day gives its newest page at once and the answer is the
-- newest of those (a month: ~30 x 50 index entries). decisions_action_time_idx (action, time, seq)
-- could only give every match of the window and sort them: a month of prunes at 10M decisions is
-- ~100,000 entries, 40-60 ms. `time` is included so the walk stays index-only for the window's
-- edge days. date_bin, not date_trunc: an index expression must be immutable, and date_trunc on
-- a timestamptz depends on the session's time zone. Queries write the expression exactly so
-- (persistence/decision-page.sql.ts). Replaces decisions_action_time_idx (dropped next).
--
-- One statement per file, CONCURRENTLY: see 20261122020000_decisions_decided_by_idx.
CREATE INDEX CONCURRENTLY "decisions_action_day_idx"
    ON "decisions" ("action", date_bin('24 hours', "time", timestamptz '2000-01-01 00:00:00+00'), "seq" DESC)
    INCLUDE ("time");
