import { queryOptions, useQuery } from "@tanstack/react-query";
import type { DeviceMetrics } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { deviceKeys } from "./keys.ts";

/** GET /api/devices/:id/metrics: each metric with its latest value. */
export function getDeviceMetrics(id: string, { signal }: { signal?: AbortSignal } = {}): Promise<DeviceMetrics> {
  return api.get<DeviceMetrics>(`/api/devices/${encodeURIComponent(id)}/metrics`, { signal });
}

export function deviceMetricsQueryOptions(id: string) {
  return queryOptions({
    queryKey: deviceKeys.metrics(id),
    queryFn: ({ signal }) => getDeviceMetrics(id, { signal }),
  });
}

export function useDeviceMetrics(id: string) {
  return useQuery(deviceMetricsQueryOptions(id));
}
