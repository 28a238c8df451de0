// Dashboards of one's own: /api/dashboards. A dashboard is a name and a list of widgets, each
// configured by a form (no code) and placed on a 12-column grid. The same widget schema
// validates saves, imports and the export file, so a file that imports is a dashboard that draws.
import { Type, type Static } from "typebox";
import { DEVICE_ID_PATTERN } from "./topics.ts";
import { Alert } from "./alerts.ts";
import { RetainedEntry } from "./state.ts";
import { MAX_METRIC_NAME_LENGTH } from "./payloads.ts";
import { TelemetryPoint } from "./telemetry.ts";

export const GRID_COLUMNS = 12;
export const MAX_WIDGETS = 50;
export const MAX_SOURCES = 8;
export const DASHBOARD_FORMAT = "fleetwatch-dashboard";
export const DASHBOARD_FORMAT_VERSION = 1;

const DeviceId = Type.String({ pattern: DEVICE_ID_PATTERN, minLength: 1, maxLength: 64 });
const Tag = Type.String({ minLength: 1, maxLength: 64, pattern: "^[^\\s,;]+$", description: "A device tag" });
const Metric = Type.String({ minLength: 1, maxLength: MAX_METRIC_NAME_LENGTH });
const Finite = Type.Number({ minimum: -1e300, maximum: 1e300 });

export const Aggregate = Type.Union([Type.Literal("avg"), Type.Literal("min"), Type.Literal("max")]);
export type Aggregate = Static<typeof Aggregate>;

/** Where a widget's numbers come from: one device's metric, or an aggregate of a metric over the devices with a tag. */
export const WidgetSource = Type.Union([
  Type.Object({ kind: Type.Literal("device"), deviceId: DeviceId, metric: Metric }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal("tag"), tag: Tag, metric: Metric, aggregate: Aggregate }, { additionalProperties: false }),
]);
export type WidgetSource = Static<typeof WidgetSource>;

/** A value at or past `warning` (or `critical`) is drawn in that colour; `above` or `below` says which side is bad. */
export const Thresholds = Type.Object(
  {
    direction: Type.Union([Type.Literal("above"), Type.Literal("below")]),
    warning: Type.Optional(Finite),
    critical: Type.Optional(Finite),
  },
  { additionalProperties: false },
);
export type Thresholds = Static<typeof Thresholds>;

/** The widget's cell on the grid: x, w in columns (of GRID_COLUMNS), y, h in rows. */
export const WidgetLayout = Type.Object(
  {
    x: Type.Integer({ minimum: 0, maximum: GRID_COLUMNS - 1 }),
    y: Type.Integer({ minimum: 0, maximum: 10_000 }),
    w: Type.Integer({ minimum: 1, maximum: GRID_COLUMNS }),
    h: Type.Integer({ minimum: 1, maximum: 40 }),
  },
  { additionalProperties: false },
);
export type WidgetLayout = Static<typeof WidgetLayout>;

const common = {
  id: Type.String({ pattern: "^[A-Za-z0-9_-]{1,40}$", description: "Unique within the dashboard" }),
  title: Type.String({ minLength: 1, maxLength: 100 }),
  layout: WidgetLayout,
};
const Unit = Type.Optional(Type.String({ maxLength: 20 }));

export const Widget = Type.Union([
  Type.Object(
    { ...common, kind: Type.Literal("timeseries"), sources: Type.Array(WidgetSource, { minItems: 1, maxItems: MAX_SOURCES }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { ...common, kind: Type.Literal("value"), source: WidgetSource, unit: Unit, thresholds: Type.Optional(Thresholds) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...common,
      kind: Type.Literal("gauge"),
      source: WidgetSource,
      unit: Unit,
      min: Finite,
      max: Finite,
      thresholds: Type.Optional(Thresholds),
    },
    { additionalProperties: false },
  ),
  Type.Object({ ...common, kind: Type.Literal("device-status"), tag: Tag }, { additionalProperties: false }),
  Type.Object({ ...common, kind: Type.Literal("retained"), deviceId: DeviceId }, { additionalProperties: false }),
  Type.Object({ ...common, kind: Type.Literal("alerts"), deviceId: Type.Optional(DeviceId) }, { additionalProperties: false }),
]);
export type Widget = Static<typeof Widget>;
export type WidgetKind = Widget["kind"];

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Widgets = Type.Array(Widget, { maxItems: MAX_WIDGETS });

/** The export file, and the body of an import. */
export const DashboardDocument = Type.Object(
  {
    format: Type.Literal(DASHBOARD_FORMAT),
    version: Type.Literal(DASHBOARD_FORMAT_VERSION),
    name: Name,
    widgets: Widgets,
  },
  { $id: "DashboardDocument", additionalProperties: false },
);
export type DashboardDocument = Static<typeof DashboardDocument>;

const Timestamp = Type.String({ format: "date-time" });

export const DashboardSummary = Type.Object({
  id: Type.String({ format: "uuid" }),
  name: Type.String(),
  shared: Type.Boolean({ description: "Visible to every signed-in user" }),
  ownerEmail: Type.String(),
  mine: Type.Boolean(),
  widgetCount: Type.Integer(),
  updatedAt: Timestamp,
});
export type DashboardSummary = Static<typeof DashboardSummary>;

export const DashboardList = Type.Object({ items: Type.Array(DashboardSummary) }, { $id: "DashboardList" });
export type DashboardList = Static<typeof DashboardList>;

export const Dashboard = Type.Object(
  {
    ...DashboardSummary.properties,
    canEdit: Type.Boolean({ description: "Only the owner edits a dashboard" }),
    widgets: Type.Array(Widget),
    createdAt: Timestamp,
  },
  { $id: "Dashboard" },
);
export type Dashboard = Static<typeof Dashboard>;

export const DashboardParams = Type.Object({ id: Type.String({ format: "uuid" }) });
export const WidgetParams = Type.Object({ id: Type.String({ format: "uuid" }), widgetId: common.id });

export const CreateDashboard = Type.Object({ name: Name, widgets: Type.Optional(Widgets) }, { additionalProperties: false });
export type CreateDashboard = Static<typeof CreateDashboard>;

export const UpdateDashboard = Type.Object(
  {
    name: Type.Optional(Name),
    shared: Type.Optional(Type.Boolean({ description: "Only admins and operators may share" })),
    widgets: Type.Optional(Widgets),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateDashboard = Static<typeof UpdateDashboard>;

export const MAX_WIDGET_WIDTH_PX = 8_000;

/** GET /api/dashboards/:id/widgets/:widgetId/data: what one widget draws, in one request. */
export const WidgetDataQuery = Type.Object(
  {
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    width: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_WIDGET_WIDTH_PX,
        description: "The widget's width in CSS pixels: a chart gets at most one bucket per 2 px",
      }),
    ),
  },
  { additionalProperties: false },
);
export type WidgetDataQuery = Static<typeof WidgetDataQuery>;

const LatestValue = Type.Object({ value: Type.Union([Type.Number(), Type.Null()]), time: Type.Union([Timestamp, Type.Null()]) });

export const WidgetData = Type.Union(
  [
    Type.Object({
      kind: Type.Literal("timeseries"),
      from: Timestamp,
      to: Timestamp,
      bucketMs: Type.Integer(),
      series: Type.Array(
        Type.Object({
          label: Type.String(),
          draw: Type.Union([Aggregate], {
            description: "Which of each point's avg, min and max the line follows (a tag source's aggregate; avg for a device)",
          }),
          points: Type.Array(TelemetryPoint),
          latest: Type.Union([Type.Number(), Type.Null()], {
            description: "The last reading in the range (a tag source: its aggregate over each device's last reading), not a bucket's mean",
          }),
        }),
      ),
    }),
    Type.Object({
      kind: Type.Union([Type.Literal("value"), Type.Literal("gauge")]),
      ...LatestValue.properties,
      devices: Type.Integer({ description: "Devices behind a tag aggregate (1 for a device)" }),
    }),
    Type.Object({
      kind: Type.Literal("device-status"),
      total: Type.Integer(),
      online: Type.Integer(),
      devices: Type.Array(
        Type.Object({ id: Type.String(), name: Type.String(), online: Type.Boolean(), lastSeenAt: Type.Union([Timestamp, Type.Null()]) }),
      ),
    }),
    Type.Object({ kind: Type.Literal("retained"), deviceId: Type.String(), retained: Type.Array(RetainedEntry) }),
    Type.Object({ kind: Type.Literal("alerts"), alerts: Type.Array(Alert) }),
  ],
  { $id: "WidgetData" },
);
export type WidgetData = Static<typeof WidgetData>;
