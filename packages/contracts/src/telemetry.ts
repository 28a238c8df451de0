// Telemetry history and the message log over HTTP: what the dashboard charts and exports.
import { Type, type Static } from "typebox";
import { MessageProperties } from "./message-properties.ts";
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
const MetricName = Type.String({ minLength: 1, maxLength: MAX_METRIC_NAME_LENGTH, description: "Metric name, as listed by /metrics" });

export const TelemetryQuery = Type.Object({
  metric: MetricName,
  from: Type.Optional(Timestamp("Start of the range, inclusive (default: `to` minus one day)")),
  to: Type.Optional(Timestamp("End of the range, exclusive (default: now)")),
  maxPoints: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_SERIES_POINTS, description: `Most buckets returned (default ${DEFAULT_SERIES_POINTS})` }),
  ),
});
export type TelemetryQuery = Static<typeof TelemetryQuery>;

/**
 * Buckets start at BUCKET_ORIGIN + k × bucketMs: fixed boundaries from the Unix epoch, so a
 * bucket's bounds never depend on the range asked for, and a bucket whose interval is over
 * never changes.
 */
export const BUCKET_ORIGIN = "1970-01-01T00:00:00.000Z";

export const TelemetryPoint = Type.Object({
  time: Timestamp("Start of the bucket: BUCKET_ORIGIN + k × bucketMs"),
  at: Timestamp("The mean time of the bucket's readings: where to draw the point, always inside the bucket"),
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
    from: Timestamp("Start of the requested range"),
    to: Timestamp("End of the requested range"),
    bucketMs: Type.Integer({
      description:
        "Width of every bucket in milliseconds: the narrowest of 1, 2, 5, 10, … ms, 1, 2, 5, 10, 15, 20, 30 s, 1, 2, 3, 5, 10, 15, 20, 30 min, 1, 2, 3, 4, 6, 8, 12 h or whole days that covers the range in at most maxPoints buckets",
    }),
    bucketOrigin: Type.Literal(BUCKET_ORIGIN, {
      description:
        "Buckets are aligned to bucketOrigin + k × bucketMs (the Unix epoch), not to `from`. The first and last buckets are whole: they may reach beyond `from` and `to`, and count all their readings",
    }),
    points: Type.Array(TelemetryPoint, { description: "Non-empty buckets, oldest first; an empty bucket is a gap in the data" }),
  },
  { $id: "TelemetrySeries" },
);
export type TelemetrySeries = Static<typeof TelemetrySeries>;

/** Most metrics one CSV export may combine. */
export const MAX_EXPORT_METRICS = 50;

/** GET /api/devices/:id/telemetry.csv: the raw readings of one or more metrics. */
export const TelemetryExportQuery = Type.Object({
  metric: Type.Array(MetricName, {
    minItems: 1,
    maxItems: MAX_EXPORT_METRICS,
    description: "The metrics to export: repeat the parameter for several (metric=temp&metric=env.humidity)",
  }),
  from: Type.Optional(Timestamp("Start of the range, inclusive (default: `to` minus one day)")),
  to: Type.Optional(Timestamp("End of the range, exclusive (default: now)")),
  layout: Type.Optional(
    Type.Union([Type.Literal("long"), Type.Literal("wide")], {
      description:
        "long (default): one row per reading, `time,metric,value`. wide: one row per time, `time,<metric>,<metric>,…`, a cell left empty where that metric has no reading at that time",
    }),
  ),
});
export type TelemetryExportQuery = Static<typeof TelemetryExportQuery>;
export type CsvLayout = NonNullable<TelemetryExportQuery["layout"]>;

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
  properties: Type.Optional(MessageProperties),
});
export type LoggedMessage = Static<typeof LoggedMessage>;

export const MessageList = Type.Object({ messages: Type.Array(LoggedMessage) }, { $id: "MessageList" });
export type MessageList = Static<typeof MessageList>;
