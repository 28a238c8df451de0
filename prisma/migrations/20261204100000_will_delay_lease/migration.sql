-- Delayed wills are published at least once (apps/server/src/broker/session-timers.ts): a
-- sweep claims a due will by setting claimed_until (a lease) and claim_id instead of deleting
-- it, and deletes it only once it is published, or refused by the broker. A publish that fails
-- clears the claim, so the next sweep tries again. A node that dies holding a claim leaves it
-- to expire, after which any node may claim the will again (so it may, rarely, be published
-- twice: a node that dies after publishing and before deleting). claim_id tells the claiming
-- node that the will is still its own (not taken by another node after its lease ran out,
-- nor cancelled by a reconnect or a device's deletion) before it publishes it.
-- publisher is the principal of the client that left (its kind, device id or operator role),
-- so the will is authorized with the rights that client had, under the rules of the node that
-- publishes it. NULL for wills written before this migration: published as before.
-- No semicolon may appear in these comments: the migration is split into statements at each one.
ALTER TABLE "mqtt_delayed_wills"
    ADD COLUMN "claimed_until" TIMESTAMPTZ,
    ADD COLUMN "claim_id" UUID,
    ADD COLUMN "publisher" JSONB;
