import { Type, type Static } from "typebox";
import { DEVICE_ID_PATTERN } from "./topics.ts";

export const AlertState = Type.Union([Type.Literal("active"), Type.Literal("acknowledged"), Type.Literal("resolved")]);
export type AlertState = Static<typeof AlertState>;
export const AlertKind = Type.Union([Type.Literal("offline"), Type.Literal("threshold")]);
export type AlertKind = Static<typeof AlertKind>;
export const Severity = Type.Union([Type.Literal("info"), Type.Literal("warning"), Type.Literal("critical")]);
export type Severity = Static<typeof Severity>;
export const Comparison = Type.Union([
  Type.Literal(">"),
  Type.Literal(">="),
  Type.Literal("<"),
  Type.Literal("<="),
  Type.Literal("=="),
  Type.Literal("!="),
]);
export type Comparison = Static<typeof Comparison>;

const Timestamp = Type.String({ format: "date-time" });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/** An alert: active → acknowledged → resolved (or active → resolved). */
export const Alert = Type.Object(
  {
    id: Type.Integer(),
    deviceId: Type.String(),
    kind: AlertKind,
    ruleId: Type.Union([Type.Integer(), Type.Null()], { description: "The threshold rule; null for offline alerts and deleted rules" }),
    state: AlertState,
    severity: Severity,
    message: Type.String(),
    value: Type.Union([Type.Number(), Type.Null()], { description: "The reading that raised a threshold alert" }),
    raisedAt: Timestamp,
    acknowledgedAt: NullableTimestamp,
    acknowledgedBy: Type.Union([Type.String(), Type.Null()]),
    resolvedAt: NullableTimestamp,
  },
  { $id: "Alert" },
);
export type Alert = Static<typeof Alert>;

export const AlertListQuery = Type.Object({
  state: Type.Optional(Type.Union([AlertState, Type.Literal("open")], { description: "open: active or acknowledged" })),
  deviceId: Type.Optional(Type.String({ pattern: DEVICE_ID_PATTERN })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.Integer({ minimum: 1, description: "nextCursor of the previous page" })),
});
export type AlertListQuery = Static<typeof AlertListQuery>;

/** GET /api/alerts: newest first; pass nextCursor as cursor for the next page (null: last page). */
export const AlertList = Type.Object(
  {
    items: Type.Array(Alert),
    nextCursor: Type.Union([Type.Integer(), Type.Null()]),
  },
  { $id: "AlertList" },
);
export type AlertList = Static<typeof AlertList>;

export const AlertParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** Acknowledging takes no fields: who acknowledged is the signed-in operator, never a claim in the body. */
export const AcknowledgeAlert = Type.Object({}, { additionalProperties: false });
export type AcknowledgeAlert = Static<typeof AcknowledgeAlert>;

/**
 * A threshold rule: for one device or every device with a tag, raise an alert when `metric`
 * compared with `threshold` holds for `durationMs`, and resolve it when it no longer does.
 */
export const AlertRule = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    deviceId: Type.Union([Type.String(), Type.Null()]),
    tag: Type.Union([Type.String(), Type.Null()]),
    metric: Type.String(),
    comparison: Comparison,
    threshold: Type.Number(),
    durationMs: Type.Integer(),
    severity: Severity,
    enabled: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: "AlertRule" },
);
export type AlertRule = Static<typeof AlertRule>;

/** The longest hold duration a rule may have: a week. */
export const MAX_RULE_HOLD_MS = 7 * 24 * 3600 * 1000;

const ruleFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  deviceId: Type.Union([Type.String({ pattern: DEVICE_ID_PATTERN }), Type.Null()], { description: "Exactly one of deviceId and tag" }),
  tag: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
  metric: Type.String({ minLength: 1, maxLength: 200, description: "A reading name, e.g. temp or env.humidity" }),
  comparison: Comparison,
  threshold: Type.Number(),
  durationMs: Type.Integer({ minimum: 0, maximum: MAX_RULE_HOLD_MS, description: "How long the condition must hold" }),
  severity: Severity,
  enabled: Type.Boolean(),
};

export const CreateAlertRule = Type.Object(
  {
    name: ruleFields.name,
    deviceId: Type.Optional(ruleFields.deviceId),
    tag: Type.Optional(ruleFields.tag),
    metric: ruleFields.metric,
    comparison: ruleFields.comparison,
    threshold: ruleFields.threshold,
    durationMs: Type.Optional(ruleFields.durationMs),
    severity: Type.Optional(ruleFields.severity),
    enabled: Type.Optional(ruleFields.enabled),
  },
  { additionalProperties: false },
);
export type CreateAlertRule = Static<typeof CreateAlertRule>;

export const UpdateAlertRule = Type.Partial(Type.Object(ruleFields), { additionalProperties: false, minProperties: 1 });
export type UpdateAlertRule = Static<typeof UpdateAlertRule>;

export const AlertRuleParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const AlertRuleList = Type.Object({ items: Type.Array(AlertRule) }, { $id: "AlertRuleList" });
export type AlertRuleList = Static<typeof AlertRuleList>;
