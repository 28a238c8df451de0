// /api/users (admins only, reading included): list, create, change, delete.
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { User, UserCreate, UserList, UserUpdate } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

export const usersQueryKey = ["users"] as const;

export function getUsers({ signal }: { signal?: AbortSignal } = {}): Promise<UserList> {
  return api.get<UserList>("/api/users", { signal });
}

export function usersQueryOptions() {
  return queryOptions({ queryKey: usersQueryKey, queryFn: ({ signal }) => getUsers({ signal }) });
}

/** Only mount where the operator may manage users: a viewer's request is refused (403). */
export function useUsers() {
  return useQuery(usersQueryOptions());
}

export function createUser(body: UserCreate): Promise<User> {
  return api.post<User>("/api/users", body);
}

export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: createUser, onSuccess: () => queryClient.invalidateQueries({ queryKey: usersQueryKey }) });
}

export function updateUser({ id, changes }: { id: string; changes: UserUpdate }): Promise<User> {
  return api.patch<User>(`/api/users/${encodeURIComponent(id)}`, changes);
}

export function useUpdateUser() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: updateUser, onSettled: () => queryClient.invalidateQueries({ queryKey: usersQueryKey }) });
}

export function deleteUser(id: string): Promise<void> {
  return api.delete(`/api/users/${encodeURIComponent(id)}`);
}

export function useDeleteUser() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: deleteUser, onSettled: () => queryClient.invalidateQueries({ queryKey: usersQueryKey }) });
}
