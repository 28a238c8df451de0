import { useId, useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { liveSeedQueryOptions } from "../api/get-telemetry.ts";
import { formatClock } from "../../../lib/format.ts";
import { formatNumber } from "../lib/format.ts";
import type { LivePoint } from "../lib/use-live-readings.ts";

interface LiveMetricChartProps {
  deviceId: string;
  metric: string;
  live: readonly LivePoint[];
}

/**
 * One metric over the last minutes: the server's recent history (bucket averages) followed by
 * every reading that arrived live since the page opened. History buckets that reach into the
 * first live reading's time are left out, so no reading is drawn twice, and a live reading is
 * never dropped even when the history was fetched before ingest had stored it.
 */
export function LiveMetricChart({ deviceId, metric, live }: LiveMetricChartProps) {
  const captionId = useId();
  const seed = useQuery(liveSeedQueryOptions(deviceId, metric));

  const points = useMemo(() => {
    const firstLive = live[0]?.t ?? Number.POSITIVE_INFINITY;
    const history = (seed.data?.points ?? [])
      .map((point) => ({ t: Date.parse(point.time), v: point.avg, end: Date.parse(point.time) + (seed.data?.bucketMs ?? 0) }))
      .filter((point) => point.end <= firstLive)
      .map(({ t, v }) => ({ t, v }));
    return [...history, ...live];
  }, [seed.data, live]);

  const latest = points[points.length - 1];
  return (
    <figure className="live-chart" aria-labelledby={captionId} data-metric={metric}>
      <figcaption id={captionId} className="live-chart__caption">
        <span className="live-chart__metric">{metric}</span>{" "}
        <span className="live-chart__summary">
          {points.length === 1 ? "1 point" : `${points.length} points`}
          {latest ? `, latest ${formatNumber(latest.v)} at ${formatClock(latest.t)}` : ""}
        </span>
      </figcaption>
      {points.length === 0 ? (
        <p className="muted live-chart__empty">{seed.isPending ? "Loading recent readings…" : "No readings in the last 15 minutes."}</p>
      ) : (
        <ResponsiveContainer width="100%" height={160}>
          <LineChart data={points} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={["dataMin", "dataMax"]}
              tickFormatter={formatClock}
              minTickGap={40}
              fontSize={12}
            />
            <YAxis domain={["auto", "auto"]} width={48} fontSize={12} tickFormatter={formatNumber} />
            <Tooltip labelFormatter={(time) => formatClock(Number(time))} formatter={(value) => [formatNumber(Number(value)), metric]} />
            {/* No animation: a live chart redraws on every reading, and a tween would lag it. */}
            <Line
              type="monotone"
              dataKey="v"
              name={metric}
              stroke="var(--accent)"
              strokeWidth={2}
              dot={{ r: 2 }}
              isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
  );
}
