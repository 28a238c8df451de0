import { useId } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { Device, PresenceEvent, PresenceHistory } from "@fleetwatch/contracts";
import { Empty, Loading, LoadError } from "../../../components/query-state.tsx";
import { useLiveEvents, useLiveResync } from "../../../lib/live/use-live.ts";
import { PRESENCE_HISTORY_LIMIT, usePresence } from "../api/get-presence.ts";
import { deviceKeys } from "../api/keys.ts";
import { formatDateTime } from "../../../lib/format.ts";

/**
 * Applies this device's presence events to the page at once (timeline and header status),
 * then refetches both: the server wrote them before publishing the event.
 */
export function usePresenceUpdates(deviceId: string) {
  const queryClient = useQueryClient();
  useLiveEvents((events) => {
    const mine: PresenceEvent[] = [];
    for (const event of events) {
      if (event.kind === "presence" && event.deviceId === deviceId)
        mine.push({ deviceId: event.deviceId, online: event.online, reason: event.reason, at: event.at });
    }
    const newest = mine.at(-1);
    if (!newest) return;
    queryClient.setQueryData<PresenceHistory>(deviceKeys.presence(deviceId), (history) =>
      history
        ? { ...history, online: newest.online, items: [...mine.reverse(), ...history.items].slice(0, PRESENCE_HISTORY_LIMIT) }
        : history,
    );
    queryClient.setQueryData<Device>(deviceKeys.device(deviceId), (device) =>
      device ? { ...device, online: newest.online, status: newest.online ? "online" : "offline", lastSeenAt: newest.at } : device,
    );
    void queryClient.invalidateQueries({ queryKey: deviceKeys.presence(deviceId) });
    void queryClient.invalidateQueries({ queryKey: deviceKeys.device(deviceId), exact: true });
  });
  // Presence events missed before the channel opened or while it was down: read it afresh.
  useLiveResync(() => {
    void queryClient.invalidateQueries({ queryKey: deviceKeys.presence(deviceId) });
    void queryClient.invalidateQueries({ queryKey: deviceKeys.device(deviceId), exact: true });
  });
}

export function PresenceTimeline({ deviceId }: { deviceId: string }) {
  const headingId = useId();
  const presence = usePresence(deviceId);

  return (
    <section className="card device-section" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          Presence
        </h2>
      </div>
      {presence.error ? (
        <LoadError what="the presence history" error={presence.error} retry={() => void presence.refetch()} />
      ) : !presence.data ? (
        <Loading label="Loading presence…" />
      ) : presence.data.items.length === 0 ? (
        <Empty>The device has not connected yet.</Empty>
      ) : (
        <ol className="timeline" aria-label="Presence timeline, newest first">
          {presence.data.items.map((event) => (
            <li
              key={`${event.at}-${event.online}-${event.reason}`}
              className={`timeline__item timeline__item--${event.online ? "online" : "offline"}`}
            >
              <span className="timeline__state">{event.online ? "Online" : "Offline"}</span>
              <span className="timeline__reason">{event.reason}</span>
              <time className="timeline__time muted" dateTime={event.at}>
                {formatDateTime(event.at)}
              </time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
