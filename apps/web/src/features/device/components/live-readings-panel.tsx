import { useId } from "react";
import type { MetricSummary } from "@fleetwatch/contracts";
import { Empty, Loading, LoadError } from "../../../components/query-state.tsx";
import { TelemetryFormatNote } from "../../../components/telemetry-format-note.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { formatNumber } from "../lib/format.ts";
import type { LiveSeries } from "../lib/use-live-readings.ts";
import type { TelemetryIssue } from "../lib/use-telemetry-problem.ts";
import { LiveMetricChart } from "./live-metric-chart.tsx";

/** Charts beyond this many would each fetch history and redraw on every reading; the table lists them all. */
const MAX_LIVE_CHARTS = 8;

interface LiveReadingsPanelProps {
  deviceId: string;
  /** From GET /metrics; undefined while it loads. */
  stored: readonly MetricSummary[] | undefined;
  storedError: unknown;
  retry: () => void;
  live: LiveSeries;
  metrics: readonly string[];
  /** Why the newest telemetry message gave no readings, if it did not. */
  telemetryIssue: TelemetryIssue | null;
}

export function LiveReadingsPanel({ deviceId, stored, storedError, retry, live, metrics, telemetryIssue }: LiveReadingsPanelProps) {
  const headingId = useId();
  const latest = metrics.map((metric) => {
    const livePoint = live.get(metric)?.at(-1);
    const summary = stored?.find((entry) => entry.metric === metric);
    // A live reading is newer than what the server had when the page loaded, unless a device clock says otherwise.
    if (livePoint && (!summary || livePoint.t >= Date.parse(summary.lastTime))) return { metric, value: livePoint.v, time: livePoint.t };
    return summary
      ? { metric, value: summary.lastValue, time: Date.parse(summary.lastTime) }
      : { metric, value: undefined, time: undefined };
  });

  return (
    <section className="card device-section device-section--wide" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          Live readings
        </h2>
      </div>
      {telemetryIssue ? (
        <TelemetryFormatNote topic={telemetryIssue.topic} problem={telemetryIssue.problem} sample={telemetryIssue.sample} />
      ) : null}
      {metrics.length === 0 ? (
        storedError ? (
          <LoadError what="the device's metrics" error={storedError} retry={retry} />
        ) : stored === undefined ? (
          <Loading label="Loading metrics…" />
        ) : telemetryIssue ? null : (
          <Empty>
            No readings yet. Numbers the device publishes as JSON on <code>devices/{deviceId}/telemetry</code> appear here as they arrive.
          </Empty>
        )
      ) : (
        <>
          <table className="table latest-readings" aria-label="Latest readings">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Latest value</th>
                <th scope="col">At</th>
              </tr>
            </thead>
            <tbody>
              {latest.map((row) => (
                <tr key={row.metric}>
                  <th scope="row">{row.metric}</th>
                  <td className="numeric">{row.value === undefined ? "–" : formatNumber(row.value)}</td>
                  <td>{row.time === undefined ? "–" : formatDateTime(row.time)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="live-charts">
            {latest.slice(0, MAX_LIVE_CHARTS).map((row) => (
              <LiveMetricChart
                key={row.metric}
                deviceId={deviceId}
                metric={row.metric}
                live={live.get(row.metric) ?? []}
                latest={row.value === undefined || row.time === undefined ? undefined : { value: row.value, time: row.time }}
              />
            ))}
          </div>
          {metrics.length > MAX_LIVE_CHARTS ? (
            <p className="card__meta">
              Charts show the first {MAX_LIVE_CHARTS} of {metrics.length} metrics; pick any metric in History below.
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
