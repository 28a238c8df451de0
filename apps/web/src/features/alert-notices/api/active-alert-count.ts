// The number of active alerts, for the navigation on every page: read from the fleet summary
// (one statement on the server, one query shared with the fleet counts) and refetched
// whenever an alert event arrives live.
import { useQueryClient } from "@tanstack/react-query";
import { fleetSummaryQueryKey, useFleetSummary } from "../../../lib/fleet-summary.ts";
import { useLiveEvents, useLiveResync } from "../../../lib/live/use-live.ts";

export function useActiveAlertCount() {
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: fleetSummaryQueryKey });
  useLiveEvents((events) => {
    if (events.some((event) => event.kind.startsWith("alert."))) refresh();
  });
  // Events missed while the live channel was down: count again.
  useLiveResync(refresh);
  return useFleetSummary((summary) => summary.alerts.active);
}
