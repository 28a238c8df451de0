import { queryOptions, useQuery } from "@tanstack/react-query";
import type { FleetSummary } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

export const fleetSummaryQueryKey = ["fleet", "summary"] as const;

/** GET /api/fleet/summary: devices online, offline, never seen; open alerts. */
export function getFleetSummary({ signal }: { signal?: AbortSignal } = {}): Promise<FleetSummary> {
  return api.get<FleetSummary>("/api/fleet/summary", { signal });
}

export function fleetSummaryQueryOptions() {
  // No polling: live events say when the counts changed (use-fleet-live-updates.ts).
  return queryOptions({ queryKey: fleetSummaryQueryKey, queryFn: ({ signal }) => getFleetSummary({ signal }) });
}

export function useFleetSummary() {
  return useQuery(fleetSummaryQueryOptions());
}
