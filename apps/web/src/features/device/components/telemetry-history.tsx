import { useEffect, useId, useMemo, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { deviceTopic, type CsvLayout } from "@fleetwatch/contracts";
import { Empty, Loading, LoadError } from "../../../components/query-state.tsx";
import { TimeSeriesChart, type ChartPoint } from "../../../components/time-series-chart.tsx";
import { useLiveMessages } from "../../../lib/live/use-live.ts";
import { formatDateTime } from "../../../lib/format.ts";
import type { TimeRange } from "../../../lib/time-range.ts";
import { formatDuration } from "../../../lib/format.ts";
import { deviceKeys } from "../api/keys.ts";
import { telemetryCsvUrl, useTelemetrySeries } from "../api/get-telemetry.ts";
import { formatNumber } from "../lib/format.ts";
import { liveReadingsOf } from "../lib/live-readings.ts";
import { summarize } from "../lib/summary.ts";

/** How long new readings wait before a "last …" range refetches: bursts cost one request. */
const REFRESH_AFTER_READING_MS = 2_000;

export function TelemetryHistory({ deviceId, metrics, range }: { deviceId: string; metrics: readonly string[]; range: TimeRange }) {
  const headingId = useId();
  const queryClient = useQueryClient();
  const [chosenMetric, setChosenMetric] = useState<string | null>(null);
  const metric = chosenMetric !== null && metrics.includes(chosenMetric) ? chosenMetric : (metrics[0] ?? null);
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
      void queryClient.invalidateQueries({ queryKey: [...deviceKeys.allTelemetry(deviceId), metric] });
    }, REFRESH_AFTER_READING_MS);
  });

  const points = useMemo(
    () =>
      (series.data?.points ?? []).map((point): ChartPoint => ({
        t: Date.parse(point.at),
        v: point.avg,
        min: point.min,
        max: point.max,
        count: point.count,
      })),
    [series.data],
  );
  const shownRange = useMemo(
    () => (series.data ? { from: Date.parse(series.data.from), to: Date.parse(series.data.to) } : undefined),
    [series.data],
  );
  const summary = series.data ? summarize(series.data.points) : null;

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
          </div>

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
                  ? ` · ${series.data.points.length} ${series.data.points.length === 1 ? "point" : "points"} of ${formatDuration(series.data.bucketMs)} each, aligned to the clock`
                  : ""}
              </p>
              {points.length === 0 ? (
                <Empty>No readings of {series.data.metric} in this range.</Empty>
              ) : (
                <figure className="history-chart" data-metric={series.data.metric} data-bucket-ms={series.data.bucketMs}>
                  <TimeSeriesChart
                    label={`${series.data.metric}: average per ${formatDuration(series.data.bucketMs)}, with the minimum to maximum band`}
                    name={series.data.metric}
                    points={points}
                    bucketMs={series.data.bucketMs}
                    range={shownRange}
                    height={260}
                    band
                    formatValue={formatNumber}
                  />
                </figure>
              )}
            </>
          )}
          <CsvExport deviceId={deviceId} metrics={metrics} metric={metric} range={range} />
        </>
      )}
    </section>
  );
}

/** The raw readings of one or more metrics over the range, in one file: long (a row per reading) or wide (a column per metric). */
function CsvExport({
  deviceId,
  metrics,
  metric,
  range,
}: {
  deviceId: string;
  metrics: readonly string[];
  metric: string;
  range: TimeRange;
}) {
  const name = useId();
  const [picked, setPicked] = useState<ReadonlySet<string> | null>(null);
  const [layout, setLayout] = useState<CsvLayout>("long");
  // Until the operator picks, the export follows the charted metric.
  const chosen = new Set([...(picked ?? [metric])].filter((m) => metrics.includes(m)));
  const toggle = (choice: string) => {
    const next = new Set(chosen);
    if (next.has(choice)) next.delete(choice);
    else next.add(choice);
    setPicked(next);
  };
  const ordered = metrics.filter((m) => chosen.has(m));

  return (
    <details className="csv-export">
      <summary>Export CSV</summary>
      <div className="csv-export__body">
        <fieldset className="csv-export__metrics">
          <legend className="field__label">Metrics</legend>
          <div className="csv-export__choices">
            {metrics.map((m) => (
              <label key={m} className="csv-export__choice">
                <input type="checkbox" checked={chosen.has(m)} onChange={() => toggle(m)} />
                <code>{m}</code>
              </label>
            ))}
          </div>
          <p className="csv-export__all">
            <button type="button" className="button button--small" onClick={() => setPicked(new Set(metrics))}>
              All
            </button>{" "}
            <button type="button" className="button button--small" onClick={() => setPicked(new Set())}>
              None
            </button>
          </p>
        </fieldset>
        <fieldset className="csv-export__layout">
          <legend className="field__label">Layout</legend>
          <label className="range-picker__option">
            <input type="radio" name={name} checked={layout === "long"} onChange={() => setLayout("long")} />
            Long: a row per reading (time, metric, value)
          </label>
          <label className="range-picker__option">
            <input type="radio" name={name} checked={layout === "wide"} onChange={() => setLayout("wide")} />
            Wide: a row per time, a column per metric
          </label>
        </fieldset>
        <p className="history-actions">
          {ordered.length > 0 ? (
            <a className="button button--primary" href={telemetryCsvUrl(deviceId, ordered, range, layout)} download>
              Download CSV
            </a>
          ) : (
            <span className="muted">Pick at least one metric.</span>
          )}
          <span className="muted">the raw readings in the chosen time range</span>
        </p>
      </div>
    </details>
  );
}
