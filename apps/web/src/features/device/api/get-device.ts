import { queryOptions, useQuery } from "@tanstack/react-query";
import type { Device } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { deviceKeys } from "./keys.ts";

/** GET /api/devices/:id (404 for an unknown id). */
export function getDevice(id: string, { signal }: { signal?: AbortSignal } = {}): Promise<Device> {
  return api.get<Device>(`/api/devices/${encodeURIComponent(id)}`, { signal });
}

export function deviceQueryOptions(id: string) {
  return queryOptions({ queryKey: deviceKeys.device(id), queryFn: ({ signal }) => getDevice(id, { signal }) });
}

export function useDevice(id: string) {
  return useQuery(deviceQueryOptions(id));
}
