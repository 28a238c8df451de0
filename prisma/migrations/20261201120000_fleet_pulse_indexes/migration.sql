-- The overview pulse (apps/server/src/modules/fleet/fleet.repository.ts) reads only recent
-- time ranges of three logs. Each gets an index on its time column, so a pulse costs in
-- proportion to the rows of the last hour or day, never to the whole history of the tables.
--
-- messages: BRIN, not btree. Rows arrive in received_at order (ingest stamps them on
-- arrival), so each block range min/max is tight and the index stays a few pages per day
-- partition, and the upkeep on the ingest hot path is a summary per 128 pages instead of a btree
-- insert per message. Hand-written: the messages table is outside schema.prisma
-- (prisma/src/external-tables.ts). On a partitioned table the index reaches every partition
-- and later day partitions inherit it.
CREATE INDEX "messages_received_at_brin_idx" ON "messages" USING brin ("received_at");

-- presence_events and alerts are small next to the logs: plain btrees.
CREATE INDEX "presence_events_at_idx" ON "presence_events" ("at");
CREATE INDEX "alerts_raised_at_idx" ON "alerts" ("raised_at");
