// /api/notification-channels: list, create, update, delete, test, and each channel's delivery
// log. One file: they share the query keys, and every change refreshes the list.
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type {
  CreatedNotificationChannel,
  CreateNotificationChannel,
  DeliveryAttemptList,
  NotificationChannel,
  NotificationChannelList,
  NotificationTestResult,
  UpdateNotificationChannel,
} from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

export const channelsQueryKey = ["notification-channels"] as const;
const deliveriesQueryKey = (id: string) => [...channelsQueryKey, id, "deliveries"] as const;

export function channelsQueryOptions() {
  return queryOptions({
    queryKey: channelsQueryKey,
    queryFn: ({ signal }) => api.get<NotificationChannelList>("/api/notification-channels", { signal }),
  });
}

export function useNotificationChannels() {
  return useQuery(channelsQueryOptions());
}

/** The channel's delivery attempts, newest first; refreshed every few seconds while shown (retries happen in the background). */
export function useDeliveries(id: string) {
  return useQuery({
    queryKey: deliveriesQueryKey(id),
    queryFn: ({ signal }) => api.get<DeliveryAttemptList>(`/api/notification-channels/${id}/deliveries?limit=50`, { signal }),
    refetchInterval: 5_000,
  });
}

export function useCreateChannel() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateNotificationChannel) => api.post<CreatedNotificationChannel>("/api/notification-channels", body),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: channelsQueryKey }),
  });
}

export function useUpdateChannel() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, changes }: { id: string; changes: UpdateNotificationChannel }) =>
      api.patch<NotificationChannel>(`/api/notification-channels/${id}`, changes),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: channelsQueryKey }),
  });
}

export function useDeleteChannel() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/notification-channels/${id}`),
    onSettled: () => queryClient.invalidateQueries({ queryKey: channelsQueryKey }),
  });
}

export function useTestChannel() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<NotificationTestResult>(`/api/notification-channels/${id}/test`),
    onSettled: (_result, _error, id) => queryClient.invalidateQueries({ queryKey: deliveriesQueryKey(id) }),
  });
}
