// Keeps the alert lists and rules current while the page is open: alert events from the
// live channel refetch the lists (they are small pages, and a refetch keeps filters and
// paging right without re-implementing the server's ordering here).
import { useQueryClient } from "@tanstack/react-query";
import { useLiveEvents, useLiveResync } from "../../../lib/live/use-live.ts";
import { alertRulesQueryKey } from "./alert-rules.ts";
import { alertsQueryKey } from "./get-alerts.ts";

export function useLiveAlerts(): void {
  const queryClient = useQueryClient();

  useLiveEvents((events) => {
    if (events.some((event) => event.kind === "alert.raised" || event.kind === "alert.acknowledged" || event.kind === "alert.resolved")) {
      void queryClient.invalidateQueries({ queryKey: alertsQueryKey });
    }
    if (events.some((event) => event.kind === "alert-rule.changed")) void queryClient.invalidateQueries({ queryKey: alertRulesQueryKey });
  });

  // Events are not replayed: those sent before the socket opened, while it was down, or
  // dropped in a burst are lost. Catch up whenever the live client says so.
  useLiveResync(() => {
    void queryClient.invalidateQueries({ queryKey: alertsQueryKey });
    void queryClient.invalidateQueries({ queryKey: alertRulesQueryKey });
  });
}
