// The signed-in operator's preferences (GET and PATCH /api/preferences): kept with the account.
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Preferences, PreferencesUpdate } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

export const preferencesQueryKey = ["preferences"] as const;

export function getPreferences({ signal }: { signal?: AbortSignal } = {}): Promise<Preferences> {
  return api.get<Preferences>("/api/preferences", { signal });
}

export function updatePreferences(update: PreferencesUpdate): Promise<Preferences> {
  return api.patch<Preferences>("/api/preferences", update);
}

export function preferencesQueryOptions() {
  return queryOptions({ queryKey: preferencesQueryKey, queryFn: ({ signal }) => getPreferences({ signal }), staleTime: Infinity });
}

export function usePreferences() {
  return useQuery(preferencesQueryOptions());
}

export function useUpdatePreferences() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updatePreferences,
    onSuccess: (preferences) => queryClient.setQueryData(preferencesQueryKey, preferences),
  });
}
