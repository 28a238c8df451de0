import { queryOptions, useQuery } from "@tanstack/react-query";
import { deviceTopic, type MessageList } from "@fleetwatch/contracts";
import { api, queryString } from "../../../lib/api-client.ts";
import { deviceKeys } from "./keys.ts";

export const RECENT_MESSAGES_LIMIT = 50;

/** GET /api/messages for everything under devices/{id}/, newest first. */
export function getRecentMessages(id: string, { signal }: { signal?: AbortSignal } = {}): Promise<MessageList> {
  const query = queryString({ topic: deviceTopic.all(id), limit: RECENT_MESSAGES_LIMIT });
  return api.get<MessageList>(`/api/messages${query}`, { signal });
}

export function recentMessagesQueryOptions(id: string) {
  return queryOptions({
    queryKey: deviceKeys.messages(id),
    queryFn: ({ signal }) => getRecentMessages(id, { signal }),
  });
}

export function useRecentMessages(id: string) {
  return useQuery(recentMessagesQueryOptions(id));
}
