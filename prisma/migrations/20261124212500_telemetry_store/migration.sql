-- The telemetry hot path, hand-written because Prisma's schema language cannot express
-- partitioning. These tables are listed in prisma/src/external-tables.ts and written with
-- plain SQL by apps/server/src/ingest.
--
-- Both logs are range-partitioned by day. The day partitions (messages_pYYYYMMDD,
-- readings_pYYYYMMDD) are created ahead of time and dropped after RETENTION_DAYS by the
-- server's partition maintenance (apps/server/src/ingest/partitions.ts), so retention never
-- runs a DELETE over the big tables. The DEFAULT partitions catch rows no day partition
-- covers yet (a device clock far off, a node that started before maintenance ran), so an
-- insert never fails for want of a partition.
--
-- No foreign keys to devices: one bad row must never fail a whole group-commit batch, and a
-- deleted device's history leaves with retention.

-- Every accepted PUBLISH under devices/{id}/...
CREATE TABLE "messages" (
    "received_at" TIMESTAMPTZ NOT NULL,
    "device_id" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "payload" BYTEA NOT NULL,
    "qos" SMALLINT NOT NULL,
    "retain" BOOLEAN NOT NULL
) PARTITION BY RANGE ("received_at");

CREATE TABLE "messages_default" PARTITION OF "messages" DEFAULT;

-- The message log search: a device's messages over time, and topic prefixes over time
-- (text_pattern_ops lets LIKE 'prefix%' use the index whatever the database collation).
CREATE INDEX "messages_device_id_received_at_idx" ON "messages" ("device_id", "received_at");
CREATE INDEX "messages_topic_received_at_idx" ON "messages" ("topic" text_pattern_ops, "received_at");

-- Numeric fields of devices/{id}/telemetry documents.
CREATE TABLE "readings" (
    "device_id" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "time" TIMESTAMPTZ NOT NULL,
    "value" DOUBLE PRECISION NOT NULL
) PARTITION BY RANGE ("time");

CREATE TABLE "readings_default" PARTITION OF "readings" DEFAULT;

-- "One metric of one device over a time range", and the loose index scan that lists a
-- device's metrics.
CREATE INDEX "readings_device_id_metric_time_idx" ON "readings" ("device_id", "metric", "time");

-- QoS 2 exactly-once across crashes and nodes [MQTT-4.3.3-2]: the key of an inbound QoS 2
-- PUBLISH whose rows are committed, written in the same transaction as those rows and
-- removed when PUBREL completes the flow (or a clean session discards it [MQTT-3.1.2-6]).
-- A PUBLISH that finds its key with the same digest (of topic and payload) is a
-- retransmission and is not stored again.
CREATE TABLE "ingest_qos2_inflight" (
    "client_id" TEXT NOT NULL,
    "packet_id" INTEGER NOT NULL,
    "digest" BYTEA NOT NULL,
    "received_at" TIMESTAMPTZ NOT NULL,

    CONSTRAINT "ingest_qos2_inflight_pkey" PRIMARY KEY ("client_id", "packet_id")
);
