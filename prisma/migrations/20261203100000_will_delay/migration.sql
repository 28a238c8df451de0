-- MQTT 5 Will Delay Interval (apps/server/src/broker/session-timers.ts): a will whose
-- publication the client deferred [MQTT-3.1.3-9]. Written when a connection with such a will
-- ends without a DISCONNECT 0x00, deleted when the client connects again on any node, and a
-- sweep on every node claims the wills whose time has come (DELETE ... RETURNING, so one
-- node publishes each). Kept here rather than in a node's memory, so that a restart or the
-- loss of that node does not forget them. due_at is the connection's end plus the smaller of
-- the will delay and the session expiry: the will goes when either ends [MQTT-3.1.2-8].
-- The properties are the will's (without the Will Delay Interval itself), in the broker
-- persistence's JSON encoding (Buffers as base64). Hand-written: broker persistence tables
-- are outside schema.prisma (prisma/src/external-tables.ts). No semicolon may appear in
-- these comments: the migration is split into statements at each one.
CREATE TABLE "mqtt_delayed_wills" (
    "client_id" TEXT COLLATE "C" NOT NULL,
    "topic" TEXT NOT NULL,
    "payload" BYTEA NOT NULL,
    "qos" SMALLINT NOT NULL,
    "retain" BOOLEAN NOT NULL,
    "properties" JSONB NOT NULL,
    "due_at" TIMESTAMPTZ NOT NULL,
    "node_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT "mqtt_delayed_wills_pkey" PRIMARY KEY ("client_id")
);
CREATE INDEX "mqtt_delayed_wills_due_at_idx" ON "mqtt_delayed_wills" ("due_at");

-- Presence (apps/server/src/modules/presence): a device that left with a delayed will is not
-- offline for alerts until the will is due, so its offline event stays pending until
-- max(changed_at + ALERT_OFFLINE_GRACE_MS, offline_hold_until). NULL: no will delay.
ALTER TABLE "device_presence" ADD COLUMN "offline_hold_until" TIMESTAMPTZ;
