// Notification channels, the outbox and the delivery log, in plain SQL (the outbox rows are
// written by the alerts repository's statements, see outbox-sql.ts).
//
// Claiming: a dispatcher takes due rows with FOR UPDATE SKIP LOCKED and stamps them with a
// lease (claimed_until) and a claim token in the same statement, so two nodes never take the
// same row. At most one row per channel is in flight across the cluster: a slow receiver ties
// up one delivery slot, and a channel receives its events one after another.
import type pg from "pg";
import type {
  DeliveryAttempt,
  DeliveryOutcome,
  NotificationChannel,
  NotificationChannelType,
  NotificationEventType,
} from "@fleetwatch/contracts";
import type { AlertKind, Severity } from "@fleetwatch/contracts";

interface ChannelRow {
  id: string;
  name: string;
  type: NotificationChannelType;
  url: string | null;
  secret: string | null;
  recipients: string[];
  enabled: boolean;
  severities: Severity[] | null;
  alert_kinds: AlertKind[] | null;
  device_tags: string[] | null;
  event_types: NotificationEventType[] | null;
  created_at: Date;
  updated_at: Date;
}

/** The fields of a channel that are stored (the service has validated them). */
export interface ChannelFields {
  name: string;
  type: NotificationChannelType;
  url: string | null;
  secret: string | null;
  recipients: string[];
  enabled: boolean;
  severities: Severity[] | null;
  alertKinds: AlertKind[] | null;
  deviceTags: string[] | null;
  eventTypes: NotificationEventType[] | null;
}

/** A channel as the dispatcher needs it: where and how to send, with its secret. */
export type ChannelTarget = { id: string } & Pick<ChannelFields, "name" | "type" | "url" | "secret" | "recipients">;

/** The snapshot an outbox row carries: the alert row and its device at the change. */
export interface OutboxPayload {
  occurredAt: string;
  alert?: {
    id: number | string;
    device_id: string;
    kind: AlertKind;
    state: string;
    severity: Severity;
    message: string;
    value: number | null;
    raised_at: string;
    acknowledged_at: string | null;
    acknowledged_by: string | null;
    resolved_at: string | null;
  };
  device?: { id: string; name: string; tags: string[] } | null;
  suppressed?: number;
  windowMs?: number;
}

export interface ClaimedDelivery {
  id: number;
  event: string;
  alertId: number | null;
  payload: OutboxPayload;
  attempt: number;
  claimToken: string;
  channel: ChannelTarget;
}

export interface AttemptRecord {
  channelId: string;
  outboxId: number | null;
  event: string;
  alertId: number | null;
  attempt: number;
  outcome: DeliveryOutcome;
  responseCode: number | null;
  response: string | null;
  error: string | null;
  durationMs: number;
}

const CHANNEL_COLUMNS =
  "id, name, type, url, secret, recipients, enabled, severities, alert_kinds, device_tags, event_types, created_at, updated_at";

function toChannel(row: ChannelRow): NotificationChannel {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    url: row.url,
    hasSecret: row.secret !== null,
    recipients: row.recipients,
    enabled: row.enabled,
    severities: row.severities,
    alertKinds: row.alert_kinds,
    deviceTags: row.device_tags,
    eventTypes: row.event_types,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

interface AttemptRow {
  id: string;
  channel_id: string;
  at: Date;
  event: string;
  alert_id: string | null;
  attempt: number;
  outcome: DeliveryOutcome;
  response_code: number | null;
  response: string | null;
  error: string | null;
  duration_ms: number;
}

function toAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    id: Number(row.id),
    channelId: row.channel_id,
    at: row.at.toISOString(),
    event: row.event,
    alertId: row.alert_id === null ? null : Number(row.alert_id),
    attempt: row.attempt,
    outcome: row.outcome,
    responseCode: row.response_code,
    response: row.response,
    error: row.error,
    durationMs: row.duration_ms,
  };
}

const INSERT_ATTEMPT = `INSERT INTO notification_attempts
  (channel_id, outbox_id, event, alert_id, attempt, outcome, response_code, response, error, duration_ms)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;
const attemptValues = (a: AttemptRecord) => [
  a.channelId,
  a.outboxId,
  a.event,
  a.alertId,
  a.attempt,
  a.outcome,
  a.responseCode,
  a.response,
  a.error,
  a.durationMs,
];

export class NotificationsRepository {
  constructor(private readonly pool: pg.Pool) {}

  // ---- channels ----------------------------------------------------------------------

  async list(): Promise<NotificationChannel[]> {
    const { rows } = await this.pool.query<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels ORDER BY created_at, id`);
    return rows.map(toChannel);
  }

  async get(id: string): Promise<(NotificationChannel & { secret: string | null }) | null> {
    const { rows } = await this.pool.query<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1`, [id]);
    return rows[0] ? { ...toChannel(rows[0]), secret: rows[0].secret } : null;
  }

  async create(fields: ChannelFields): Promise<NotificationChannel> {
    const { rows } = await this.pool.query<ChannelRow>(
      `INSERT INTO notification_channels (name, type, url, secret, recipients, enabled, severities, alert_kinds, device_tags, event_types)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${CHANNEL_COLUMNS}`,
      [
        fields.name,
        fields.type,
        fields.url,
        fields.secret,
        fields.recipients,
        fields.enabled,
        fields.severities,
        fields.alertKinds,
        fields.deviceTags,
        fields.eventTypes,
      ],
    );
    return toChannel(rows[0] as ChannelRow);
  }

  async update(id: string, fields: ChannelFields): Promise<NotificationChannel | null> {
    const { rows } = await this.pool.query<ChannelRow>(
      `UPDATE notification_channels SET name = $2, url = $3, secret = $4, recipients = $5, enabled = $6, severities = $7,
         alert_kinds = $8, device_tags = $9, event_types = $10, updated_at = now()
       WHERE id = $1 RETURNING ${CHANNEL_COLUMNS}`,
      [
        id,
        fields.name,
        fields.url,
        fields.secret,
        fields.recipients,
        fields.enabled,
        fields.severities,
        fields.alertKinds,
        fields.deviceTags,
        fields.eventTypes,
      ],
    );
    return rows[0] ? toChannel(rows[0]) : null;
  }

  /** Deletes a channel with its queued deliveries and its log. */
  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query("DELETE FROM notification_channels WHERE id = $1", [id]);
    return (rowCount ?? 0) > 0;
  }

  async attempts(channelId: string, limit: number): Promise<DeliveryAttempt[]> {
    const { rows } = await this.pool.query<AttemptRow>(
      `SELECT id, channel_id, at, event, alert_id, attempt, outcome, response_code, response, error, duration_ms
       FROM notification_attempts WHERE channel_id = $1 ORDER BY id DESC LIMIT $2`,
      [channelId, limit],
    );
    return rows.map(toAttempt);
  }

  async recordAttempt(attempt: AttemptRecord): Promise<void> {
    await this.pool.query(INSERT_ATTEMPT, attemptValues(attempt));
  }

  // ---- the outbox --------------------------------------------------------------------

  /**
   * Claims up to `limit` due deliveries, at most one per channel and none of a channel that
   * already has one in flight (on any node), for `leaseMs`.
   */
  async claim(limit: number, leaseMs: number, claimToken: string): Promise<ClaimedDelivery[]> {
    const { rows } = await this.pool.query<{
      id: string;
      event: string;
      alert_id: string | null;
      payload: OutboxPayload;
      attempts: number;
      channel_id: string;
      name: string;
      type: NotificationChannelType;
      url: string | null;
      secret: string | null;
      recipients: string[];
    }>(
      `WITH candidates AS (
         SELECT o.id, o.channel_id FROM notification_outbox o
         WHERE o.status = 'pending' AND o.next_attempt_at <= now()
           AND (o.claimed_until IS NULL OR o.claimed_until < now())
           AND NOT EXISTS (SELECT 1 FROM notification_outbox b
                           WHERE b.channel_id = o.channel_id AND b.status = 'pending' AND b.claimed_until >= now())
         ORDER BY o.id
         LIMIT 200
         FOR UPDATE OF o SKIP LOCKED),
       firsts AS (SELECT DISTINCT ON (channel_id) id FROM candidates ORDER BY channel_id, id),
       chosen AS (SELECT id FROM firsts ORDER BY id LIMIT $1),
       claimed AS (
         UPDATE notification_outbox o SET claimed_until = now() + make_interval(secs => $2::float8 / 1000),
           claim_token = $3, attempts = o.attempts + 1
         FROM chosen WHERE o.id = chosen.id
         RETURNING o.id, o.event, o.alert_id, o.payload, o.attempts, o.channel_id)
       SELECT claimed.*, c.name, c.type, c.url, c.secret, c.recipients
       FROM claimed JOIN notification_channels c ON c.id = claimed.channel_id
       ORDER BY claimed.id`,
      [limit, leaseMs, claimToken],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      event: row.event,
      alertId: row.alert_id === null ? null : Number(row.alert_id),
      payload: row.payload,
      attempt: row.attempts,
      claimToken,
      channel: { id: row.channel_id, name: row.name, type: row.type, url: row.url, secret: row.secret, recipients: row.recipients },
    }));
  }

  /**
   * Settles a claimed delivery and logs the attempt, in one statement: delivered or failed
   * (final), suppressed (over the rate limit, summed up by a digest later), or retried at
   * `retryInMs`. Returns false when the claim had lapsed and another node took the row over.
   */
  async settle(delivery: ClaimedDelivery, attempt: AttemptRecord, retryInMs?: number): Promise<boolean> {
    const status = attempt.outcome === "retrying" ? "pending" : attempt.outcome;
    const { rows } = await this.pool.query<{ settled: boolean }>(
      `WITH settled AS (
         UPDATE notification_outbox SET status = $12, claimed_until = NULL, claim_token = NULL, last_error = $9,
           next_attempt_at = CASE WHEN $12 = 'pending' THEN now() + make_interval(secs => $13::float8 / 1000) ELSE next_attempt_at END,
           finished_at = CASE WHEN $12 = 'pending' THEN NULL ELSE now() END
         WHERE id = $2 AND claim_token = $11 RETURNING id),
       logged AS (${INSERT_ATTEMPT})
       SELECT EXISTS (SELECT 1 FROM settled) AS settled`,
      [...attemptValues(attempt), delivery.claimToken, status, retryInMs ?? 0],
    );
    return rows[0]?.settled ?? false;
  }

  /**
   * Deletes the delivery history older than `days`: finished outbox rows (delivered, failed,
   * digested; never a pending or suppressed one, which still has work ahead) and attempts. In
   * batches, so a first prune of a long history holds no lock for long; any node may run it at
   * any time (a row two nodes both pick is deleted once).
   */
  async pruneHistory(days: number, batch = 5_000): Promise<{ outbox: number; attempts: number }> {
    const inBatches = async (sql: string) => {
      let removed = 0;
      for (;;) {
        const { rowCount } = await this.pool.query(sql, [days, batch]);
        removed += rowCount ?? 0;
        if ((rowCount ?? 0) < batch) return removed;
      }
    };
    return {
      outbox: await inBatches(
        `DELETE FROM notification_outbox WHERE id IN (
           SELECT id FROM notification_outbox
           WHERE finished_at < now() - make_interval(days => $1) AND status IN ('delivered', 'failed', 'digested')
           LIMIT $2)`,
      ),
      attempts: await inBatches(
        `DELETE FROM notification_attempts WHERE id IN (
           SELECT id FROM notification_attempts WHERE at < now() - make_interval(days => $1) LIMIT $2)`,
      ),
    };
  }

  /** How many deliveries the channel has sent within the last `windowMs`. */
  async sentWithin(channelId: string, windowMs: number): Promise<number> {
    const { rows } = await this.pool.query<{ sent: number }>(
      `SELECT count(*)::int AS sent FROM notification_outbox
       WHERE channel_id = $1 AND status = 'delivered' AND finished_at > now() - make_interval(secs => $2::float8 / 1000)`,
      [channelId, windowMs],
    );
    return rows[0]?.sent ?? 0;
  }

  /**
   * For each channel whose oldest suppressed event is `windowMs` old, queues one digest that
   * counts its suppressed events and marks them digested (once: a second node's UPDATE finds
   * them no longer suppressed). Returns how many digests were queued.
   */
  async queueDigests(windowMs: number): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(
      `WITH due AS (
         SELECT channel_id FROM notification_outbox WHERE status = 'suppressed'
         GROUP BY channel_id HAVING min(created_at) <= now() - make_interval(secs => $1::float8 / 1000)),
       taken AS (
         UPDATE notification_outbox o SET status = 'digested', finished_at = now()
         WHERE o.status = 'suppressed' AND o.channel_id IN (SELECT channel_id FROM due)
         RETURNING o.channel_id)
       INSERT INTO notification_outbox (channel_id, event, payload)
       SELECT channel_id, 'digest', jsonb_build_object('suppressed', count(*), 'windowMs', $1::int, 'occurredAt', now())
       FROM taken GROUP BY channel_id
       RETURNING id`,
      [windowMs],
    );
    return rows.length;
  }
}
