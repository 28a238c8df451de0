-- Notifications (apps/server/src/modules/notifications): channels, a durable outbox and the
-- delivery log. Plain SQL, not Prisma models: the alerts repository writes outbox rows in the
-- same statement as each alert state change (a data-modifying CTE over raw pg), and the
-- dispatcher claims rows with FOR UPDATE SKIP LOCKED.
-- No CHECK constraints: the WebAssembly schema engine cannot diff tables that have them. The
-- API's TypeBox schemas and the notifications service gate every value.

CREATE TABLE "notification_channels" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "url" TEXT,
    "secret" TEXT,
    "recipients" TEXT[] NOT NULL DEFAULT '{}',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    -- Routing: NULL lets everything through.
    "severities" TEXT[],
    "alert_kinds" TEXT[],
    "device_tags" TEXT[],
    "event_types" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "notification_channels_pkey" PRIMARY KEY ("id")
);

-- One row per alert state change and matching channel. status: pending → delivered or failed,
-- suppressed (over the channel's rate limit) → digested, once a digest row has summed it up.
-- claimed_until: the lease of the node delivering it: a node that dies mid-delivery leaves a
-- lease that runs out, and another node delivers the row.
CREATE TABLE "notification_outbox" (
    "id" BIGINT GENERATED ALWAYS AS IDENTITY,
    "channel_id" UUID NOT NULL,
    "event" TEXT NOT NULL,
    "alert_id" BIGINT,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_until" TIMESTAMPTZ(3),
    -- Which claim holds the lease: a node finishing after its lease ran out (and another node
    -- took the row over) changes nothing.
    "claim_token" UUID,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "notification_outbox_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "notification_outbox_channel_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channels"("id") ON DELETE CASCADE
);
CREATE INDEX "notification_outbox_due_idx" ON "notification_outbox" ("next_attempt_at", "id") WHERE "status" = 'pending';
CREATE INDEX "notification_outbox_suppressed_idx" ON "notification_outbox" ("channel_id", "id") WHERE "status" = 'suppressed';
CREATE INDEX "notification_outbox_sent_idx" ON "notification_outbox" ("channel_id", "finished_at") WHERE "status" = 'delivered';

-- Every attempt, test sends included (outbox_id NULL).
CREATE TABLE "notification_attempts" (
    "id" BIGINT GENERATED ALWAYS AS IDENTITY,
    "channel_id" UUID NOT NULL,
    "outbox_id" BIGINT,
    "event" TEXT NOT NULL,
    "alert_id" BIGINT,
    "attempt" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "response_code" INTEGER,
    "response" TEXT,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "notification_attempts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "notification_attempts_channel_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channels"("id") ON DELETE CASCADE
);
CREATE INDEX "notification_attempts_channel_idx" ON "notification_attempts" ("channel_id", "id" DESC);
