-- The notification delivery history (finished outbox rows and every attempt) is pruned after
-- RETENTION_DAYS, like the message log. These indexes let the hourly prune find old rows from
-- the end of a time index instead of reading both tables.
CREATE INDEX "notification_outbox_finished_idx" ON "notification_outbox" ("finished_at") WHERE "finished_at" IS NOT NULL;
CREATE INDEX "notification_attempts_at_idx" ON "notification_attempts" ("at");
