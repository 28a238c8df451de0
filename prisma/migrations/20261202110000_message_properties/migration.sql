-- MQTT 5 message properties (payload format indicator, content type, response topic,
-- correlation data as base64, message expiry interval, user properties) kept with each
-- logged message, in the shape of the contract's MessageProperties
-- (packages/contracts/src/message-properties.ts). NULL for a message without any, which is
-- every MQTT 3.1.1 message. Nullable and without a default, adding it rewrites no rows, and
-- the day partitions, existing and future, take it from the parent table.
ALTER TABLE "messages" ADD COLUMN "properties" JSONB;
