// Changes an operator makes on the device page: edit, rotate credentials, disable/enable, delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Device, DeviceTagList, DeviceUpdate, DeviceWithCredentials } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { deviceKeys } from "./keys.ts";

const devicePath = (id: string) => `/api/devices/${encodeURIComponent(id)}`;

/** POST /api/devices/:id/credentials: a new password, shown once; the old one stops working at once. */
export function rotateCredentials(id: string): Promise<DeviceWithCredentials> {
  return api.post<DeviceWithCredentials>(`${devicePath(id)}/credentials`);
}

export function setDeviceDisabled(id: string, disabled: boolean): Promise<Device> {
  return api.post<Device>(`${devicePath(id)}/${disabled ? "disable" : "enable"}`);
}

export function deleteDevice(id: string): Promise<void> {
  return api.delete(devicePath(id));
}

export function useRotateCredentials(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => rotateCredentials(id),
    onSuccess: (issued) => queryClient.setQueryData(deviceKeys.device(id), issued.device),
  });
}

export function useSetDeviceDisabled(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (disabled: boolean) => setDeviceDisabled(id, disabled),
    onSuccess: (device) => {
      queryClient.setQueryData(deviceKeys.device(id), device);
      // Other lists (the fleet table) show the flag too.
      void queryClient.invalidateQueries({ queryKey: ["devices"], refetchType: "none" });
    },
  });
}

/** `onDeleted` runs first (the page navigates away), so no mounted query refetches the deleted device. */
export function useDeleteDevice(id: string, onDeleted: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => deleteDevice(id),
    onSuccess: () => {
      onDeleted();
      // Gone: drop what we knew of it without refetching (that would only answer 404), and
      // mark every device list stale so the fleet page reloads its rows when it mounts.
      queryClient.removeQueries({ queryKey: deviceKeys.device(id) });
      void queryClient.invalidateQueries({ queryKey: ["devices"], refetchType: "none" });
    },
  });
}

/** PATCH /api/devices/:id: name, description and tags. */
export function updateDevice(id: string, changes: DeviceUpdate): Promise<Device> {
  return api.patch<Device>(devicePath(id), changes);
}

export function useUpdateDevice(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (changes: DeviceUpdate) => updateDevice(id, changes),
    onSuccess: (device) => {
      queryClient.setQueryData(deviceKeys.device(id), device);
      // Fleet lists show names and tags, and the tag suggestions count them.
      void queryClient.invalidateQueries({ queryKey: ["devices"], refetchType: "none" });
      void queryClient.invalidateQueries({ queryKey: deviceKeys.tags() });
    },
  });
}

/** GET /api/devices/tags: the tags in use, most used first. */
export function useDeviceTags(enabled: boolean) {
  return useQuery({
    queryKey: deviceKeys.tags(),
    queryFn: ({ signal }) => api.get<DeviceTagList>("/api/devices/tags", { signal }),
    enabled,
  });
}
