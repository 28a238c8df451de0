import { queryOptions, usePrefetchQuery, useQuery } from "@tanstack/react-query";
import type { FleetPulse } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

export const fleetPulseQueryKey = ["fleet", "pulse"] as const;

/**
 * Presence and alert events refresh the pulse at once (use-fleet-live-updates.ts); messages
 * raise no event per message (10,000 devices would flood the channel), so the message rate
 * and top talkers are refetched on this period: a few index range scans on the server.
 */
const PULSE_REFRESH_MS = 10_000;

/** GET /api/fleet/pulse: message rate, devices online, alerts raised, top talkers, silent devices, active alerts. */
export function getFleetPulse({ signal }: { signal?: AbortSignal } = {}): Promise<FleetPulse> {
  return api.get<FleetPulse>("/api/fleet/pulse", { signal });
}

export function fleetPulseQueryOptions() {
  return queryOptions({
    queryKey: fleetPulseQueryKey,
    queryFn: ({ signal }) => getFleetPulse({ signal }),
    refetchInterval: PULSE_REFRESH_MS,
    // Not fetched again when the overview mounts right after the first page's preload answered.
    staleTime: PULSE_REFRESH_MS / 2,
  });
}

export function useFleetPulse() {
  return useQuery(fleetPulseQueryOptions());
}

/**
 * Starts the request from the overview itself, which is in the initial JavaScript: the pulse
 * component and its charting library are a chunk of their own, and a request made only once
 * that chunk has loaded would wait for it (measured: the pulse showed about a request's time
 * later than the data allowed).
 */
export function usePrefetchFleetPulse() {
  usePrefetchQuery(fleetPulseQueryOptions());
}
