import { queryOptions, useQuery } from "@tanstack/react-query";
import type { Readiness } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

export const readinessRefreshMs = 5_000;

/** GET /readyz. A 503 is an answer, not a failure: its body names the failing checks. */
export function getReadiness({ signal }: { signal?: AbortSignal } = {}): Promise<Readiness> {
  return api.get<Readiness>("/readyz", { acceptStatuses: [503], signal });
}

export function readinessQueryOptions() {
  return queryOptions({
    queryKey: ["readiness"],
    queryFn: ({ signal }) => getReadiness({ signal }),
    refetchInterval: readinessRefreshMs,
    // Polling is the retry: a failed check shows at once and the next poll tries again,
    // instead of backing off for seconds while the card still looks healthy.
    retry: false,
  });
}

export function useReadiness() {
  return useQuery(readinessQueryOptions());
}
