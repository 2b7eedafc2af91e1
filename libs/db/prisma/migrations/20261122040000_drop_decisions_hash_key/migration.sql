-- No query looks a decision up by its hash, and uniqueness of the hash guards nothing the chain
-- needs: a fork is two rows with the same prev_hash (and distinct hashes), and forks are already
-- impossible because seq is unique and assigned under the chain lock. Meanwhile every append paid
-- a random insert into a btree of 64-character keys (the hashes are uniformly random), the most
-- expensive index of the table to maintain (see docs/benchmarks.md, audit-ingest).
--
-- One statement per file: DROP INDEX CONCURRENTLY cannot run in a transaction block either.
DROP INDEX CONCURRENTLY IF EXISTS "decisions_hash_key";
