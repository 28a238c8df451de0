// One chart for every time series in the dashboard, drawn so that it never shows what a
// device did not send: straight segments (or steps) between points, never a curve that swings
// past the readings; a break where the data has a hole; the latest value as the caller states
// it, never a bucket's average; and axes sized to their labels with nice ticks.
import { useMemo, type ReactNode } from "react";
import { Area, CartesianGrid, ComposedChart, Line, Tooltip, XAxis, YAxis } from "recharts";
import { formatDateTime } from "../lib/format.ts";
import { timeAxis, valueAxis } from "../lib/chart/axis.ts";
import { textWidth } from "../lib/chart/measure.ts";
import { breakAfterMs, chartRows, isIsolated, valueExtent, type ChartPoint, type ChartRow } from "../lib/chart/series.ts";
import { useElementWidth } from "../lib/use-element-width.ts";
import "./time-series-chart.css";

export type { ChartPoint } from "../lib/chart/series.ts";

/** Above this many points, dots are drawn only where a point stands alone (between breaks). */
const ALL_DOTS_UP_TO = 60;
const FONT_SIZE = 12;
const TICK_SIZE = 6;
/** Room between two time labels, and above each value tick. */
const LABEL_GAP = 24;
const VALUE_TICK_SPACING = 40;
/** Recharts writes its tick colour as an inline style: give it the theme's. */
const TICK_STYLE = { fill: "var(--text-muted)" };
const MARGIN = { top: 8, right: 8, bottom: 0, left: 0 };
/** Most a centred time label may hang past the plot's end (half of a long "Nov 30, 02:00 PM"). */
const MAX_LABEL_OVERHANG = 56;

export interface TimeSeriesChartProps {
  /** What the chart shows, for assistive technology (the figure's caption is the visible label). */
  label: string;
  /** The series' name in the tooltip. */
  name: string;
  points: readonly ChartPoint[];
  /** Width of the buckets behind the points in ms (0: single readings): the line breaks beyond about two. */
  bucketMs?: number;
  /** The time range to show; default: the first to the last point. */
  range?: { from: number; to: number };
  height: number;
  /** Draw each bucket's min–max band behind the line. */
  band?: boolean;
  /** linear: straight segments; step: each value holds until the next. */
  curve?: "linear" | "step";
  formatValue?: (value: number) => string;
}

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 6 });

export function TimeSeriesChart({
  label,
  name,
  points,
  bucketMs = 0,
  range,
  height,
  band = false,
  curve = "linear",
  formatValue = (value) => number.format(value),
}: TimeSeriesChartProps) {
  const [ref, width] = useElementWidth<HTMLDivElement>();
  const rows = useMemo(() => chartRows(points, breakAfterMs(points, bucketMs)), [points, bucketMs]);

  const layout = useMemo(() => {
    if (width === 0 || points.length === 0) return null;
    const font = `${FONT_SIZE}px ${getComputedStyle(document.documentElement).fontFamily}`;
    const [low, high] = valueExtent(points, band) as [number, number];
    const values = valueAxis(low, high, Math.max(2, Math.floor((height - 24) / VALUE_TICK_SPACING)));
    // The value axis is as wide as its widest label, so no label is cut.
    const valueWidth = Math.ceil(Math.max(...values.ticks.map((tick) => textWidth(values.format(tick), font)))) + TICK_SIZE + 6;
    // Time labels are centred on their tick: half of the widest may hang past either end of the plot.
    const plotWidth = Math.max(40, width - valueWidth - 2 * MAX_LABEL_OVERHANG);
    const from = range?.from ?? (points[0] as ChartPoint).t;
    const to = range?.to ?? (points[points.length - 1] as ChartPoint).t;
    // As many time ticks as fit side by side with room between them.
    let count = Math.max(2, Math.floor(plotWidth / 60));
    let times = timeAxis(from, to, count);
    const widest = () => Math.max(...times.ticks.map((t) => textWidth(times.format(t), font)));
    while (count > 2 && times.ticks.length * (widest() + LABEL_GAP) > plotWidth) {
      count--;
      times = timeAxis(from, to, count);
    }
    // Room for the first and last label, whose ticks may sit at the plot's very edges.
    const half = Math.min(MAX_LABEL_OVERHANG, Math.ceil(widest() / 2));
    const margin = { ...MARGIN, left: Math.max(0, half - valueWidth), right: Math.max(MARGIN.right, half) };
    return { values, valueWidth, times, margin };
  }, [width, points, band, height, range]);

  const dots = rows.length <= ALL_DOTS_UP_TO;
  const type = curve === "step" ? "stepAfter" : "linear";
  return (
    <div ref={ref} className="ts-chart" style={{ height }} role="group" aria-label={label}>
      {layout ? (
        <ComposedChart width={width} height={height} data={rows} margin={layout.margin}>
          <CartesianGrid strokeDasharray="3 3" className="ts-chart__grid" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={layout.times.domain}
            ticks={layout.times.ticks}
            tickFormatter={layout.times.format}
            interval={0}
            allowDataOverflow
            fontSize={FONT_SIZE}
            tickSize={TICK_SIZE}
            tick={TICK_STYLE}
          />
          <YAxis
            type="number"
            domain={layout.values.domain}
            ticks={layout.values.ticks}
            tickFormatter={layout.values.format}
            interval={0}
            width={layout.valueWidth}
            fontSize={FONT_SIZE}
            tickSize={TICK_SIZE}
            tick={TICK_STYLE}
          />
          <Tooltip
            content={({ active, payload }) => <PointTooltip active={active} row={rowOf(payload)} name={name} format={formatValue} />}
          />
          {band ? (
            <Area
              dataKey="band"
              type={type}
              name="min – max"
              stroke="none"
              fill="var(--accent)"
              fillOpacity={0.15}
              connectNulls={false}
              isAnimationActive={false}
              activeDot={false}
            />
          ) : null}
          {/* No animation: a live chart redraws on every reading, and a tween would lag it. */}
          <Line
            dataKey="v"
            type={type}
            name={name}
            stroke="var(--accent)"
            strokeWidth={2}
            connectNulls={false}
            isAnimationActive={false}
            dot={({ cx, cy, index }) =>
              rows[index]?.point && (dots || isIsolated(rows, index)) ? (
                <circle key={`dot-${index}`} className="ts-chart__dot" cx={cx} cy={cy} r={dots ? 2.5 : 3} />
              ) : (
                <g key={`dot-${index}`} />
              )
            }
          />
        </ComposedChart>
      ) : null}
    </div>
  );
}

function rowOf(payload: ReadonlyArray<{ payload?: unknown }> | undefined): ChartRow | undefined {
  return payload?.[0]?.payload as ChartRow | undefined;
}

function PointTooltip({
  active,
  row,
  name,
  format,
}: {
  active: boolean | undefined;
  row: ChartRow | undefined;
  name: string;
  format: (value: number) => string;
}): ReactNode {
  const point = row?.point;
  if (!active || !point) return null;
  const bucket = (point.count ?? 1) > 1;
  return (
    <div className="ts-chart__tooltip">
      <div className="ts-chart__tooltip-time">{formatDateTime(point.t)}</div>
      <div>
        {name}: <strong>{format(point.v)}</strong>
        {bucket ? ` (average of ${point.count} readings)` : ""}
      </div>
      {bucket && point.min !== undefined && point.max !== undefined ? (
        <div className="muted">
          min {format(point.min)} · max {format(point.max)}
        </div>
      ) : null}
    </div>
  );
}
