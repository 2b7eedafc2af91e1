-- Search by image (GET /api/v1/decisions?image=<repository>[:<tag>]): the decisions about one
-- image repository, newest first. Partial: most decisions carry no image, so the index holds only
-- image decisions and costs nothing on the rest of the ingest.
--
-- One statement per file, CONCURRENTLY: see 20261122020000_decisions_decided_by_idx.
CREATE INDEX CONCURRENTLY "decisions_image_repository_seq_idx" ON "decisions" ((image ->> 'repository'), "seq" DESC) WHERE image IS NOT NULL;
