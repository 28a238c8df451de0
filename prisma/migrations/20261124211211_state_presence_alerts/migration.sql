-- Retained state, persistent MQTT sessions, presence and alerts.
--
-- devices.online is also added by the device-registration work (the same line is in
-- schema.prisma): IF NOT EXISTS lets both migrations apply in either order.
ALTER TABLE "devices" ADD COLUMN IF NOT EXISTS "online" BOOLEAN NOT NULL DEFAULT false;

-- ---------------------------------------------------------------------------------------
-- The MQTT broker's persistence (apps/server/src/broker/persistence). Packets are stored
-- as their fields (jsonb, Buffers and undefined-valued keys encoded) plus the payload as
-- bytea, so that every packet reads back exactly as aedes stored it.
-- Topics and client ids use the "C" collation: byte order, so LIKE 'prefix%' and range
-- scans use the primary key indexes.

-- Retained messages [MQTT-3.3.1-5]: one per topic: an empty payload deletes it.
CREATE TABLE "mqtt_retained" (
    "topic" TEXT COLLATE "C" NOT NULL,
    "packet" JSONB NOT NULL,
    "payload" BYTEA NOT NULL,
    "payload_is_string" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "mqtt_retained_pkey" PRIMARY KEY ("topic")
);

-- Subscriptions of persistent sessions (cleanSession=0). seq keeps the order in which a
-- client first subscribed to each filter.
CREATE TABLE "mqtt_subscriptions" (
    "client_id" TEXT COLLATE "C" NOT NULL,
    "topic" TEXT COLLATE "C" NOT NULL,
    "qos" SMALLINT NOT NULL,
    "options" JSONB NOT NULL DEFAULT '{}',
    "seq" BIGINT GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT "mqtt_subscriptions_pkey" PRIMARY KEY ("client_id", "topic")
);
CREATE INDEX "mqtt_subscriptions_topic_idx" ON "mqtt_subscriptions" ("topic");

-- Outgoing QoS 1/2 messages per client, queued while it is offline and in flight while
-- it is online, in delivery order (seq). message_id is set once a delivery is attempted.
CREATE TABLE "mqtt_outgoing" (
    "client_id" TEXT COLLATE "C" NOT NULL,
    "seq" BIGINT GENERATED ALWAYS AS IDENTITY,
    "cmd" TEXT NOT NULL,
    "broker_id" TEXT,
    "broker_counter" BIGINT,
    "message_id" INTEGER,
    "packet" JSONB NOT NULL,
    "payload" BYTEA,
    "payload_is_string" BOOLEAN NOT NULL DEFAULT false,
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "mqtt_outgoing_pkey" PRIMARY KEY ("client_id", "seq")
);
CREATE INDEX "mqtt_outgoing_message_idx" ON "mqtt_outgoing" ("client_id", "message_id");
CREATE INDEX "mqtt_outgoing_broker_idx" ON "mqtt_outgoing" ("client_id", "broker_id", "broker_counter");

-- Messages dropped from full queues (SESSION_QUEUE_LIMIT), counted per client.
CREATE TABLE "mqtt_queue_drops" (
    "client_id" TEXT COLLATE "C" NOT NULL,
    "dropped" BIGINT NOT NULL DEFAULT 0,
    "last_dropped_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "mqtt_queue_drops_pkey" PRIMARY KEY ("client_id")
);

-- Incoming QoS 2 packets awaiting PUBREL [MQTT-4.3.3-2].
CREATE TABLE "mqtt_incoming" (
    "client_id" TEXT COLLATE "C" NOT NULL,
    "message_id" INTEGER NOT NULL,
    "packet" JSONB NOT NULL,
    "payload" BYTEA,
    "payload_is_string" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "mqtt_incoming_pkey" PRIMARY KEY ("client_id", "message_id")
);

-- Last Wills of connected clients, with the broker node holding the connection, so that
-- another node can publish the wills of a node that died [MQTT-3.1.2-8].
CREATE TABLE "mqtt_wills" (
    "client_id" TEXT COLLATE "C" NOT NULL,
    "broker_id" TEXT NOT NULL,
    "packet" JSONB NOT NULL,
    "payload" BYTEA,
    "payload_is_string" BOOLEAN NOT NULL DEFAULT false,
    "stored_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "mqtt_wills_pkey" PRIMARY KEY ("client_id")
);
CREATE INDEX "mqtt_wills_broker_idx" ON "mqtt_wills" ("broker_id");

-- ---------------------------------------------------------------------------------------
-- Presence.

-- Server nodes and their heartbeat: a device held by a node whose heartbeat stopped has
-- lost its connection (the node crashed).
CREATE TABLE "server_nodes" (
    "id" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "server_nodes_pkey" PRIMARY KEY ("id")
);

-- The connection state behind devices.online: which connection on which node, and an
-- offline transition whose event is still pending (the grace period that coalesces flaps).
CREATE TABLE "device_presence" (
    "device_id" TEXT NOT NULL,
    "online" BOOLEAN NOT NULL,
    "connection_id" TEXT NOT NULL,
    "node_id" TEXT NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "offline_reason" TEXT,
    "offline_unexpected" BOOLEAN NOT NULL DEFAULT false,
    "offline_pending" BOOLEAN NOT NULL DEFAULT false,
    "flaps" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "device_presence_pkey" PRIMARY KEY ("device_id"),
    CONSTRAINT "device_presence_device_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE
);
CREATE INDEX "device_presence_pending_idx" ON "device_presence" ("changed_at") WHERE "offline_pending";
CREATE INDEX "device_presence_node_idx" ON "device_presence" ("node_id") WHERE "online";

CREATE TABLE "presence_events" (
    "id" BIGINT GENERATED ALWAYS AS IDENTITY,
    "device_id" TEXT NOT NULL,
    "online" BOOLEAN NOT NULL,
    "reason" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "presence_events_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "presence_events_device_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE
);
CREATE INDEX "presence_events_device_idx" ON "presence_events" ("device_id", "id" DESC);

-- ---------------------------------------------------------------------------------------
-- Alerts.

-- No CHECK constraints: the WebAssembly schema engine cannot diff tables that have them.
-- The API's TypeBox schemas gate comparison, severity and target, and only the
-- repositories write these tables.
CREATE TABLE "alert_rules" (
    "id" BIGINT GENERATED ALWAYS AS IDENTITY,
    "name" TEXT NOT NULL,
    "device_id" TEXT,
    "tag" TEXT,
    "metric" TEXT NOT NULL,
    "comparison" TEXT NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "duration_ms" INTEGER NOT NULL DEFAULT 0,
    "severity" TEXT NOT NULL DEFAULT 'warning',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "alert_rules_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "alert_rules_device_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE
);

-- When a rule's condition started holding for a device: survives restarts, so a hold
-- duration keeps counting from the first violating reading.
CREATE TABLE "alert_rule_states" (
    "rule_id" BIGINT NOT NULL,
    "device_id" TEXT NOT NULL,
    "pending_since" TIMESTAMPTZ(3) NOT NULL,
    "last_value" DOUBLE PRECISION NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "alert_rule_states_pkey" PRIMARY KEY ("rule_id", "device_id"),
    CONSTRAINT "alert_rule_states_rule_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rules"("id") ON DELETE CASCADE,
    CONSTRAINT "alert_rule_states_device_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE
);

CREATE TABLE "alerts" (
    "id" BIGINT GENERATED ALWAYS AS IDENTITY,
    "device_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "rule_id" BIGINT,
    -- 'offline' or 'rule:<id>': what an alert is about, also after its rule is deleted.
    "rule_key" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'active',
    "severity" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "value" DOUBLE PRECISION,
    "raised_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledged_at" TIMESTAMPTZ(3),
    "acknowledged_by" TEXT,
    "resolved_at" TIMESTAMPTZ(3),
    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "alerts_device_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE,
    CONSTRAINT "alerts_rule_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rules"("id") ON DELETE SET NULL
);
-- At most one open alert per device and rule (or offline): raising is an
-- INSERT ... ON CONFLICT DO NOTHING, safe when several nodes race.
CREATE UNIQUE INDEX "alerts_one_open_idx" ON "alerts" ("device_id", "rule_key") WHERE "state" <> 'resolved';
CREATE INDEX "alerts_state_idx" ON "alerts" ("state", "id" DESC);
