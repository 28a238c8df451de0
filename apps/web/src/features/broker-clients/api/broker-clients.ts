// /api/broker/clients (admins and operators): the MQTT clients connected to any node, one page
// at a time, and an admin's disconnect.
//
// Live by short polling of the page on screen, not by pushing connects and disconnects over the
// live channel: with 10,000 clients a connect storm would send every open browser thousands of
// events for rows it does not show, while polling costs one indexed page query per viewer every
// CLIENTS_REFRESH_MS, whatever the fleet does.
import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { BrokerClientDisconnect, BrokerClientDisconnected, BrokerClientList, BrokerClientsQuery } from "@fleetwatch/contracts";
import { api, queryString } from "../../../lib/api-client.ts";

export const CLIENTS_REFRESH_MS = 3_000;

export const brokerClientsQueryKey = ["broker-clients"] as const;

export function getBrokerClients(query: BrokerClientsQuery, { signal }: { signal?: AbortSignal } = {}): Promise<BrokerClientList> {
  return api.get<BrokerClientList>(`/api/broker/clients${queryString({ ...query })}`, { signal });
}

export function brokerClientsQueryOptions(query: BrokerClientsQuery) {
  return queryOptions({
    queryKey: [...brokerClientsQueryKey, query],
    queryFn: ({ signal }) => getBrokerClients(query, { signal }),
    // The page stays on screen while the next filter's or the next refresh's page loads.
    placeholderData: keepPreviousData,
    refetchInterval: CLIENTS_REFRESH_MS,
  });
}

export function useBrokerClients(query: BrokerClientsQuery) {
  return useQuery(brokerClientsQueryOptions(query));
}

export function disconnectClient({ clientId, session }: { clientId: string } & BrokerClientDisconnect): Promise<BrokerClientDisconnected> {
  return api.post<BrokerClientDisconnected>(`/api/broker/clients/${encodeURIComponent(clientId)}/disconnect`, { session });
}

export function useDisconnectClient() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: disconnectClient,
    onSettled: () => queryClient.invalidateQueries({ queryKey: brokerClientsQueryKey }),
  });
}
