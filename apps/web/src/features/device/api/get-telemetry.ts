// Telemetry history: GET /api/devices/:id/telemetry, downsampled by the server into at most
// `maxPoints` buckets (min, max, avg, count each), and its raw CSV export.
import { queryOptions, useQuery } from "@tanstack/react-query";
import type { TelemetryQuery, TelemetrySeries } from "@fleetwatch/contracts";
import { api, apiUrl, queryString } from "../../../lib/api-client.ts";
import { deviceKeys } from "./keys.ts";

export const presetRanges = {
  hour: { label: "Last hour", ms: 3_600_000 },
  day: { label: "Last day", ms: 86_400_000 },
  week: { label: "Last week", ms: 7 * 86_400_000 },
} as const;
export type PresetRange = keyof typeof presetRanges;

/** A preset ends "now" whenever it is fetched; a custom range is fixed. */
export type HistoryRange = { kind: "preset"; preset: PresetRange } | { kind: "custom"; from: string; to: string };

/** The range as query parameters. Presets leave `to` out: the server's now ends them. */
export function rangeParams(range: HistoryRange, now = Date.now()): Pick<TelemetryQuery, "from" | "to"> {
  if (range.kind === "custom") return { from: range.from, to: range.to };
  return { from: new Date(now - presetRanges[range.preset].ms).toISOString() };
}

/** Buckets per chart: about one per two pixels of a wide chart, plenty for a line. */
export const HISTORY_MAX_POINTS = 300;

export function getTelemetrySeries(id: string, query: TelemetryQuery, { signal }: { signal?: AbortSignal } = {}): Promise<TelemetrySeries> {
  return api.get<TelemetrySeries>(`/api/devices/${encodeURIComponent(id)}/telemetry${queryString({ ...query })}`, { signal });
}

export function telemetryQueryOptions(id: string, metric: string, range: HistoryRange) {
  return queryOptions({
    queryKey: [...deviceKeys.allTelemetry(id), metric, range] as const,
    // The range is resolved when the request goes out, so a refetch of "last hour" moves with the clock.
    queryFn: ({ signal }) => getTelemetrySeries(id, { metric, ...rangeParams(range), maxPoints: HISTORY_MAX_POINTS }, { signal }),
    // A new range or metric keeps the old chart on screen until the new one arrives.
    placeholderData: (previous) => previous,
  });
}

export function useTelemetrySeries(id: string, metric: string | null, range: HistoryRange) {
  return useQuery({ ...telemetryQueryOptions(id, metric ?? "", range), enabled: metric !== null });
}

/** The live charts start with this much history, so they show context before the first new reading. */
export const LIVE_WINDOW_MS = 15 * 60_000;
const LIVE_SEED_POINTS = 90;

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

/** The raw readings of the range as CSV (the server streams it as an attachment). */
export function telemetryCsvUrl(id: string, metric: string, range: HistoryRange): string {
  return apiUrl(`/api/devices/${encodeURIComponent(id)}/telemetry.csv${queryString({ metric, ...rangeParams(range) })}`);
}
