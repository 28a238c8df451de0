-- MQTT shared subscriptions ($share/{group}/{filter}, MQTT 5 section 4.8.2): who belongs to
-- each group, for every node. The node that accepts a PUBLISH picks one member per matching
-- group from here (through its cache, apps/server/src/broker/shared-subscriptions.ts), so a
-- message reaches one member of the group in the whole deployment, not one per node.
-- node_id and connection_id name the connection that holds the membership now. Both are NULL
-- while a persistent session's client is offline: its membership stays, and its queue takes
-- QoS 1 and 2 messages when no member is online. A member on a node whose heartbeat stopped
-- (server_nodes) counts as offline.
CREATE TABLE "shared_subscription_members" (
    "group_name" TEXT COLLATE "C" NOT NULL,
    "filter" TEXT COLLATE "C" NOT NULL,
    "client_id" TEXT COLLATE "C" NOT NULL,
    "qos" SMALLINT NOT NULL,
    "persistent" BOOLEAN NOT NULL,
    "node_id" TEXT,
    "connection_id" TEXT,
    "joined_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "shared_subscription_members_pkey" PRIMARY KEY ("group_name", "filter", "client_id")
);
CREATE INDEX "shared_subscription_members_client_id_idx" ON "shared_subscription_members" ("client_id");
