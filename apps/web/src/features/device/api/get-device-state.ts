import { queryOptions, useQuery } from "@tanstack/react-query";
import type { DeviceState } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { deviceKeys } from "./keys.ts";

/** GET /api/devices/:id/state: the device's retained messages. */
export function getDeviceState(id: string, { signal }: { signal?: AbortSignal } = {}): Promise<DeviceState> {
  return api.get<DeviceState>(`/api/devices/${encodeURIComponent(id)}/state`, { signal });
}

export function deviceStateQueryOptions(id: string) {
  return queryOptions({
    queryKey: deviceKeys.state(id),
    queryFn: ({ signal }) => getDeviceState(id, { signal }),
  });
}

export function useDeviceState(id: string) {
  return useQuery(deviceStateQueryOptions(id));
}
