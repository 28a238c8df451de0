// What each widget kind draws from its data. Charts use the shared TimeSeriesChart.
import { useMemo, type ReactNode } from "react";
import { Link } from "react-router";
import type { Widget, WidgetData } from "@fleetwatch/contracts";
import { TimeSeriesChart, type ChartPoint } from "../../../components/time-series-chart.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { thresholdLevel } from "../lib/widgets.ts";

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

function Series({ data, height }: { data: Extract<WidgetData, { kind: "timeseries" }>; height: number }) {
  // The range the server answered for: a preset range ends when the data was fetched.
  const range = useMemo(() => ({ from: Date.parse(data.from), to: Date.parse(data.to) }), [data.from, data.to]);
  const each = Math.max(60, Math.floor((height - data.series.length * 20) / Math.max(1, data.series.length)));
  return (
    <div className="widget-series">
      {data.series.map((series) => (
        <SeriesChart key={series.label} series={series} bucketMs={data.bucketMs} height={each} range={range} />
      ))}
    </div>
  );
}

function SeriesChart({
  series,
  bucketMs,
  height,
  range,
}: {
  series: Extract<WidgetData, { kind: "timeseries" }>["series"][number];
  bucketMs: number;
  height: number;
  range: { from: number; to: number };
}) {
  const points = useMemo<ChartPoint[]>(
    () => series.points.map((p) => ({ t: Date.parse(p.at), v: p[series.draw], min: p.min, max: p.max, count: p.count })),
    [series],
  );
  return (
    <figure className="widget-series__item">
      <figcaption className="widget-series__label">
        {series.label}
        {series.latest !== null ? <span className="muted"> · {number.format(series.latest)}</span> : null}
      </figcaption>
      {points.length === 0 ? (
        <p className="muted">No readings in this range.</p>
      ) : (
        <TimeSeriesChart label={series.label} name={series.label} points={points} bucketMs={bucketMs} range={range} height={height} />
      )}
    </figure>
  );
}

function Gauge({ value, min, max, level, label }: { value: number; min: number; max: number; level: string; label: string }) {
  const share = Math.min(1, Math.max(0, (value - min) / (max - min)));
  // A half circle from the left (min) to the right (max).
  const angle = Math.PI * (1 - share);
  const x = 50 + 40 * Math.cos(angle);
  const y = 50 - 40 * Math.sin(angle);
  return (
    <svg className={`widget-gauge widget-level--${level}`} viewBox="0 0 100 60" role="img" aria-label={label}>
      <path d="M10 50 A40 40 0 0 1 90 50" className="widget-gauge__track" />
      {share > 0 ? <path d={`M10 50 A40 40 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`} className="widget-gauge__fill" /> : null}
      <text x="10" y="59" className="widget-gauge__bound">
        {number.format(min)}
      </text>
      <text x="90" y="59" textAnchor="end" className="widget-gauge__bound">
        {number.format(max)}
      </text>
    </svg>
  );
}

export function WidgetBody({ widget, data, height }: { widget: Widget; data: WidgetData; height: number }): ReactNode {
  switch (data.kind) {
    case "timeseries":
      return <Series data={data} height={height} />;
    case "value":
    case "gauge": {
      if (widget.kind !== "value" && widget.kind !== "gauge") return null;
      if (data.value === null) return <p className="muted">No reading in this range.</p>;
      const level = thresholdLevel(data.value, widget.thresholds);
      const text = `${number.format(data.value)}${widget.unit ? ` ${widget.unit}` : ""}`;
      return (
        <div className="widget-value">
          {widget.kind === "gauge" ? (
            <Gauge value={data.value} min={widget.min} max={widget.max} level={level} label={`${widget.title}: ${text}`} />
          ) : null}
          <output className={`widget-value__number widget-level--${level}`} data-level={level}>
            {text}
          </output>
          <span className="muted widget-value__meta">
            {data.time ? formatDateTime(data.time) : ""}
            {widget.source.kind === "tag" ? ` · ${widget.source.aggregate} of ${data.devices} devices` : ""}
          </span>
        </div>
      );
    }
    case "device-status":
      return (
        <div>
          <p className="widget-status__summary">
            <strong>{data.online}</strong> of {data.total} online
          </p>
          <ul className="widget-list">
            {data.devices.map((device) => (
              <li key={device.id} className="widget-list__item">
                <span className={`widget-dot ${device.online ? "widget-dot--online" : ""}`} aria-hidden="true" />
                <Link to={`/devices/${encodeURIComponent(device.id)}`}>{device.name}</Link>
                <span className="muted">{device.online ? "online" : device.lastSeenAt ? "offline" : "never seen"}</span>
              </li>
            ))}
          </ul>
        </div>
      );
    case "retained":
      return data.retained.length === 0 ? (
        <p className="muted">No retained messages.</p>
      ) : (
        <dl className="widget-retained">
          {data.retained.map((entry) => (
            <div key={entry.topic} className="widget-retained__entry">
              <dt>{entry.subtopic}</dt>
              <dd>
                <code>{entry.format === "json" ? JSON.stringify(entry.payload) : String(entry.payload)}</code>
              </dd>
            </div>
          ))}
        </dl>
      );
    case "alerts":
      return data.alerts.length === 0 ? (
        <p className="muted">No open alerts.</p>
      ) : (
        <ul className="widget-list">
          {data.alerts.map((alert) => (
            <li key={alert.id} className="widget-list__item">
              <span className={`badge widget-level--${alert.severity === "critical" ? "critical" : "warning"}`}>{alert.severity}</span>
              <span>
                {alert.deviceId}: {alert.message}
              </span>
            </li>
          ))}
        </ul>
      );
  }
}
