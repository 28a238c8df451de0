-- History reads (a metric's series, its CSV export, a device's latest values) select only
-- time and value over an index range of (device_id, metric, time). With the value in the
-- index they become index-only scans: a live fleet's rows arrive interleaved, so a device's
-- week of one metric lies on as many heap pages as it has rows (1,250 page reads for the
-- history benchmark's one-week query, 13 ms), against a handful of index pages once
-- autovacuum has marked the day's partition all-visible (27 buffers, 1.2 ms). The cost is
-- 8 more bytes per index entry on ingest.
--
-- Hand-written (the readings table is outside schema.prisma, see prisma/src/external-tables.ts).
-- On a partitioned table CREATE INDEX builds the index on every partition and later day
-- partitions inherit it.
CREATE INDEX "readings_device_id_metric_time_value_idx" ON "readings" ("device_id", "metric", "time") INCLUDE ("value");
DROP INDEX "readings_device_id_metric_time_idx";
