// Shared by the fleet counts and the navigation's alert count: one query, so a page that
// shows both makes one GET /api/fleet/summary, not two.
import { queryOptions, useQuery } from "@tanstack/react-query";
import type { FleetSummary } from "@fleetwatch/contracts";
import { api } from "./api-client.ts";

export const fleetSummaryQueryKey = ["fleet", "summary"] as const;

/** GET /api/fleet/summary: devices online, offline, never seen; open alerts. */
export function getFleetSummary({ signal }: { signal?: AbortSignal } = {}): Promise<FleetSummary> {
  return api.get<FleetSummary>("/api/fleet/summary", { signal });
}

export function fleetSummaryQueryOptions() {
  return queryOptions({
    queryKey: fleetSummaryQueryKey,
    queryFn: ({ signal }) => getFleetSummary({ signal }),
    // No polling: live events say when the counts changed (they invalidate this key). An
    // answer this fresh is not fetched again when another component mounts with it (the
    // first page's preload, the navigation's alert count).
    staleTime: 5_000,
  });
}

export function useFleetSummary<T = FleetSummary>(select?: (summary: FleetSummary) => T) {
  return useQuery({ ...fleetSummaryQueryOptions(), select });
}
