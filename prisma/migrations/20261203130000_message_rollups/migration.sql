-- Rollups of the messages log for the overview pulse (apps/server/src/modules/fleet): the
-- message-rate chart and the per-device counts (top talkers, silent devices) read a few
-- thousand rollup rows instead of the last hour's messages (600,000 at 10,000 devices that
-- send one a minute). Hand-written, outside schema.prisma (prisma/src/external-tables.ts).
--
-- Written by statement-level triggers on the messages table, so the counts commit in the
-- same statement as the messages they count: ingest's batch (one INSERT per batch, or the
-- QoS 2 batch's transaction) commits both or neither, a crash can never leave them apart,
-- and every other writer of the log (seeders, tests, a restore) keeps them exact too. The
-- trigger sees a batch as one transition table, so it costs one grouped upsert per table
-- per batch, not one per message.
--
-- Two nodes may write the same bucket at once: the upserts add (messages + EXCLUDED.messages)
-- under the row lock, so neither overwrites the other, and the rows are upserted in key
-- order, so two batches that share keys lock them in the same order and cannot deadlock.

-- Messages per minute, summed over writers by the reader. `writer` is the writing
-- connection's backend pid: every batch touches the current minute, and keyed by minute
-- alone that one row would serialise every concurrent batch of every node on its lock.
-- A pid reused later only adds to an existing row, which is still correct.
CREATE TABLE "message_rate" (
    "minute" TIMESTAMPTZ NOT NULL,
    "writer" INTEGER NOT NULL,
    "messages" INTEGER NOT NULL,
    CONSTRAINT "message_rate_pkey" PRIMARY KEY ("minute", "writer")
);

-- Messages per device per five minutes (epoch-aligned). Five minutes: at one message a
-- minute per device, per-minute rows would be as many as the messages themselves, and coarser
-- buckets would blur the top talkers' hour. Keyed bucket first: the top talkers read a
-- range of buckets, and the silent devices probe (bucket, device) pairs. Updated in place
-- all day long: fillfactor leaves room for HOT updates (no index column changes).
CREATE TABLE "device_message_counts" (
    "bucket" TIMESTAMPTZ NOT NULL,
    "device_id" TEXT NOT NULL,
    "messages" INTEGER NOT NULL,
    CONSTRAINT "device_message_counts_pkey" PRIMARY KEY ("bucket", "device_id")
) WITH (fillfactor = 70);

-- One function for inserts and deletes: both triggers name their transition table
-- `changed`, and a delete adds negative counts (to the deleting connection's rate row, so
-- the minute's sum over writers stays exact). Deleting through the parent takes messages
-- out of the counts (a partition dropped or emptied by retention is older than the rollups
-- keep, see partitions.ts). date_bin from the epoch, not date_trunc: date_trunc on timestamptz
-- follows the session's time zone (whose offsets are not always whole minutes).
CREATE FUNCTION "messages_count_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  INSERT INTO message_rate (minute, writer, messages)
  SELECT date_bin(interval '1 minute', received_at, TIMESTAMPTZ 'epoch'), pg_backend_pid(), sign * count(*)
    FROM changed GROUP BY 1 ORDER BY 1
  ON CONFLICT (minute, writer) DO UPDATE SET messages = message_rate.messages + EXCLUDED.messages;
  INSERT INTO device_message_counts (bucket, device_id, messages)
  SELECT date_bin(interval '5 minutes', received_at, TIMESTAMPTZ 'epoch'), device_id, sign * count(*)
    FROM changed GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (bucket, device_id) DO UPDATE SET messages = device_message_counts.messages + EXCLUDED.messages;
  RETURN NULL;
END
$$;

CREATE FUNCTION "messages_count_truncated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE message_rate, device_message_counts;
  RETURN NULL;
END
$$;

CREATE TRIGGER "messages_count_inserted" AFTER INSERT ON "messages"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "messages_count_changed"();
CREATE TRIGGER "messages_count_deleted" AFTER DELETE ON "messages"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "messages_count_changed"();
CREATE TRIGGER "messages_count_truncated" AFTER TRUNCATE ON "messages"
  FOR EACH STATEMENT EXECUTE FUNCTION "messages_count_truncated"();

-- Backfill the last day (what the rollups keep) from the log as it stands. The triggers
-- above already count anything inserted after this migration's snapshot, and the migration
-- runs as one transaction (prisma/src/migrate.ts), whose CREATE TRIGGER lock keeps writers
-- out until it commits.
INSERT INTO "message_rate" ("minute", "writer", "messages")
SELECT date_bin(interval '1 minute', received_at, TIMESTAMPTZ 'epoch'), 0, count(*)
  FROM "messages" WHERE received_at >= now() - interval '1 day' GROUP BY 1;
INSERT INTO "device_message_counts" ("bucket", "device_id", "messages")
SELECT date_bin(interval '5 minutes', received_at, TIMESTAMPTZ 'epoch'), device_id, count(*)
  FROM "messages" WHERE received_at >= now() - interval '1 day' GROUP BY 1, 2;
