-- Webhook deliveries: an outbox filled from the decision log. One row per (subscription,
-- decision) to deliver; workers of every audit replica claim rows with FOR UPDATE SKIP LOCKED and
-- a lease, so a row is sent by one replica at a time. Rows of one subscription and subject key are
-- delivered in id order: a row is only claimable while no earlier pending row shares its key.

CREATE TABLE "webhook_deliveries" (
    "id"              BIGINT GENERATED ALWAYS AS IDENTITY,
    -- "<namespace>/<name>" of the Subscription.
    "subscription"    TEXT NOT NULL,
    "decision_seq"    BIGINT NOT NULL,
    -- The ordering key: the deciding object ("Sync/<namespace>/<name>").
    "subject_key"     TEXT NOT NULL,
    "attempt"         INTEGER NOT NULL DEFAULT 0,
    "status"          TEXT NOT NULL DEFAULT 'pending',
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    -- Set while a worker is sending the row; another replica may take it over once it passes.
    "leased_until"    TIMESTAMPTZ(3),
    "last_error"      TEXT,
    "last_attempt_at" TIMESTAMPTZ(3),
    "delivered_at"    TIMESTAMPTZ(3),
    "created_at"      TIMESTAMPTZ(3) NOT NULL,
    -- True for rows enqueued by a replay rather than by the live fan-out.
    "replay"          BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_deliveries_decision_fkey" FOREIGN KEY ("decision_seq") REFERENCES "decisions" ("seq"),
    CONSTRAINT "webhook_deliveries_status_check" CHECK ("status" IN ('pending', 'delivered', 'dead')),
    CONSTRAINT "webhook_deliveries_attempt_check" CHECK ("attempt" >= 0)
);

-- What workers scan: pending rows by due time.
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" ("next_attempt_at") WHERE "status" = 'pending';
-- The "no earlier pending row with my key" check, and per-subscription listings.
CREATE INDEX "webhook_deliveries_order_idx" ON "webhook_deliveries" ("subscription", "subject_key", "id") WHERE "status" = 'pending';
CREATE INDEX "webhook_deliveries_subscription_idx" ON "webhook_deliveries" ("subscription", "status", "id");

-- How far a relay over the decision log has got (webhook fan-out, CDEvents publisher). The row is
-- locked while a batch is processed, so replicas take turns and each decision is handled once.
CREATE TABLE "decision_cursors" (
    "name"       TEXT NOT NULL,
    "seq"        BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "decision_cursors_pkey" PRIMARY KEY ("name")
);
