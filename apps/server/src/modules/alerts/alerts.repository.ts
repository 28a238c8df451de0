// Alerts, alert rules and rule hold state in PostgreSQL. "At most one open alert per device
// and rule (or offline)" is the partial unique index alerts_one_open_idx: every raise is an
// INSERT ... ON CONFLICT DO NOTHING, so nodes racing to raise the same alert raise it once.
// Every statement that changes an alert's state also queues its notifications (a CTE from
// enqueueNotifications), so the change and its outbox rows commit together.
import type pg from "pg";
import type { Alert, AlertListQuery, AlertRule, Comparison, CreateAlertRule, Severity } from "@fleetwatch/contracts";
import { withTransaction } from "../../db/transaction.ts";
import { enqueueNotifications } from "../notifications/outbox-sql.ts";

interface AlertRow {
  id: string;
  device_id: string;
  kind: Alert["kind"];
  rule_id: string | null;
  state: Alert["state"];
  severity: Severity;
  message: string;
  value: number | null;
  raised_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
}

interface RuleRow {
  id: string;
  name: string;
  device_id: string | null;
  tag: string | null;
  metric: string;
  comparison: Comparison;
  threshold: number;
  duration_ms: number;
  severity: Severity;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const ALERT_COLUMNS =
  "id, device_id, kind, rule_id, state, severity, message, value, raised_at, acknowledged_at, acknowledged_by, resolved_at";
const RULE_COLUMNS = "id, name, device_id, tag, metric, comparison, threshold, duration_ms, severity, enabled, created_at, updated_at";
/** The open alert of one device and one rule: rule_key 'offline' or 'rule:<id>'. */
export const ruleKey = (ruleId: number) => `rule:${ruleId}`;

export function toAlert(row: AlertRow): Alert {
  return {
    id: Number(row.id),
    deviceId: row.device_id,
    kind: row.kind,
    ruleId: row.rule_id === null ? null : Number(row.rule_id),
    state: row.state,
    severity: row.severity,
    message: row.message,
    value: row.value,
    raisedAt: row.raised_at.toISOString(),
    acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: row.resolved_at?.toISOString() ?? null,
  };
}

function toRule(row: RuleRow): AlertRule {
  return {
    id: Number(row.id),
    name: row.name,
    deviceId: row.device_id,
    tag: row.tag,
    metric: row.metric,
    comparison: row.comparison,
    threshold: row.threshold,
    durationMs: row.duration_ms,
    severity: row.severity,
    enabled: row.enabled,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export type AcknowledgeResult =
  { outcome: "acknowledged" | "unchanged"; alert: Alert } | { outcome: "resolved"; alert: Alert } | { outcome: "not-found" };

export class AlertsRepository {
  constructor(private readonly pool: pg.Pool) {}

  // ---- alerts ------------------------------------------------------------------------

  async list(query: AlertListQuery): Promise<{ items: Alert[]; nextCursor: number | null }> {
    const limit = query.limit ?? 50;
    const { rows } = await this.pool.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM alerts
       WHERE ($1::text IS NULL OR state = $1 OR ($1 = 'open' AND state <> 'resolved'))
         AND ($2::text IS NULL OR device_id = $2)
         AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [query.state ?? null, query.deviceId ?? null, query.cursor ?? null, limit + 1],
    );
    const items = rows.slice(0, limit).map(toAlert);
    return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  async acknowledge(id: number, by: string | null): Promise<AcknowledgeResult> {
    const updated = await this.pool.query<AlertRow>(
      `WITH changed AS (
         UPDATE alerts SET state = 'acknowledged', acknowledged_at = now(), acknowledged_by = $2
         WHERE id = $1 AND state = 'active' RETURNING ${ALERT_COLUMNS}),
       queued AS (${enqueueNotifications("changed", "alert.acknowledged")})
       SELECT * FROM changed`,
      [id, by],
    );
    if (updated.rows[0]) return { outcome: "acknowledged", alert: toAlert(updated.rows[0]) };
    const current = await this.pool.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1`, [id]);
    const row = current.rows[0];
    if (!row) return { outcome: "not-found" };
    return { outcome: row.state === "resolved" ? "resolved" : "unchanged", alert: toAlert(row) };
  }

  /**
   * Raises an offline alert for each device that is offline after an unexpected loss whose
   * offline event is confirmed, and resolves the offline alerts of devices that are online.
   * Derived from device_presence, so it is idempotent and repairs itself after a crash.
   */
  async syncOffline(deviceIds: string[] | null): Promise<{ raised: Alert[]; resolved: Alert[] }> {
    const raised = await this.pool.query<AlertRow>(
      `WITH changed AS (INSERT INTO alerts (device_id, kind, rule_key, severity, message)
       SELECT p.device_id, 'offline', 'offline', 'critical',
              'Device went offline unexpectedly (' || p.offline_reason || ')'
       FROM device_presence p
       WHERE NOT p.online AND p.offline_unexpected AND NOT p.offline_pending
         AND ($1::text[] IS NULL OR p.device_id = ANY($1::text[]))
         AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = p.device_id AND a.rule_key = 'offline' AND a.state <> 'resolved')
       ON CONFLICT (device_id, rule_key) WHERE state <> 'resolved' DO NOTHING
       RETURNING ${ALERT_COLUMNS}),
       queued AS (${enqueueNotifications("changed", "alert.raised")})
       SELECT * FROM changed`,
      [deviceIds],
    );
    const resolved = await this.pool.query<AlertRow>(
      `WITH changed AS (UPDATE alerts a SET state = 'resolved', resolved_at = now()
       FROM device_presence p
       WHERE a.rule_key = 'offline' AND a.state <> 'resolved' AND p.device_id = a.device_id AND p.online
         AND ($1::text[] IS NULL OR a.device_id = ANY($1::text[]))
       RETURNING ${ALERT_COLUMNS.split(", ")
         .map((c) => `a.${c}`)
         .join(", ")}),
       queued AS (${enqueueNotifications("changed", "alert.resolved")})
       SELECT * FROM changed`,
      [deviceIds],
    );
    return { raised: raised.rows.map(toAlert), resolved: resolved.rows.map(toAlert) };
  }

  // ---- threshold rule evaluation -----------------------------------------------------

  /** The rule's condition holds for the device: starts its hold time if new; returns whether the hold time has passed. */
  async violated(rule: AlertRule, deviceId: string, value: number): Promise<boolean> {
    const { rows } = await this.pool.query<{ due: boolean }>(
      `INSERT INTO alert_rule_states (rule_id, device_id, pending_since, last_value) VALUES ($1, $2, now(), $3)
       ON CONFLICT (rule_id, device_id) DO UPDATE SET last_value = EXCLUDED.last_value, updated_at = now()
       RETURNING pending_since <= now() - make_interval(secs => $4::float8 / 1000) AS due`,
      [rule.id, deviceId, value, rule.durationMs],
    );
    return rows[0]?.due ?? false;
  }

  /** The condition no longer holds: forgets its start and resolves the rule's open alert for the device. */
  async cleared(ruleId: number, deviceId: string): Promise<Alert[]> {
    const { rows } = await this.pool.query<AlertRow>(
      `WITH forgotten AS (DELETE FROM alert_rule_states WHERE rule_id = $1 AND device_id = $2),
       changed AS (UPDATE alerts SET state = 'resolved', resolved_at = now()
         WHERE device_id = $2 AND rule_key = $3 AND state <> 'resolved'
         RETURNING ${ALERT_COLUMNS}),
       queued AS (${enqueueNotifications("changed", "alert.resolved")})
       SELECT * FROM changed`,
      [ruleId, deviceId, ruleKey(ruleId)],
    );
    return rows.map(toAlert);
  }

  /**
   * Raises threshold alerts whose condition has held for the rule's duration: for one rule
   * and device (right after a reading), or for all (the sweep, which also catches devices
   * that went quiet while in violation, and hold times that ran out during a restart).
   */
  async raiseDue(only?: { ruleId: number; deviceId: string }): Promise<Alert[]> {
    const { rows } = await this.pool.query<AlertRow>(
      `WITH changed AS (INSERT INTO alerts (device_id, kind, rule_id, rule_key, severity, message, value)
       SELECT s.device_id, 'threshold', r.id, 'rule:' || r.id, r.severity,
              r.name || ': ' || r.metric || ' ' || r.comparison || ' ' || r.threshold::text || ' (value ' || s.last_value::text || ')',
              s.last_value
       FROM alert_rule_states s JOIN alert_rules r ON r.id = s.rule_id
       WHERE r.enabled AND s.pending_since <= now() - r.duration_ms * interval '1 millisecond'
         AND ($1::bigint IS NULL OR (s.rule_id = $1 AND s.device_id = $2))
         AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = s.device_id AND a.rule_key = 'rule:' || r.id AND a.state <> 'resolved')
       ON CONFLICT (device_id, rule_key) WHERE state <> 'resolved' DO NOTHING
       RETURNING ${ALERT_COLUMNS}),
       queued AS (${enqueueNotifications("changed", "alert.raised")})
       SELECT * FROM changed`,
      [only?.ruleId ?? null, only?.deviceId ?? null],
    );
    return rows.map(toAlert);
  }

  // ---- rules -------------------------------------------------------------------------

  async listRules(enabledOnly = false): Promise<AlertRule[]> {
    const { rows } = await this.pool.query<RuleRow>(
      `SELECT ${RULE_COLUMNS} FROM alert_rules ${enabledOnly ? "WHERE enabled" : ""} ORDER BY id`,
    );
    return rows.map(toRule);
  }

  async getRule(id: number): Promise<AlertRule | null> {
    const { rows } = await this.pool.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = $1`, [id]);
    return rows[0] ? toRule(rows[0]) : null;
  }

  async createRule(rule: Required<CreateAlertRule>): Promise<AlertRule> {
    const { rows } = await this.pool.query<RuleRow>(
      `INSERT INTO alert_rules (name, device_id, tag, metric, comparison, threshold, duration_ms, severity, enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${RULE_COLUMNS}`,
      [rule.name, rule.deviceId, rule.tag, rule.metric, rule.comparison, rule.threshold, rule.durationMs, rule.severity, rule.enabled],
    );
    return toRule(rows[0] as RuleRow);
  }

  /**
   * Replaces a rule's fields. Its hold state is forgotten and its open alerts are resolved:
   * they were raised under the old condition, which may never be cleared under the new one.
   */
  updateRule(id: number, rule: Omit<AlertRule, "id" | "createdAt" | "updatedAt">): Promise<{ rule: AlertRule; resolved: Alert[] } | null> {
    return withTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<RuleRow>(
        `UPDATE alert_rules SET name = $2, device_id = $3, tag = $4, metric = $5, comparison = $6, threshold = $7,
           duration_ms = $8, severity = $9, enabled = $10, updated_at = now()
         WHERE id = $1 RETURNING ${RULE_COLUMNS}`,
        [
          id,
          rule.name,
          rule.deviceId,
          rule.tag,
          rule.metric,
          rule.comparison,
          rule.threshold,
          rule.durationMs,
          rule.severity,
          rule.enabled,
        ],
      );
      if (!rows[0]) return null;
      const resolved = await this.#retireRule(tx, id);
      return { rule: toRule(rows[0]), resolved };
    });
  }

  /** Deletes a rule; its open alerts are resolved and keep their history (rule_id becomes null). */
  deleteRule(id: number): Promise<{ resolved: Alert[] } | null> {
    return withTransaction(this.pool, async (tx) => {
      const exists = await tx.query("SELECT 1 FROM alert_rules WHERE id = $1 FOR UPDATE", [id]);
      if (exists.rowCount === 0) return null;
      const resolved = await this.#retireRule(tx, id);
      await tx.query("DELETE FROM alert_rules WHERE id = $1", [id]);
      return { resolved: resolved.map((alert) => ({ ...alert, ruleId: null })) };
    });
  }

  async #retireRule(tx: pg.PoolClient, id: number): Promise<Alert[]> {
    await tx.query("DELETE FROM alert_rule_states WHERE rule_id = $1", [id]);
    const { rows } = await tx.query<AlertRow>(
      `WITH changed AS (
         UPDATE alerts SET state = 'resolved', resolved_at = now() WHERE rule_key = $1 AND state <> 'resolved' RETURNING ${ALERT_COLUMNS}),
       queued AS (${enqueueNotifications("changed", "alert.resolved")})
       SELECT * FROM changed`,
      [ruleKey(id)],
    );
    return rows.map(toAlert);
  }
}
