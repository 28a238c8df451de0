import { queryOptions, useQuery } from "@tanstack/react-query";
import type { BrokerClient, BrokerClientList } from "@fleetwatch/contracts";
import { api, queryString } from "../../../lib/api-client.ts";
import { deviceKeys } from "./keys.ts";

/**
 * The device's MQTT connection right now, from the connected-clients registry (any node), or
 * null when it is not connected. Admins and operators only (viewers get 403).
 */
export async function getLiveConnection(deviceId: string, { signal }: { signal?: AbortSignal } = {}): Promise<BrokerClient | null> {
  const page = await api.get<BrokerClientList>(`/api/broker/clients${queryString({ search: deviceId, kind: "device", limit: 5 })}`, {
    signal,
  });
  return page.items.find((client) => client.clientId === deviceId) ?? null;
}

export function liveConnectionQueryOptions(deviceId: string) {
  // Polled like the Clients page: a reconnect over another transport shows within seconds.
  return queryOptions({
    queryKey: deviceKeys.liveConnection(deviceId),
    queryFn: ({ signal }) => getLiveConnection(deviceId, { signal }),
    refetchInterval: 5_000,
  });
}

export function useLiveConnection(deviceId: string) {
  return useQuery(liveConnectionQueryOptions(deviceId));
}
