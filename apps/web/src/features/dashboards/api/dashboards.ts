// /api/dashboards: fetchers, query options and hooks; mutations refresh the matching queries.
import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type {
  CreateDashboard,
  Dashboard,
  DashboardDocument,
  DashboardList,
  UpdateDashboard,
  Widget,
  WidgetData,
} from "@fleetwatch/contracts";
import { api, queryString } from "../../../lib/api-client.ts";
import { rangeKey, rangeParams, type TimeRange } from "../../../lib/time-range.ts";
import { dashboardKey, dashboardQueryOptions, dashboardsQueryKey } from "./get-dashboard.ts";

export { dashboardsQueryKey };
export const widgetDataKey = (dashboardId: string, widgetId?: string) =>
  widgetId === undefined
    ? ([...dashboardsQueryKey, "data", dashboardId] as const)
    : ([...dashboardsQueryKey, "data", dashboardId, widgetId] as const);

/**
 * Live events and messages refresh a widget at once (use-widget-live.ts); this period also
 * refreshes what no event announces (tag aggregates over many devices, a preset range moving on).
 */
const WIDGET_REFRESH_MS = 15_000;

export function useDashboards() {
  return useQuery(
    queryOptions({ queryKey: dashboardsQueryKey, queryFn: ({ signal }) => api.get<DashboardList>("/api/dashboards", { signal }) }),
  );
}

export function useDashboard(id: string) {
  return useQuery(dashboardQueryOptions(id));
}

export function useCreateDashboard() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateDashboard) => api.post<Dashboard>("/api/dashboards", input),
    onSuccess: () => client.invalidateQueries({ queryKey: dashboardsQueryKey }),
  });
}

export function useImportDashboard() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (document: unknown) => api.post<Dashboard>("/api/dashboards/import", document),
    onSuccess: () => client.invalidateQueries({ queryKey: dashboardsQueryKey }),
  });
}

export function useUpdateDashboard(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (changes: UpdateDashboard) => api.patch<Dashboard>(`/api/dashboards/${encodeURIComponent(id)}`, changes),
    onSuccess: (dashboard) => {
      client.setQueryData(dashboardKey(id), dashboard);
      void client.invalidateQueries({ queryKey: dashboardsQueryKey, exact: true });
      void client.invalidateQueries({ queryKey: widgetDataKey(id) });
    },
  });
}

export function useDeleteDashboard() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/dashboards/${encodeURIComponent(id)}`),
    onSuccess: () => client.invalidateQueries({ queryKey: dashboardsQueryKey }),
  });
}

export function exportDashboard(id: string): Promise<DashboardDocument> {
  return api.get<DashboardDocument>(`/api/dashboards/${encodeURIComponent(id)}/export`);
}

/** One request per widget, for its width (the server downsamples a chart to it); none until the width is measured (null). */
export function useWidgetData(dashboardId: string, widget: Widget, range: TimeRange, width: number | null) {
  // Rounded, so resizing by a few pixels does not refetch.
  const bucketedWidth = Math.max(50, Math.round((width ?? 0) / 50) * 50);
  return useQuery(
    queryOptions({
      enabled: width !== null,
      queryKey: [...widgetDataKey(dashboardId, widget.id), rangeKey(range), bucketedWidth, JSON.stringify(widget)],
      queryFn: ({ signal }) =>
        api.get<WidgetData>(
          `/api/dashboards/${encodeURIComponent(dashboardId)}/widgets/${encodeURIComponent(widget.id)}/data${queryString({ ...rangeParams(range), width: bucketedWidth })}`,
          { signal },
        ),
      placeholderData: keepPreviousData,
      refetchInterval: WIDGET_REFRESH_MS,
    }),
  );
}
