// /api/tokens: the signed-in operator's own API tokens (any role may hold them: a token
// carries its owner's role, so a viewer's token reads only).
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiTokenCreate, ApiTokenCreated, ApiTokenList } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

export const apiTokensQueryKey = ["api-tokens"] as const;

export function getApiTokens({ signal }: { signal?: AbortSignal } = {}): Promise<ApiTokenList> {
  return api.get<ApiTokenList>("/api/tokens", { signal });
}

export function apiTokensQueryOptions() {
  return queryOptions({ queryKey: apiTokensQueryKey, queryFn: ({ signal }) => getApiTokens({ signal }) });
}

export function useApiTokens() {
  return useQuery(apiTokensQueryOptions());
}

/** The answer carries the token itself, which the server never shows again. */
export function createApiToken(body: ApiTokenCreate): Promise<ApiTokenCreated> {
  return api.post<ApiTokenCreated>("/api/tokens", body);
}

export function useCreateApiToken() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: createApiToken, onSuccess: () => queryClient.invalidateQueries({ queryKey: apiTokensQueryKey }) });
}

export function revokeApiToken(id: string): Promise<void> {
  return api.delete(`/api/tokens/${encodeURIComponent(id)}`);
}

export function useRevokeApiToken() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: revokeApiToken, onSettled: () => queryClient.invalidateQueries({ queryKey: apiTokensQueryKey }) });
}
