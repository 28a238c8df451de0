import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { DeviceCreate, DeviceWithCredentials } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

/** POST /api/devices: the answer carries the device's password, the only time it is shown. */
export function createDevice(body: DeviceCreate): Promise<DeviceWithCredentials> {
  return api.post<DeviceWithCredentials>("/api/devices", body);
}

export function useCreateDevice() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createDevice,
    // Every device list and count (fleet overview, searches) is keyed under "devices" or "fleet".
    onSuccess: () =>
      Promise.all([queryClient.invalidateQueries({ queryKey: ["devices"] }), queryClient.invalidateQueries({ queryKey: ["fleet"] })]),
  });
}
