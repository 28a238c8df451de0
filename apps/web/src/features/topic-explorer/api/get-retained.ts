import { queryOptions, useQuery } from "@tanstack/react-query";
import type { RetainedList } from "@fleetwatch/contracts";
import { api, queryString } from "../../../lib/api-client.ts";

/** Enough for a tree a person reads; the answer says when more match. */
export const RETAINED_TREE_LIMIT = 500;

/** GET /api/retained: the retained messages matching a topic filter. */
export function getRetained(topic: string, { signal }: { signal?: AbortSignal } = {}): Promise<RetainedList> {
  return api.get<RetainedList>(`/api/retained${queryString({ topic, limit: RETAINED_TREE_LIMIT })}`, { signal });
}

export function retainedQueryOptions(topic: string) {
  return queryOptions({
    queryKey: ["retained", topic],
    queryFn: ({ signal }) => getRetained(topic, { signal }),
    // Loaded once per filter: live messages keep the tree current afterwards.
    staleTime: Infinity,
  });
}

export function useRetained(topic: string) {
  return useQuery(retainedQueryOptions(topic));
}
