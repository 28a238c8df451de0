// POST /api/devices/import with CSV: first a dry run (a preview with every row's errors,
// nothing written), then the import itself, all or nothing.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { DeviceImportPreview, DeviceImportResult } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

const csv = (body: string) => ({ text: { body, contentType: "text/csv" } });

export function previewImport(text: string): Promise<DeviceImportPreview> {
  return api.post<DeviceImportPreview>("/api/devices/import?dryRun=true", undefined, csv(text));
}

export function importDevices(text: string): Promise<DeviceImportResult> {
  return api.post<DeviceImportResult>("/api/devices/import", undefined, csv(text));
}

export function usePreviewImport() {
  return useMutation({ mutationFn: previewImport });
}

export function useImportDevices() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: importDevices,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["devices"] }),
  });
}
