import { queryOptions, useQuery } from "@tanstack/react-query";
import type { DeviceEndpoints } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

/** GET /api/broker/endpoints: where devices connect. */
export function getEndpoints({ signal }: { signal?: AbortSignal } = {}): Promise<DeviceEndpoints> {
  return api.get<DeviceEndpoints>("/api/broker/endpoints", { signal });
}

export function endpointsQueryOptions() {
  // The server's listeners do not move while it runs.
  return queryOptions({ queryKey: ["broker", "endpoints"], queryFn: ({ signal }) => getEndpoints({ signal }), staleTime: Infinity });
}

export function useEndpoints() {
  return useQuery(endpointsQueryOptions());
}
