// The number of active alerts, for the navigation on every page: read from the fleet summary
// (one statement on the server) and refetched whenever an alert event arrives live.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { FleetSummary } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { useLiveEvents, useLiveResync } from "../../../lib/live/use-live.ts";

const activeAlertCountQueryKey = ["alert-notices", "active-count"] as const;

export function useActiveAlertCount() {
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: activeAlertCountQueryKey });
  useLiveEvents((events) => {
    if (events.some((event) => event.kind.startsWith("alert."))) refresh();
  });
  // Events missed while the live channel was down: count again.
  useLiveResync(refresh);
  return useQuery({
    queryKey: activeAlertCountQueryKey,
    queryFn: ({ signal }) => api.get<FleetSummary>("/api/fleet/summary", { signal }),
    select: (summary) => summary.alerts.active,
  });
}
