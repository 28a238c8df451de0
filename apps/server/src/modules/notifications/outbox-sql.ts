// The one statement fragment that queues notifications: the alerts repository appends it as a
// data-modifying CTE to every statement that changes an alert's state, so the change and its
// outbox rows commit together or not at all (there is no moment at which a crash could keep
// one and lose the other). Routing happens here, in SQL: one row per enabled channel whose
// filters let the change through.
import type { NotificationEventType } from "@fleetwatch/contracts";

/**
 * A CTE body (use as `queued AS (${enqueueNotifications("raised", "alert.raised")})`) that
 * writes one outbox row per matching channel for each alert row of `source`, a CTE returning
 * the alert's columns. The row carries a snapshot of the alert and its device as they were at
 * the change, so a delivery retried later still says what happened then.
 */
export function enqueueNotifications(source: string, event: NotificationEventType): string {
  // `event` is one of three constants (the type says so), never input: safe to inline.
  return `INSERT INTO notification_outbox (channel_id, event, alert_id, payload)
    SELECT c.id, '${event}', src.id,
           jsonb_build_object('alert', to_jsonb(src), 'occurredAt', now(),
             'device', CASE WHEN d.id IS NULL THEN NULL ELSE jsonb_build_object('id', d.id, 'name', d.name, 'tags', to_jsonb(d.tags)) END)
    FROM ${source} src
    LEFT JOIN devices d ON d.id = src.device_id
    JOIN notification_channels c ON c.enabled
      AND (c.event_types IS NULL OR '${event}' = ANY(c.event_types))
      AND (c.severities IS NULL OR src.severity = ANY(c.severities))
      AND (c.alert_kinds IS NULL OR src.kind = ANY(c.alert_kinds))
      AND (c.device_tags IS NULL OR d.tags && c.device_tags)`;
}
