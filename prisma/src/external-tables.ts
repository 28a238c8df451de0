/**
 * Tables that the migrations create but schema.prisma does not model: the telemetry hot
 * path (partitioned tables, written with plain SQL by apps/server's repositories). The
 * schema engine ignores them when it diffs, so `pnpm db:migration` never proposes to drop
 * them. Keep prisma.config.ts' `tables.external` in step (the stock CLI reads that).
 */
export const externalTables: string[] = [
  // apps/server/src/ingest: partitioned logs (the day partitions are created at run time
  // and named <table>_pYYYYMMDD; the schema engine only diffs the tables listed here).
  "messages",
  "messages_default",
  "readings",
  "readings_default",
  "ingest_qos2_inflight",
  // Rollups of messages for the overview pulse, kept by triggers on messages (migration
  // 20261203130000_message_rollups) and read by apps/server/src/modules/fleet.
  "message_rate",
  "device_message_counts",
  // MQTT broker persistence (apps/server/src/broker/persistence): hot path, plain SQL.
  "mqtt_retained",
  "mqtt_subscriptions",
  "mqtt_outgoing",
  "mqtt_queue_drops",
  "mqtt_incoming",
  "mqtt_wills",
  // MQTT shared subscriptions' members (apps/server/src/broker/shared-subscriptions.repository.ts).
  "shared_subscription_members",
  "mqtt_session_expiry",
  // MQTT 5 delayed wills (apps/server/src/broker/session-timers.ts), claimed by a sweep on every node.
  "mqtt_delayed_wills",
  // Presence and alerts: partial unique indexes that Prisma's schema cannot express.
  "server_nodes",
  "device_presence",
  "presence_events",
  "alert_rules",
  "alert_rule_states",
  "alerts",
  // Notifications: the outbox is written in the alerts' statements (raw pg) and claimed with SKIP LOCKED.
  "notification_channels",
  "notification_outbox",
  "notification_attempts",
  // Commands to devices: conditional status updates in plain SQL (apps/server/src/modules/commands).
  "device_commands",
  // Connected MQTT clients of every node (apps/server/src/broker/client-registry.ts): batched plain SQL.
  "broker_clients",
];
