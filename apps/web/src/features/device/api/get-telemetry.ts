// Telemetry history: GET /api/devices/:id/telemetry, downsampled by the server into buckets
// aligned to the epoch (min, max, avg, count and the mean time of their readings), and the
// raw CSV export of one or more metrics.
import { queryOptions, useQuery } from "@tanstack/react-query";
import type { CsvLayout, TelemetryQuery, TelemetrySeries } from "@fleetwatch/contracts";
import { api, apiUrl, queryString } from "../../../lib/api-client.ts";
import { rangeKey, rangeParams, type TimeRange } from "../../../lib/time-range.ts";
import { deviceKeys } from "./keys.ts";

/** Buckets per chart: about one per three pixels of a wide chart, plenty for a line. */
export const HISTORY_MAX_POINTS = 300;

export function getTelemetrySeries(id: string, query: TelemetryQuery, { signal }: { signal?: AbortSignal } = {}): Promise<TelemetrySeries> {
  return api.get<TelemetrySeries>(`/api/devices/${encodeURIComponent(id)}/telemetry${queryString({ ...query })}`, { signal });
}

export function telemetryQueryOptions(id: string, metric: string, range: TimeRange) {
  return queryOptions({
    queryKey: [...deviceKeys.allTelemetry(id), metric, rangeKey(range)] as const,
    // The range is resolved when the request goes out, so a refetch of "last hour" moves with the clock.
    queryFn: ({ signal }) => getTelemetrySeries(id, { metric, ...rangeParams(range), maxPoints: HISTORY_MAX_POINTS }, { signal }),
    // A new range or metric keeps the old chart on screen until the new one arrives.
    placeholderData: (previous) => previous,
  });
}

export function useTelemetrySeries(id: string, metric: string | null, range: TimeRange) {
  return useQuery({ ...telemetryQueryOptions(id, metric ?? "", range), enabled: metric !== null });
}

/** The live charts start with this much history, so they show context before the first new reading. */
export const LIVE_WINDOW_MS = 15 * 60_000;
/** One-second buckets over the window (900, and one more where the window cuts a second): each is a reading for a device that reports at most once a second. */
const LIVE_SEED_POINTS = LIVE_WINDOW_MS / 1000 + 1;

export function liveSeedQueryOptions(id: string, metric: string) {
  return queryOptions({
    queryKey: [...deviceKeys.allTelemetry(id), metric, "live-seed"] as const,
    queryFn: ({ signal }) =>
      getTelemetrySeries(
        id,
        { metric, from: new Date(Date.now() - LIVE_WINDOW_MS).toISOString(), maxPoints: LIVE_SEED_POINTS },
        { signal },
      ),
    // Fetched once per visit: live readings extend it from then on.
    staleTime: Infinity,
  });
}

/** The raw readings of the metrics over the range as one CSV file (the server streams it as an attachment). */
export function telemetryCsvUrl(id: string, metrics: readonly string[], range: TimeRange, layout: CsvLayout): string {
  const search = new URLSearchParams();
  for (const metric of metrics) search.append("metric", metric);
  for (const [key, value] of Object.entries(rangeParams(range))) if (value) search.set(key, value);
  if (layout === "wide") search.set("layout", "wide");
  return apiUrl(`/api/devices/${encodeURIComponent(id)}/telemetry.csv?${search.toString()}`);
}
