import { infiniteQueryOptions, useInfiniteQuery } from "@tanstack/react-query";
import type { AlertList, AlertListQuery } from "@fleetwatch/contracts";
import { api, queryString } from "../../../lib/api-client.ts";

export const alertsQueryKey = ["alerts"] as const;

/** Which alerts a list shows: GET /api/alerts' filters, without the paging fields. */
export type AlertsFilter = Pick<AlertListQuery, "state" | "deviceId">;

const pageSize = 50;

/** GET /api/alerts: one page, newest first. */
export function getAlerts(query: AlertListQuery, { signal }: { signal?: AbortSignal } = {}): Promise<AlertList> {
  return api.get<AlertList>(`/api/alerts${queryString(query)}`, { signal });
}

export function alertsQueryOptions(filter: AlertsFilter) {
  return infiniteQueryOptions({
    queryKey: [...alertsQueryKey, filter],
    queryFn: ({ pageParam, signal }) =>
      getAlerts({ ...filter, limit: pageSize, ...(pageParam === undefined ? {} : { cursor: pageParam }) }, { signal }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useAlerts(filter: AlertsFilter) {
  return useInfiniteQuery(alertsQueryOptions(filter));
}
