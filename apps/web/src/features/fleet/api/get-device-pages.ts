// The fleet table's data: GET /api/devices by offset, one cached query per page of rows.
//
// Why pages by offset fetched for the rows in view, rather than an infinite list: the
// table's scrollbar spans the whole fleet from the first answer (it carries `total`), so
// dragging it to the end of 10,000 devices fetches the one page shown there instead of
// every page in between. The first paint needs a single request, and every page is an
// ordinary cached query that live events patch in place (lib/presence-patch.ts). A compact
// list endpoint was not needed: see the fleet page budget in e2e/budgets/measure.ts and
// PAGE_SIZE below.
import { queryOptions, useQueries, type UseQueryResult } from "@tanstack/react-query";
import type { DeviceList, DeviceStatus } from "@fleetwatch/contracts";
import { api, queryString } from "../../../lib/api-client.ts";

/**
 * Rows per request: more than a tall window shows with the overscan (12 rows each side),
 * so the first paint needs one page. Not the API's largest page (500): the first page is on
 * the fleet page's critical path, and at 10,000 devices 500 rows (132 KB of JSON) took the
 * server 330 to 370 ms where 100 rows (26 KB) took 145 to 155 ms (same load, load average 20);
 * scrolling fetches only the pages in view either way.
 */
export const PAGE_SIZE = 100;

/** What the operator narrows the table to (the search, status and tag controls). */
export interface DeviceFilters {
  q: string;
  status: DeviceStatus | "";
  tag: string;
}

/**
 * Every page of every filter: what live events patch and a live reconnect invalidates.
 * Under ["devices"], so registering or deleting a device elsewhere refreshes the table; the
 * second segment is an object so that it never equals a device id (the device page keys a
 * device as ["devices", id], and "list" is a valid id).
 */
export const devicePagesQueryKey = ["devices", { view: "list" }] as const;

/** GET /api/devices: the `page`-th PAGE_SIZE devices matching `filters`, ordered by id. */
export function getDevicePage(filters: DeviceFilters, page: number, { signal }: { signal?: AbortSignal } = {}): Promise<DeviceList> {
  const query = queryString({ q: filters.q, status: filters.status, tag: filters.tag, limit: PAGE_SIZE, offset: page * PAGE_SIZE });
  return api.get<DeviceList>(`/api/devices${query}`, { signal });
}

export function devicePageQueryOptions(filters: DeviceFilters, page: number) {
  return queryOptions({
    queryKey: [...devicePagesQueryKey, filters, page] as const,
    queryFn: ({ signal }) => getDevicePage(filters, page, { signal }),
    // Live events keep loaded rows current, so scrolling back does not refetch them.
    staleTime: 60_000,
  });
}

export type DevicePages = ReadonlyMap<number, UseQueryResult<DeviceList>>;

/** The pages holding rows `first`..`last` (inclusive), keyed by page number. */
export function useDevicePages(filters: DeviceFilters, first: number, last: number): DevicePages {
  const numbers: number[] = [];
  for (let page = Math.floor(first / PAGE_SIZE); page <= Math.floor(last / PAGE_SIZE); page++) numbers.push(page);
  const results = useQueries({ queries: numbers.map((page) => devicePageQueryOptions(filters, page)) });
  const pages = new Map<number, UseQueryResult<DeviceList>>();
  numbers.forEach((page, i) => {
    const result = results[i];
    if (result) pages.set(page, result);
  });
  return pages;
}
