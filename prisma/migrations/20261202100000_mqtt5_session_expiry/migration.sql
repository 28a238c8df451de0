-- MQTT 5 Session Expiry Interval (apps/server/src/broker/persistence/pg-persistence.ts): when a
-- session that outlives its connection is to end. Written when its connection ends, deleted
-- when the client resumes the session, and a sweep on every node deletes the sessions whose
-- time has come. Kept here rather than in a node's memory, so that a restart or another node
-- still ends them. Hand-written: broker persistence tables are outside schema.prisma
-- (prisma/src/external-tables.ts). No semicolon may appear in these comments: the migration
-- is split into statements at each one.
CREATE TABLE "mqtt_session_expiry" (
    "client_id" TEXT COLLATE "C" NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL,
    CONSTRAINT "mqtt_session_expiry_pkey" PRIMARY KEY ("client_id")
);
CREATE INDEX "mqtt_session_expiry_expires_at_idx" ON "mqtt_session_expiry" ("expires_at");
