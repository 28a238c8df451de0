// Keeps the alert lists and rules current while the page is open: alert events from the
// live channel refetch the lists (they are small pages, and a refetch keeps filters and
// paging right without re-implementing the server's ordering here).
import { useEffect, useRef } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useLiveEvents, useLiveStatus } from "../../../lib/live/use-live.ts";
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

  // Events are not replayed: those sent before the socket opened (between the lists' first
  // fetch and the open) or while it was down would be lost. Catch up each time it opens.
  const status = useLiveStatus();
  const previous = useRef(status);
  useEffect(() => {
    if (status === "open" && previous.current !== "open") {
      void queryClient.invalidateQueries({ queryKey: alertsQueryKey });
      void queryClient.invalidateQueries({ queryKey: alertRulesQueryKey });
    }
    previous.current = status;
  }, [status, queryClient]);
}
