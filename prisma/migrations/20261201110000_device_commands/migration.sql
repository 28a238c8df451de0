-- Commands to devices and their outcome: the audit of who sent what, when, and what came of
-- it. Plain SQL (apps/server/src/modules/commands): every status change is one conditional
-- UPDATE, so that nodes racing to expire, deliver or answer a command change it once.
-- status is one of queued, sent, delivered, responded, expired, failed (the repository writes
-- only those), and no CHECK constraint: the WebAssembly schema engine cannot diff tables that have them.
CREATE TABLE "device_commands" (
    "id" UUID NOT NULL,
    "device_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "params" JSONB,
    "status" TEXT NOT NULL,
    "timeout_s" INTEGER NOT NULL,
    "sent_by_user_id" UUID,
    "sent_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "queued_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "responded_at" TIMESTAMPTZ(3),
    "expired_at" TIMESTAMPTZ(3),
    "failed_at" TIMESTAMPTZ(3),
    "error" TEXT,
    "response_payload" TEXT,
    "response_encoding" TEXT,
    "response_ok" BOOLEAN,

    CONSTRAINT "device_commands_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "device_commands_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "device_commands_sent_by_user_id_fkey" FOREIGN KEY ("sent_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- A device's history, newest first.
CREATE INDEX "device_commands_device_created_idx" ON "device_commands" ("device_id", "created_at" DESC, "id" DESC);
-- The expiry sweep reads only the commands still waiting.
CREATE INDEX "device_commands_open_expires_idx" ON "device_commands" ("expires_at") WHERE "status" IN ('queued', 'sent', 'delivered');
