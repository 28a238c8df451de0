import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { AcknowledgeAlert, Alert } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { alertsQueryKey } from "./get-alerts.ts";

/** POST /api/alerts/:id/ack. The server records the signed-in operator as the acknowledger. */
export function acknowledgeAlert(id: number): Promise<Alert> {
  const body: AcknowledgeAlert = {};
  return api.post<Alert>(`/api/alerts/${id}/ack`, body);
}

export function useAcknowledgeAlert() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: acknowledgeAlert,
    // Also after a 409 (resolved meanwhile): the list is stale either way.
    onSettled: () => queryClient.invalidateQueries({ queryKey: alertsQueryKey }),
  });
}
