-- Idempotent consumers record each handled message here in the same transaction as its effect,
-- so a redelivery after a crash finds the mark and is acknowledged without repeating the effect.
CREATE TABLE "processed_messages" (
    "consumer"     TEXT NOT NULL,
    "message_id"   TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_messages_pkey" PRIMARY KEY ("consumer", "message_id")
);

-- Lets a janitor trim old marks by age once the stream's retention has dropped the messages.
CREATE INDEX "processed_messages_processed_at_idx" ON "processed_messages" ("processed_at");
