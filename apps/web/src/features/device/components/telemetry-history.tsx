import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Area, CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { deviceTopic } from "@fleetwatch/contracts";
import { Empty, Loading, LoadError } from "../../../components/query-state.tsx";
import { useLiveMessages } from "../../../lib/live/use-live.ts";
import { deviceKeys } from "../api/keys.ts";
import { presetRanges, telemetryCsvUrl, useTelemetrySeries, type HistoryRange, type PresetRange } from "../api/get-telemetry.ts";
import { formatDateTime } from "../../../lib/format.ts";
import { formatNumber, tickFormatter } from "../lib/format.ts";
import { formatDuration } from "../../../lib/format.ts";
import { liveReadingsOf } from "../lib/live-readings.ts";
import { summarize } from "../lib/summary.ts";

/** How long new readings wait before a "last …" range refetches: bursts cost one request. */
const REFRESH_AFTER_READING_MS = 2_000;

/** `datetime-local` value (local time, minutes) for an instant. */
function localInputValue(time: number): string {
  const date = new Date(time);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

type RangeChoice = PresetRange | "custom";

export function TelemetryHistory({ deviceId, metrics }: { deviceId: string; metrics: readonly string[] }) {
  const headingId = useId();
  const formId = useId();
  const queryClient = useQueryClient();
  const [chosenMetric, setChosenMetric] = useState<string | null>(null);
  const metric = chosenMetric !== null && metrics.includes(chosenMetric) ? chosenMetric : (metrics[0] ?? null);
  const [range, setRange] = useState<HistoryRange>({ kind: "preset", preset: "hour" });
  const [choice, setChoice] = useState<RangeChoice>("hour");
  const [customFrom, setCustomFrom] = useState(() => localInputValue(Date.now() - 3_600_000));
  const [customTo, setCustomTo] = useState(() => localInputValue(Date.now()));
  const [customError, setCustomError] = useState<string | null>(null);

  const series = useTelemetrySeries(deviceId, metric, range);

  // A "last hour/day/week" range ends now: new readings of the metric refetch it (once per burst).
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(refreshTimer.current), []);
  useLiveMessages(deviceTopic.all(deviceId), (batch) => {
    if (range.kind !== "preset" || metric === null || refreshTimer.current !== undefined) return;
    const relevant = batch.messages.some((message) =>
      liveReadingsOf(message, deviceId)?.readings.some((reading) => reading.metric === metric),
    );
    if (!relevant) return;
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = undefined;
      void queryClient.invalidateQueries({ queryKey: [...deviceKeys.allTelemetry(deviceId), metric, range] });
    }, REFRESH_AFTER_READING_MS);
  });

  const chooseRange = (next: RangeChoice) => {
    setChoice(next);
    setCustomError(null);
    if (next !== "custom") setRange({ kind: "preset", preset: next });
  };

  const applyCustom = (event: FormEvent) => {
    event.preventDefault();
    const from = new Date(customFrom);
    const to = new Date(customTo);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return setCustomError("Enter both a start and an end.");
    if (from >= to) return setCustomError("The start must be before the end.");
    setCustomError(null);
    setRange({ kind: "custom", from: from.toISOString(), to: to.toISOString() });
  };

  const data = useMemo(
    () =>
      (series.data?.points ?? []).map((point) => ({
        t: Date.parse(point.time),
        avg: point.avg,
        range: [point.min, point.max] as [number, number],
      })),
    [series.data],
  );
  const summary = series.data ? summarize(series.data.points) : null;
  const span = series.data ? Date.parse(series.data.to) - Date.parse(series.data.from) : 0;
  const formatTick = tickFormatter(span);

  return (
    <section className="card device-section device-section--wide" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          History
        </h2>
      </div>
      {metric === null ? (
        <Empty>No metrics yet: history appears once the device has sent readings.</Empty>
      ) : (
        <>
          <div className="history-controls">
            <label className="field">
              <span className="field__label">Metric</span>
              <select value={metric} onChange={(event) => setChosenMetric(event.target.value)}>
                {metrics.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
            <fieldset className="range-picker">
              <legend className="field__label">Time range</legend>
              {(Object.keys(presetRanges) as PresetRange[]).map((preset) => (
                <label key={preset} className="range-picker__option">
                  <input type="radio" name={`${formId}-range`} checked={choice === preset} onChange={() => chooseRange(preset)} />
                  {presetRanges[preset].label}
                </label>
              ))}
              <label className="range-picker__option">
                <input type="radio" name={`${formId}-range`} checked={choice === "custom"} onChange={() => chooseRange("custom")} />
                Custom
              </label>
            </fieldset>
          </div>
          {choice === "custom" ? (
            <form className="custom-range" onSubmit={applyCustom} aria-label="Custom time range">
              <label className="field">
                <span className="field__label">From</span>
                <input type="datetime-local" value={customFrom} onChange={(event) => setCustomFrom(event.target.value)} required />
              </label>
              <label className="field">
                <span className="field__label">To</span>
                <input type="datetime-local" value={customTo} onChange={(event) => setCustomTo(event.target.value)} required />
              </label>
              <button type="submit" className="button">
                Show range
              </button>
              {customError ? (
                <p className="notice notice--error custom-range__error" role="alert">
                  {customError}
                </p>
              ) : null}
            </form>
          ) : null}

          {series.error ? (
            <LoadError what={`the history of ${metric}`} error={series.error} retry={() => void series.refetch()} />
          ) : !series.data ? (
            <Loading label="Loading history…" />
          ) : (
            <>
              <dl className="history-summary" aria-label={`Summary of ${series.data.metric}`} aria-busy={series.isPlaceholderData}>
                <div>
                  <dt>Minimum</dt>
                  <dd className="numeric">{summary ? formatNumber(summary.min) : "–"}</dd>
                </div>
                <div>
                  <dt>Maximum</dt>
                  <dd className="numeric">{summary ? formatNumber(summary.max) : "–"}</dd>
                </div>
                <div>
                  <dt>Average</dt>
                  <dd className="numeric">{summary ? formatNumber(summary.avg) : "–"}</dd>
                </div>
                <div>
                  <dt>Readings</dt>
                  <dd className="numeric">{summary ? formatNumber(summary.count) : "0"}</dd>
                </div>
              </dl>
              <p className="card__meta history-range">
                {formatDateTime(series.data.from)} – {formatDateTime(series.data.to)}
                {series.data.points.length > 0
                  ? ` · ${series.data.points.length} ${series.data.points.length === 1 ? "point" : "points"} of ${formatDuration(series.data.bucketMs)} each`
                  : ""}
              </p>
              {data.length === 0 ? (
                <Empty>No readings of {series.data.metric} in this range.</Empty>
              ) : (
                <figure className="history-chart" aria-label={`${series.data.metric}: minimum to maximum band and average over the range`}>
                  <ResponsiveContainer width="100%" height={260}>
                    <ComposedChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
                      <XAxis
                        dataKey="t"
                        type="number"
                        scale="time"
                        domain={["dataMin", "dataMax"]}
                        tickFormatter={formatTick}
                        minTickGap={48}
                        fontSize={12}
                      />
                      <YAxis domain={["auto", "auto"]} width={48} fontSize={12} tickFormatter={formatNumber} />
                      <Tooltip
                        labelFormatter={(time) => formatDateTime(Number(time))}
                        formatter={(value, name) => [
                          Array.isArray(value) ? value.map((v) => formatNumber(Number(v))).join(" – ") : formatNumber(Number(value)),
                          name,
                        ]}
                      />
                      <Area
                        type="monotone"
                        dataKey="range"
                        name="min – max"
                        stroke="none"
                        fill="var(--accent)"
                        fillOpacity={0.15}
                        isAnimationActive={false}
                      />
                      <Line
                        type="monotone"
                        dataKey="avg"
                        name="average"
                        stroke="var(--accent)"
                        strokeWidth={2}
                        dot={data.length < 60 ? { r: 2 } : false}
                        isAnimationActive={false}
                      />
                    </ComposedChart>
                  </ResponsiveContainer>
                </figure>
              )}
              <p className="history-actions">
                <a className="button" href={telemetryCsvUrl(deviceId, metric, range)} download>
                  Download CSV
                </a>
                <span className="muted">the raw readings of {metric} in this range</span>
              </p>
            </>
          )}
        </>
      )}
    </section>
  );
}
