// Notification channels: where alert state changes are delivered (a signed webhook, email, a
// Slack-compatible webhook), which of them each channel receives, and the log of every
// delivery attempt. Secrets are write-only: a channel reports only whether it has one.
import { Type, type Static } from "typebox";
import { AlertKind, Severity } from "./alerts.ts";

export const NotificationChannelType = Type.Union([Type.Literal("webhook"), Type.Literal("email"), Type.Literal("slack")]);
export type NotificationChannelType = Static<typeof NotificationChannelType>;

/** The alert state changes a channel can receive. */
export const NotificationEventType = Type.Union([
  Type.Literal("alert.raised"),
  Type.Literal("alert.acknowledged"),
  Type.Literal("alert.resolved"),
]);
export type NotificationEventType = Static<typeof NotificationEventType>;
export const NOTIFICATION_EVENT_TYPES: NotificationEventType[] = ["alert.raised", "alert.acknowledged", "alert.resolved"];

const Timestamp = Type.String({ format: "date-time" });

/** Upper bounds, so one channel cannot make every outbox row or log entry large. */
export const NOTIFICATION_LIMITS = { nameLength: 100, urlLength: 2048, secretLength: 256, recipients: 20, recipientLength: 254 };

const name = Type.String({ minLength: 1, maxLength: NOTIFICATION_LIMITS.nameLength, pattern: "\\S" });
const url = Type.String({
  minLength: 1,
  maxLength: NOTIFICATION_LIMITS.urlLength,
  description: "An http:// or https:// URL (webhook and slack)",
});
const secret = Type.String({
  minLength: 16,
  maxLength: NOTIFICATION_LIMITS.secretLength,
  description: "HMAC-SHA256 key for X-Fleetwatch-Signature; write-only. Omitted on create: one is generated and returned once",
});
const recipients = Type.Array(Type.String({ minLength: 3, maxLength: NOTIFICATION_LIMITS.recipientLength }), {
  minItems: 1,
  maxItems: NOTIFICATION_LIMITS.recipients,
  description: "Email addresses (email channels)",
});
/** A filter: null (or omitted) lets everything through; a list lets through only what it names. */
const filter = <T extends Parameters<typeof Type.Array>[0]>(item: T, description: string) =>
  Type.Union([Type.Array(item, { minItems: 1, maxItems: 50, uniqueItems: true }), Type.Null()], { description });

const filterFields = {
  severities: filter(Severity, "Only alerts of these severities; null: all"),
  alertKinds: filter(AlertKind, "Only alerts of these kinds; null: all"),
  deviceTags: filter(Type.String({ minLength: 1, maxLength: 100 }), "Only devices with at least one of these tags; null: all devices"),
  eventTypes: filter(NotificationEventType, "Only these state changes; null: all"),
};

export const NotificationChannel = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    name: Type.String(),
    type: NotificationChannelType,
    url: Type.Union([Type.String(), Type.Null()], {
      description: "The webhook's URL; for anyone but an admin only its origin followed by …, since such a URL is often its own credential",
    }),
    hasSecret: Type.Boolean({ description: "Whether a signing secret is set (the secret itself is never returned)" }),
    recipients: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    ...filterFields,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: "NotificationChannel" },
);
export type NotificationChannel = Static<typeof NotificationChannel>;

/** The answer to a create: the channel, and its secret this one time when Fleetwatch generated it. */
export const CreatedNotificationChannel = Type.Object(
  {
    ...NotificationChannel.properties,
    secret: Type.Optional(Type.String({ description: "The generated signing secret, shown once" })),
  },
  { $id: "CreatedNotificationChannel" },
);
export type CreatedNotificationChannel = Static<typeof CreatedNotificationChannel>;

export const NotificationChannelList = Type.Object({ items: Type.Array(NotificationChannel) }, { $id: "NotificationChannelList" });
export type NotificationChannelList = Static<typeof NotificationChannelList>;

export const CreateNotificationChannel = Type.Object(
  {
    name,
    type: NotificationChannelType,
    url: Type.Optional(url),
    secret: Type.Optional(secret),
    recipients: Type.Optional(recipients),
    enabled: Type.Optional(Type.Boolean()),
    severities: Type.Optional(filterFields.severities),
    alertKinds: Type.Optional(filterFields.alertKinds),
    deviceTags: Type.Optional(filterFields.deviceTags),
    eventTypes: Type.Optional(filterFields.eventTypes),
  },
  { additionalProperties: false },
);
export type CreateNotificationChannel = Static<typeof CreateNotificationChannel>;

/** A channel's type cannot change; a secret can be replaced, never read. */
export const UpdateNotificationChannel = Type.Partial(
  Type.Object({ name, url, secret, recipients, enabled: Type.Boolean(), ...filterFields }),
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateNotificationChannel = Static<typeof UpdateNotificationChannel>;

export const NotificationChannelParams = Type.Object({ id: Type.String({ format: "uuid" }) });

/** The outcome of one delivery attempt. */
export const DeliveryOutcome = Type.Union([
  Type.Literal("delivered"),
  Type.Literal("retrying"),
  Type.Literal("failed"),
  Type.Literal("suppressed"),
]);
export type DeliveryOutcome = Static<typeof DeliveryOutcome>;

export const DeliveryAttempt = Type.Object(
  {
    id: Type.Integer(),
    channelId: Type.String(),
    at: Timestamp,
    event: Type.String({ description: "alert.raised, alert.acknowledged, alert.resolved, digest or test" }),
    alertId: Type.Union([Type.Integer(), Type.Null()]),
    attempt: Type.Integer({ description: "1 for the first try of this delivery" }),
    outcome: DeliveryOutcome,
    responseCode: Type.Union([Type.Integer(), Type.Null()], { description: "HTTP status, or the SMTP reply code" }),
    response: Type.Union([Type.String(), Type.Null()], { description: "The SMTP reply, or the start of the HTTP response body" }),
    error: Type.Union([Type.String(), Type.Null()]),
    durationMs: Type.Integer(),
  },
  { $id: "DeliveryAttempt" },
);
export type DeliveryAttempt = Static<typeof DeliveryAttempt>;

export const DeliveryAttemptList = Type.Object({ items: Type.Array(DeliveryAttempt) }, { $id: "DeliveryAttemptList" });
export type DeliveryAttemptList = Static<typeof DeliveryAttemptList>;

export const DeliveryAttemptQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});
export type DeliveryAttemptQuery = Static<typeof DeliveryAttemptQuery>;

/** POST /api/notification-channels/:id/test: what the receiver answered. */
export const NotificationTestResult = Type.Object(
  {
    ok: Type.Boolean(),
    responseCode: Type.Union([Type.Integer(), Type.Null()]),
    response: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    durationMs: Type.Integer(),
  },
  { $id: "NotificationTestResult" },
);
export type NotificationTestResult = Static<typeof NotificationTestResult>;

/** The JSON body of a webhook delivery (signed: X-Fleetwatch-Signature: sha256=<hex HMAC of the raw body>). */
export const WebhookBody = Type.Object(
  {
    id: Type.String({ description: "This delivery's id: the same on every retry, so a receiver can drop repeats" }),
    event: Type.String({ description: "alert.raised, alert.acknowledged, alert.resolved, digest or test" }),
    occurredAt: Timestamp,
    alert: Type.Union([
      Type.Object({
        id: Type.Integer(),
        kind: AlertKind,
        severity: Severity,
        state: Type.String(),
        message: Type.String(),
        value: Type.Union([Type.Number(), Type.Null()]),
        raisedAt: Timestamp,
        acknowledgedAt: Type.Union([Timestamp, Type.Null()]),
        acknowledgedBy: Type.Union([Type.String(), Type.Null()]),
        resolvedAt: Type.Union([Timestamp, Type.Null()]),
      }),
      Type.Null(),
    ]),
    device: Type.Union([Type.Object({ id: Type.String(), name: Type.String(), tags: Type.Array(Type.String()) }), Type.Null()]),
    link: Type.String({ description: "The alert (or the alerts page) in the dashboard" }),
    text: Type.String({ description: "One line for people" }),
    digest: Type.Optional(Type.Object({ suppressed: Type.Integer(), windowMs: Type.Integer() })),
  },
  { $id: "WebhookBody" },
);
export type WebhookBody = Static<typeof WebhookBody>;
