import { useId, useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { TimeSeriesChart, type ChartPoint } from "../../../components/time-series-chart.tsx";
import { formatClock } from "../../../lib/format.ts";
import { LIVE_WINDOW_MS, liveSeedQueryOptions } from "../api/get-telemetry.ts";
import { formatNumber } from "../lib/format.ts";
import type { LivePoint } from "../lib/use-live-readings.ts";

interface LiveMetricChartProps {
  deviceId: string;
  metric: string;
  live: readonly LivePoint[];
  /** The metric's last raw reading, as the readings table shows it. */
  latest: { value: number; time: number } | undefined;
}

/**
 * One metric over the last minutes: the server's recent history (one-second buckets, each
 * drawn at its readings' own time) and every reading that arrived live since the page opened.
 * A history bucket that holds a live reading's time is left out, so no reading is drawn twice.
 * The caption's latest value is the last raw reading with its own time, never a bucket's average.
 */
export function LiveMetricChart({ deviceId, metric, live, latest }: LiveMetricChartProps) {
  const captionId = useId();
  const seed = useQuery(liveSeedQueryOptions(deviceId, metric));

  const points = useMemo(() => {
    const bucketMs = seed.data?.bucketMs ?? 0;
    const liveTimes = live.map((point) => point.t);
    const history: ChartPoint[] = (seed.data?.points ?? [])
      .filter((bucket) => {
        const start = Date.parse(bucket.time);
        return !liveTimes.some((t) => t >= start && t < start + bucketMs);
      })
      .map((bucket) => ({ t: Date.parse(bucket.at), v: bucket.avg, min: bucket.min, max: bucket.max, count: bucket.count }));
    const all = [...history, ...live.map((point) => ({ t: point.t, v: point.v, count: 1 }))].sort((a, b) => a.t - b.t);
    // A reading stored after the history was read but before the live channel delivered anything.
    const newest = all.at(-1)?.t ?? Number.NEGATIVE_INFINITY;
    if (latest && latest.time > newest && seed.data && latest.time >= Date.parse(seed.data.from))
      all.push({ t: latest.time, v: latest.value, count: 1 });
    return all;
  }, [seed.data, live, latest]);
  // A rolling window that ends at the newest reading: the scale stays the same as readings arrive.
  const newest = points.at(-1)?.t;
  const range = useMemo(() => (newest === undefined ? undefined : { from: newest - LIVE_WINDOW_MS, to: newest }), [newest]);

  return (
    <figure className="live-chart" aria-labelledby={captionId} data-metric={metric}>
      <figcaption id={captionId} className="live-chart__caption">
        <span className="live-chart__metric">{metric}</span>{" "}
        <span className="live-chart__summary">
          {points.length === 1 ? "1 point" : `${points.length} points`}
          {latest ? (
            <>
              , latest <span className="live-chart__latest">{formatNumber(latest.value)}</span> at{" "}
              <time dateTime={new Date(latest.time).toISOString()}>{formatClock(latest.time)}</time>
            </>
          ) : null}
        </span>
      </figcaption>
      {points.length === 0 ? (
        <p className="muted live-chart__empty">{seed.isPending ? "Loading recent readings…" : "No readings in the last 15 minutes."}</p>
      ) : (
        <TimeSeriesChart
          label={`${metric} over the last 15 minutes`}
          name={metric}
          points={points}
          bucketMs={seed.data?.bucketMs ?? 0}
          range={range}
          height={160}
          formatValue={formatNumber}
        />
      )}
    </figure>
  );
}
