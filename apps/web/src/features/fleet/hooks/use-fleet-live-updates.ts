// Keeps the fleet page current without a reload: presence events patch the cached device
// rows at once; presence and alert events refresh the counts.
import { useEffect, useRef } from "react";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import type { DeviceList, PlatformEvent } from "@fleetwatch/contracts";
import { useLiveEvents, useLiveResync } from "../../../lib/live/use-live.ts";
import { devicePagesQueryKey } from "../api/get-device-pages.ts";
import { fleetSummaryQueryKey } from "../../../lib/fleet-summary.ts";
import { fleetPulseQueryKey } from "../api/get-fleet-pulse.ts";
import { applyPresence, latestPresence } from "../lib/presence-patch.ts";

/**
 * The counts are refetched rather than computed from events: a device coming online may
 * have been offline or never seen, which only the server knows for the rows this browser
 * has not loaded. The server publishes an event after writing it, so the refetch sees the
 * change. Refetches are spaced by this much, so a reconnect storm of thousands of devices
 * costs a few cheap count queries instead of one per frame.
 */
const summaryRefreshSpacingMs = 500;

const countsChange = (event: PlatformEvent) => event.kind === "presence" || event.kind.startsWith("alert.");

function useSpacedSummaryRefresh(queryClient: QueryClient): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return () => {
    if (timer.current !== undefined) return; // a refresh is already due and will see this change too
    timer.current = setTimeout(() => {
      timer.current = undefined;
      void queryClient.invalidateQueries({ queryKey: fleetSummaryQueryKey });
      void queryClient.invalidateQueries({ queryKey: fleetPulseQueryKey });
    }, summaryRefreshSpacingMs);
  };
}

export function useFleetLiveUpdates(): void {
  const queryClient = useQueryClient();
  const refreshSummary = useSpacedSummaryRefresh(queryClient);

  useLiveEvents((events) => {
    const latest = latestPresence(events);
    if (latest.size > 0) {
      queryClient.setQueriesData<DeviceList>({ queryKey: devicePagesQueryKey }, (page) => (page ? applyPresence(page, latest) : page));
    }
    if (events.some(countsChange)) refreshSummary();
  });

  // Events sent before the channel opened, while it was down, or dropped in a burst are
  // lost: what is on screen is refetched once. Not the pulse: it polls anyway (within 10 s),
  // and the channel opens on every page load, most often just after the pulse's first answer,
  // so resyncing it would repeat the page's heaviest request while its charts are drawn.
  useLiveResync(() => {
    void queryClient.invalidateQueries({ queryKey: fleetSummaryQueryKey });
    void queryClient.invalidateQueries({ queryKey: devicePagesQueryKey });
  });
}
