import { queryOptions, useQuery } from "@tanstack/react-query";
import type { PresenceHistory } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { deviceKeys } from "./keys.ts";

export const PRESENCE_HISTORY_LIMIT = 50;

/** GET /api/devices/:id/presence: its latest presence events, newest first. */
export function getPresence(id: string, { signal }: { signal?: AbortSignal } = {}): Promise<PresenceHistory> {
  return api.get<PresenceHistory>(`/api/devices/${encodeURIComponent(id)}/presence?limit=${PRESENCE_HISTORY_LIMIT}`, { signal });
}

export function presenceQueryOptions(id: string) {
  return queryOptions({
    queryKey: deviceKeys.presence(id),
    queryFn: ({ signal }) => getPresence(id, { signal }),
  });
}

export function usePresence(id: string) {
  return useQuery(presenceQueryOptions(id));
}
