// Commands to one device: the history (newest first), sending one, and their statuses as
// the live channel reports them (command.updated events), without a reload.
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { CommandAccepted, CommandCreate, CommandList } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { useLiveEvents, useLiveResync } from "../../../lib/live/use-live.ts";
import { deviceKeys } from "./keys.ts";

export const COMMAND_HISTORY_LIMIT = 20;
const commandsPath = (id: string) => `/api/devices/${encodeURIComponent(id)}/commands`;

/** GET /api/devices/:id/commands: the newest commands first. */
export function getCommands(id: string, { signal }: { signal?: AbortSignal } = {}): Promise<CommandList> {
  return api.get<CommandList>(`${commandsPath(id)}?limit=${COMMAND_HISTORY_LIMIT}`, { signal });
}

export function commandsQueryOptions(id: string) {
  return queryOptions({ queryKey: deviceKeys.commands(id), queryFn: ({ signal }) => getCommands(id, { signal }) });
}

export function useCommands(id: string) {
  return useQuery(commandsQueryOptions(id));
}

/** POST /api/devices/:id/commands: 202 with the command's id and first status; 409 when the device cannot be reached. */
export function sendCommand(id: string, body: CommandCreate): Promise<CommandAccepted> {
  return api.post<CommandAccepted>(commandsPath(id), body);
}

export function useSendCommand(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CommandCreate) => sendCommand(id, body),
    // A refused one is in the history too (failed).
    onSettled: () => queryClient.invalidateQueries({ queryKey: deviceKeys.commands(id) }),
  });
}

/** Keeps the history's statuses current from the live channel. */
export function useCommandUpdates(id: string) {
  const queryClient = useQueryClient();
  useLiveEvents((events) => {
    const updates = events.flatMap((event) => (event.kind === "command.updated" && event.command.deviceId === id ? [event.command] : []));
    if (updates.length === 0) return;
    let unknown = false;
    queryClient.setQueryData<CommandList>(deviceKeys.commands(id), (current) => {
      if (!current) return current;
      const items = current.items.map((item) => {
        const update = updates.find((command) => command.id === item.id);
        // Events may arrive out of order across nodes: a later status never goes back.
        return update && rank(update.status) >= rank(item.status) ? update : item;
      });
      unknown = updates.some((command) => !current.items.some((item) => item.id === command.id));
      return { ...current, items };
    });
    // A command sent from elsewhere (another browser, the API): fetch the page again.
    if (unknown) void queryClient.invalidateQueries({ queryKey: deviceKeys.commands(id) });
  });
  useLiveResync(() => void queryClient.invalidateQueries({ queryKey: deviceKeys.commands(id) }));
}

const order = ["queued", "sent", "delivered", "responded", "expired", "failed"] as const;
/** responded, expired and failed are final: equal rank, so none replaces another. */
const rank = (status: (typeof order)[number]) => Math.min(order.indexOf(status), 3);
