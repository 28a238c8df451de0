// React bindings of the shared live client. Handlers are read through a ref, so a page can
// pass an inline function without resubscribing on every render.
import { useEffect, useRef, useSyncExternalStore } from "react";
import type { PlatformEvent } from "@fleetwatch/contracts";
import { liveClient, type LiveStatus, type MessageBatch } from "./live-client.ts";

function useLatest<T>(value: T) {
  const ref = useRef(value);
  useEffect(() => {
    ref.current = value;
  });
  return ref;
}

/** Calls `onBatch` with the live messages matching `filter`; `null` subscribes to nothing. */
export function useLiveMessages(filter: string | null, onBatch: (batch: MessageBatch) => void, onError?: (message: string) => void): void {
  const handlers = useLatest({ onBatch, onError });
  useEffect(() => {
    if (filter === null) return;
    return liveClient.subscribe(
      filter,
      (batch) => handlers.current.onBatch(batch),
      (message) => handlers.current.onError?.(message),
    );
  }, [filter, handlers]);
}

/** Calls `onEvents` with platform events (presence changes, alerts) as they happen. */
export function useLiveEvents(onEvents: (events: PlatformEvent[]) => void): void {
  const handler = useLatest(onEvents);
  useEffect(() => liveClient.onEvents((events) => handler.current(events)), [handler]);
}

/**
 * Calls `onResync` when live events may have been missed (the channel opened or reopened, or
 * the server dropped events in a burst): refetch what the page shows from live events.
 */
export function useLiveResync(onResync: () => void): void {
  const handler = useLatest(onResync);
  useEffect(() => liveClient.onResync(() => handler.current()), [handler]);
}

export function useLiveStatus(): LiveStatus {
  return useSyncExternalStore(
    (notify) => liveClient.onStatus(notify),
    () => liveClient.currentStatus,
  );
}
