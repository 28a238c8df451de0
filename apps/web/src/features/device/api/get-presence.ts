import { queryOptions, useQuery } from "@tanstack/react-query";
import type { PresenceHistory } from "@fleetwatch/contracts";
import { api, queryString } from "../../../lib/api-client.ts";
import { rangeKey, rangeParams, type TimeRange } from "../../../lib/time-range.ts";
import { deviceKeys } from "./keys.ts";

/** Most presence events one timeline asks for; a device that flapped more often in the range shows its latest ones. */
export const PRESENCE_EVENTS_LIMIT = 1_000;

/** GET /api/devices/:id/presence over a range: its events inside it, newest first, and the one before it. */
export function getPresence(id: string, range: TimeRange, { signal }: { signal?: AbortSignal } = {}): Promise<PresenceHistory> {
  const query = queryString({ ...rangeParams(range), limit: PRESENCE_EVENTS_LIMIT });
  return api.get<PresenceHistory>(`/api/devices/${encodeURIComponent(id)}/presence${query}`, { signal });
}

export function presenceQueryOptions(id: string, range: TimeRange) {
  return queryOptions({
    queryKey: [...deviceKeys.presence(id), rangeKey(range)] as const,
    queryFn: ({ signal }) => getPresence(id, range, { signal }),
    placeholderData: (previous) => previous,
  });
}

export function usePresence(id: string, range: TimeRange) {
  return useQuery(presenceQueryOptions(id, range));
}
