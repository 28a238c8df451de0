// Telemetry history and the message log over HTTP: what the dashboard charts and exports.
import { Type, type Static } from "typebox";
import { MAX_METRIC_NAME_LENGTH } from "./payloads.ts";

const Timestamp = (description: string) => Type.String({ format: "date-time", description });

/** Most points one series request may ask for. */
export const MAX_SERIES_POINTS = 10_000;
export const DEFAULT_SERIES_POINTS = 500;
/** Without `from`, history and message searches cover the last day. */
export const DEFAULT_HISTORY_WINDOW_MS = 86_400_000;
export const MAX_MESSAGES_LIMIT = 1_000;
export const DEFAULT_MESSAGES_LIMIT = 100;

/** GET /api/devices/:id/metrics */
export const MetricSummary = Type.Object({
  metric: Type.String({ description: "Dotted metric name, e.g. env.temp" }),
  lastValue: Type.Number(),
  lastTime: Timestamp("Time of the latest reading"),
});
export type MetricSummary = Static<typeof MetricSummary>;

export const DeviceMetrics = Type.Object({ deviceId: Type.String(), metrics: Type.Array(MetricSummary) }, { $id: "DeviceMetrics" });
export type DeviceMetrics = Static<typeof DeviceMetrics>;

/** GET /api/devices/:id/telemetry (JSON: downsampled; CSV: the raw readings). */
export const TelemetryQuery = Type.Object({
  metric: Type.String({ minLength: 1, maxLength: MAX_METRIC_NAME_LENGTH, description: "Metric name, as listed by /metrics" }),
  from: Type.Optional(Timestamp("Start of the range, inclusive (default: `to` minus one day)")),
  to: Type.Optional(Timestamp("End of the range, exclusive (default: now)")),
  maxPoints: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_SERIES_POINTS, description: `Most buckets returned (default ${DEFAULT_SERIES_POINTS})` }),
  ),
});
export type TelemetryQuery = Static<typeof TelemetryQuery>;

export const TelemetryPoint = Type.Object({
  time: Timestamp("Start of the bucket"),
  min: Type.Number(),
  max: Type.Number(),
  avg: Type.Number(),
  count: Type.Integer({ description: "Readings in the bucket" }),
});
export type TelemetryPoint = Static<typeof TelemetryPoint>;

export const TelemetrySeries = Type.Object(
  {
    deviceId: Type.String(),
    metric: Type.String(),
    from: Timestamp("Start of the range"),
    to: Timestamp("End of the range"),
    bucketMs: Type.Integer({ description: "Width of each bucket in milliseconds; buckets start at `from`" }),
    points: Type.Array(TelemetryPoint, { description: "Non-empty buckets, oldest first" }),
  },
  { $id: "TelemetrySeries" },
);
export type TelemetrySeries = Static<typeof TelemetrySeries>;

/** GET /api/messages */
export const MessagesQuery = Type.Object({
  topic: Type.Optional(
    Type.String({ minLength: 1, maxLength: 1024, description: "MQTT topic filter; + matches one level, # the rest (default #)" }),
  ),
  from: Type.Optional(Timestamp("Start of the range, inclusive (default: `to` minus one day)")),
  to: Type.Optional(Timestamp("End of the range, exclusive (default: now)")),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_MESSAGES_LIMIT,
      description: `Most messages returned, newest first (default ${DEFAULT_MESSAGES_LIMIT})`,
    }),
  ),
});
export type MessagesQuery = Static<typeof MessagesQuery>;

export const LoggedMessage = Type.Object({
  deviceId: Type.String(),
  topic: Type.String(),
  payload: Type.String({ description: "The payload: UTF-8 text, or base64 when it is not valid UTF-8" }),
  payloadEncoding: Type.Union([Type.Literal("utf8"), Type.Literal("base64")]),
  qos: Type.Integer({ minimum: 0, maximum: 2 }),
  retain: Type.Boolean(),
  receivedAt: Timestamp("When the broker received it"),
});
export type LoggedMessage = Static<typeof LoggedMessage>;

export const MessageList = Type.Object({ messages: Type.Array(LoggedMessage) }, { $id: "MessageList" });
export type MessageList = Static<typeof MessageList>;
