// GET /api/dashboards/:id on its own, small enough for the app shell to import: the shell
// starts this request while the dashboard page's chunk (with the grid library) still loads.
import { queryOptions, usePrefetchQuery } from "@tanstack/react-query";
import type { Dashboard } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

export const dashboardsQueryKey = ["dashboards"] as const;
export const dashboardKey = (id: string) => [...dashboardsQueryKey, "one", id] as const;

export function dashboardQueryOptions(id: string) {
  return queryOptions({
    queryKey: dashboardKey(id),
    queryFn: ({ signal }) => api.get<Dashboard>(`/api/dashboards/${encodeURIComponent(id)}`, { signal }),
  });
}

export function usePrefetchDashboard(id: string) {
  usePrefetchQuery(dashboardQueryOptions(id));
}
