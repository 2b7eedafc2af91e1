-- The audit log of deploy decisions. Rows are only ever appended (by the audit service), and each
-- row's hash covers the previous row's hash, so any later edit is detectable by re-walking the chain.

CREATE TABLE "decisions" (
    "id"                     UUID NOT NULL,
    "event_id"               TEXT NOT NULL,
    "event_source"           TEXT NOT NULL,
    "seq"                    BIGINT GENERATED ALWAYS AS IDENTITY,
    "time"                   TIMESTAMPTZ(3) NOT NULL,
    "recorded_at"            TIMESTAMPTZ(3) NOT NULL,
    "action"                 TEXT NOT NULL,
    "outcome"                TEXT NOT NULL,
    "reason"                 TEXT NOT NULL,
    "message"                TEXT NOT NULL,
    "actor_kind"             TEXT NOT NULL,
    "actor_name"             TEXT NOT NULL,
    "actor_email"            TEXT,
    "actor_evidence"         TEXT NOT NULL,
    "actors"                 JSONB NOT NULL DEFAULT '[]',
    "source_repository"      TEXT,
    "source_url"             TEXT,
    "source_ref"             TEXT,
    "source_revision"        TEXT,
    "source_sha"             TEXT,
    "source_commit_message"  TEXT,
    "source_parents"         TEXT[] NOT NULL DEFAULT '{}',
    "source_author_name"     TEXT,
    "source_author_email"    TEXT,
    "source_committer_name"  TEXT,
    "source_committer_email" TEXT,
    "image"                  JSONB,
    "cluster"                TEXT NOT NULL,
    "decided_by_kind"        TEXT NOT NULL,
    "decided_by_namespace"   TEXT NOT NULL,
    "decided_by_name"        TEXT NOT NULL,
    "change_set"             JSONB NOT NULL DEFAULT '[]',
    "evidence"               JSONB NOT NULL DEFAULT '{}',
    "correlation_id"         TEXT,
    "traceparent"            TEXT,
    "prev_hash"              TEXT NOT NULL,
    "hash"                   TEXT NOT NULL,

    CONSTRAINT "decisions_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "decisions_prev_hash_check" CHECK ("prev_hash" ~ '^[0-9a-f]{64}$'),
    CONSTRAINT "decisions_hash_check" CHECK ("hash" ~ '^[0-9a-f]{64}$')
);

CREATE UNIQUE INDEX "decisions_event_id_key" ON "decisions" ("event_id");
CREATE UNIQUE INDEX "decisions_seq_key" ON "decisions" ("seq");
CREATE UNIQUE INDEX "decisions_hash_key" ON "decisions" ("hash");
-- Filters of GET /api/v1/decisions. The table is empty here, so plain CREATE INDEX is fine; later
-- indexes on it go CONCURRENTLY, each in a migration of its own.
CREATE INDEX "decisions_time_idx" ON "decisions" ("time");
CREATE INDEX "decisions_source_sha_idx" ON "decisions" ("source_sha");
CREATE INDEX "decisions_source_revision_idx" ON "decisions" ("source_revision");
CREATE INDEX "decisions_actor_name_idx" ON "decisions" ("actor_name");
CREATE INDEX "decisions_actor_email_idx" ON "decisions" ("actor_email");

CREATE TABLE "decision_targets" (
    "decision_id"  UUID NOT NULL,
    "decision_seq" BIGINT NOT NULL,
    "namespace"    TEXT NOT NULL,
    "kind"         TEXT NOT NULL,
    "api_version"  TEXT NOT NULL,
    "name"         TEXT NOT NULL,
    "action"       TEXT,

    CONSTRAINT "decision_targets_pkey" PRIMARY KEY ("decision_id", "api_version", "kind", "namespace", "name"),
    CONSTRAINT "decision_targets_decision_id_fkey" FOREIGN KEY ("decision_id")
        REFERENCES "decisions" ("id") ON DELETE RESTRICT ON UPDATE RESTRICT
);

-- Object history: one range scan per (namespace, kind, name), newest decision first.
CREATE INDEX "decision_targets_object_history_idx"
    ON "decision_targets" ("namespace", "kind", "name", "decision_seq" DESC);

-- Append-only. A trigger (not only missing grants) so even the owner and migrations cannot rewrite
-- history by accident; changing a row on purpose needs an explicit, visible trigger bypass.
CREATE FUNCTION "capstan_refuse_audit_change"() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Audit rows are never changed; record a new decision instead.';
END;
$$;

CREATE TRIGGER "decisions_append_only"
    BEFORE UPDATE OR DELETE ON "decisions"
    FOR EACH ROW EXECUTE FUNCTION "capstan_refuse_audit_change"();
CREATE TRIGGER "decisions_no_truncate"
    BEFORE TRUNCATE ON "decisions"
    FOR EACH STATEMENT EXECUTE FUNCTION "capstan_refuse_audit_change"();
CREATE TRIGGER "decision_targets_append_only"
    BEFORE UPDATE OR DELETE ON "decision_targets"
    FOR EACH ROW EXECUTE FUNCTION "capstan_refuse_audit_change"();
CREATE TRIGGER "decision_targets_no_truncate"
    BEFORE TRUNCATE ON "decision_targets"
    FOR EACH STATEMENT EXECUTE FUNCTION "capstan_refuse_audit_change"();
