// The table's filters live in the address (?q=&status=&tag=): a filtered view can be
// bookmarked or shared, and Back undoes a filter change.
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";
import type { DeviceStatus } from "@fleetwatch/contracts";
import type { DeviceFilters } from "../api/get-device-pages.ts";

const statuses: readonly DeviceStatus[] = ["online", "offline", "never"];
const isStatus = (value: string | null): value is DeviceStatus => statuses.includes(value as DeviceStatus);

/** The filters an address asks for: also read before React renders, to start the first page's request (app/preload.ts). */
export function deviceFiltersFrom(params: URLSearchParams): DeviceFilters {
  const status = params.get("status");
  return { q: params.get("q") ?? "", status: isStatus(status) ? status : "", tag: params.get("tag") ?? "" };
}

export function useDeviceFilters(): [DeviceFilters, (change: Partial<DeviceFilters>) => void] {
  const [params, setParams] = useSearchParams();
  const { q, status, tag } = deviceFiltersFrom(params);
  // One object per distinct filter, so query keys and effects see a stable value.
  const filters = useMemo<DeviceFilters>(() => ({ q, status, tag }), [q, status, tag]);

  const update = useCallback(
    (change: Partial<DeviceFilters>) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(change)) {
            const trimmed = value.trim();
            if (trimmed) next.set(key, trimmed);
            else next.delete(key);
          }
          return next;
        },
        // Typing in the search box replaces the entry; Back goes to the previous page.
        { replace: "q" in change },
      );
    },
    [setParams],
  );
  return [filters, update];
}
