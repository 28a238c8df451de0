-- The connected MQTT clients of every server node (apps/server/src/broker/client-registry.ts):
-- each node writes its own clients here on connect, removes them on disconnect, and flushes
-- their counters and subscriptions in batches. Rows of a node whose heartbeat (server_nodes)
-- stopped are deleted by the live nodes' sweep. Hand-written, outside schema.prisma
-- (prisma/src/external-tables.ts): the listing's SQL lives in the broker-clients repository.
--
-- client_id is compared byte-wise (COLLATE "C"), so the primary key's btree serves both the
-- listing's ORDER BY client_id and the prefix search (client_id LIKE 'abc%'), with no second
-- index and no pg_trgm extension.
CREATE TABLE "broker_clients" (
    "client_id" TEXT COLLATE "C" NOT NULL,
    "connection_id" TEXT NOT NULL,
    "node_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "device_id" TEXT,
    "operator_user_id" TEXT,
    "transport" TEXT NOT NULL,
    "protocol_version" SMALLINT NOT NULL,
    "remote_address" TEXT,
    "keepalive" INTEGER NOT NULL,
    "clean_session" BOOLEAN NOT NULL,
    "connected_at" TIMESTAMPTZ(3) NOT NULL,
    "subscriptions" JSONB NOT NULL DEFAULT '[]',
    "messages_in" BIGINT NOT NULL DEFAULT 0,
    "messages_out" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "broker_clients_pkey" PRIMARY KEY ("client_id")
);

-- A node's rows: its flush, its restart and the sweep of a dead node find them by node, and
-- the node filter pages through them in client id order.
CREATE INDEX "broker_clients_node_id_client_id_idx" ON "broker_clients" ("node_id", "client_id");
