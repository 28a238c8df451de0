// /api/alert-rules: list, create, update, delete. One file: the four share a query key
// and a rule change can resolve open alerts, so every change refreshes both lists.
import { queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import type { AlertRule, AlertRuleList, CreateAlertRule, UpdateAlertRule } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { alertsQueryKey } from "./get-alerts.ts";

export const alertRulesQueryKey = ["alert-rules"] as const;

export function getAlertRules({ signal }: { signal?: AbortSignal } = {}): Promise<AlertRuleList> {
  return api.get<AlertRuleList>("/api/alert-rules", { signal });
}

export function alertRulesQueryOptions() {
  return queryOptions({ queryKey: alertRulesQueryKey, queryFn: ({ signal }) => getAlertRules({ signal }) });
}

export function useAlertRules() {
  return useQuery(alertRulesQueryOptions());
}

function refresh(queryClient: QueryClient) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: alertRulesQueryKey }),
    // Changing or deleting a rule resolves its open alerts.
    queryClient.invalidateQueries({ queryKey: alertsQueryKey }),
  ]);
}

export function createAlertRule(body: CreateAlertRule): Promise<AlertRule> {
  return api.post<AlertRule>("/api/alert-rules", body);
}

export function useCreateAlertRule() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: createAlertRule, onSuccess: () => refresh(queryClient) });
}

export function updateAlertRule({ id, changes }: { id: number; changes: UpdateAlertRule }): Promise<AlertRule> {
  return api.patch<AlertRule>(`/api/alert-rules/${id}`, changes);
}

export function useUpdateAlertRule() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: updateAlertRule, onSuccess: () => refresh(queryClient) });
}

export function deleteAlertRule(id: number): Promise<void> {
  return api.delete(`/api/alert-rules/${id}`);
}

export function useDeleteAlertRule() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: deleteAlertRule, onSettled: () => refresh(queryClient) });
}
