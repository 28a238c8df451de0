// Widget helpers without React: what a widget listens to, threshold colours, new widget defaults.
import { GRID_COLUMNS, type Thresholds, type Widget, type WidgetKind, type WidgetLayout } from "@fleetwatch/contracts";

/** The MQTT topic filters whose messages change what the widget draws. */
export function liveFilters(widget: Widget): string[] {
  const sources = widget.kind === "timeseries" ? widget.sources : widget.kind === "value" || widget.kind === "gauge" ? [widget.source] : [];
  const filters = sources.flatMap((source) => (source.kind === "device" ? [`devices/${source.deviceId}/telemetry`] : []));
  if (widget.kind === "retained") filters.push(`devices/${widget.deviceId}/#`);
  return [...new Set(filters)];
}

/** Device status and alert lists change with platform events (presence, alerts). */
export const followsEvents = (widget: Widget) => widget.kind === "device-status" || widget.kind === "alerts";

export type Level = "ok" | "warning" | "critical";

export function thresholdLevel(value: number, thresholds: Thresholds | undefined): Level {
  if (!thresholds) return "ok";
  const past = (limit: number | undefined) => limit !== undefined && (thresholds.direction === "above" ? value >= limit : value <= limit);
  if (past(thresholds.critical)) return "critical";
  if (past(thresholds.warning)) return "warning";
  return "ok";
}

export const widgetKinds: Record<WidgetKind, string> = {
  timeseries: "Time-series chart",
  value: "Single value",
  gauge: "Gauge",
  "device-status": "Device status for a tag",
  retained: "Retained state of a device",
  alerts: "Alert list",
};

/** A free cell below every widget, as wide as the kind needs. */
export function nextLayout(widgets: readonly Widget[], kind: WidgetKind): WidgetLayout {
  const bottom = widgets.reduce((max, w) => Math.max(max, w.layout.y + w.layout.h), 0);
  const w = kind === "timeseries" ? 6 : 3;
  return { x: 0, y: bottom, w: Math.min(w, GRID_COLUMNS), h: kind === "value" ? 2 : 4 };
}

/** A widget id not yet used on the dashboard. */
export function newWidgetId(widgets: readonly Widget[]): string {
  const used = new Set(widgets.map((w) => w.id));
  for (let n = widgets.length + 1; ; n++) if (!used.has(`w${n}`)) return `w${n}`;
}
