import { useId } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { Device, PresenceEvent } from "@fleetwatch/contracts";
import { Empty, Loading, LoadError } from "../../../components/query-state.tsx";
import { useLiveEvents, useLiveResync } from "../../../lib/live/use-live.ts";
import { resolveTimeRange, type TimeRange } from "../../../lib/time-range.ts";
import { formatDateTime, formatDuration } from "../../../lib/format.ts";
import { PRESENCE_EVENTS_LIMIT, usePresence } from "../api/get-presence.ts";
import { deviceKeys } from "../api/keys.ts";
import { presencePeriods, type PresencePeriod } from "../lib/presence-periods.ts";

/** Offline periods listed under the bars; the bars show them all. */
const LISTED_OFFLINE_PERIODS = 10;
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

/**
 * Applies this device's presence events to the page at once (the header's status), then
 * refetches the device and its timeline: the server wrote them before publishing the event.
 */
export function usePresenceUpdates(deviceId: string) {
  const queryClient = useQueryClient();
  useLiveEvents((events) => {
    let newest: PresenceEvent | undefined;
    for (const event of events) {
      if (event.kind === "presence" && event.deviceId === deviceId)
        newest = { deviceId: event.deviceId, online: event.online, reason: event.reason, at: event.at };
    }
    if (!newest) return;
    const { online, at } = newest;
    queryClient.setQueryData<Device>(deviceKeys.device(deviceId), (device) =>
      device ? { ...device, online, status: online ? "online" : "offline", lastSeenAt: at } : device,
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

const stateLabel: Record<PresencePeriod["state"], string> = { online: "Online", offline: "Offline", unknown: "No record" };

/** The device's presence over the chosen range: online and offline bars, uptime, and why each offline period began. */
export function PresenceTimeline({ deviceId, range }: { deviceId: string; range: TimeRange }) {
  const headingId = useId();
  const presence = usePresence(deviceId, range);
  // The range as the server answered it: a preset ends when it was fetched.
  const bounds = resolveTimeRange(range, presence.dataUpdatedAt);
  const summary = presence.data ? presencePeriods(presence.data, bounds, PRESENCE_EVENTS_LIMIT) : null;
  const offline = summary ? summary.periods.filter((period) => period.state === "offline").reverse() : [];
  const span = bounds.to - bounds.from;

  return (
    <section className="card device-section" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          Presence
        </h2>
        {presence.data ? <span className="muted">{presence.data.online ? "Online now" : "Offline now"}</span> : null}
      </div>
      {presence.error ? (
        <LoadError what="the presence history" error={presence.error} retry={() => void presence.refetch()} />
      ) : !summary || !presence.data ? (
        <Loading label="Loading presence…" />
      ) : summary.periods.every((period) => period.state === "unknown") ? (
        <Empty>The device has not connected in this range.</Empty>
      ) : (
        <>
          <p className="presence__uptime">
            <span className="presence__uptime-value">{summary.uptime === null ? "–" : percent.format(summary.uptime)}</span> uptime
            {" · "}
            {offline.length} offline {offline.length === 1 ? "period" : "periods"}
          </p>
          <ol className="presence-bar" aria-label="Presence over the range, oldest first">
            {summary.periods.map((period) => (
              <li
                key={`${period.from}-${period.state}`}
                className={`presence-bar__period presence-bar__period--${period.state}`}
                style={{ left: `${((period.from - bounds.from) / span) * 100}%`, width: `${((period.to - period.from) / span) * 100}%` }}
                title={`${stateLabel[period.state]} ${formatDateTime(period.from)} – ${formatDateTime(period.to)}`}
              >
                <span className="visually-hidden">
                  {stateLabel[period.state]} from {formatDateTime(period.from)} to {formatDateTime(period.to)}
                  {period.reason && period.state === "offline" ? ` (${period.reason})` : ""}
                </span>
              </li>
            ))}
          </ol>
          <p className="presence-bar__axis muted" aria-hidden="true">
            <span>{formatDateTime(bounds.from)}</span>
            <span>{formatDateTime(bounds.to)}</span>
          </p>
          <ul className="presence__legend" aria-hidden="true">
            {(["online", "offline", "unknown"] as const).map((state) => (
              <li key={state}>
                <span className={`presence__swatch presence__swatch--${state}`} />
                {stateLabel[state]}
              </li>
            ))}
          </ul>
          {summary.truncated ? (
            <p className="notice notice--warning">
              The device changed state more than {PRESENCE_EVENTS_LIMIT} times in this range: the bars begin at the oldest change shown.
            </p>
          ) : null}
          {offline.length > 0 ? (
            <ul className="presence__offline" aria-label="Offline periods, newest first">
              {offline.slice(0, LISTED_OFFLINE_PERIODS).map((period) => (
                <li key={period.from}>
                  <span className="presence__reason">{period.reason ?? "offline"}</span>
                  <span className="muted">
                    <time dateTime={new Date(period.from).toISOString()}>{formatDateTime(period.from)}</time> for{" "}
                    {formatDuration(period.to - period.from)}
                  </span>
                </li>
              ))}
              {offline.length > LISTED_OFFLINE_PERIODS ? (
                <li className="muted">and {offline.length - LISTED_OFFLINE_PERIODS} earlier</li>
              ) : null}
            </ul>
          ) : null}
        </>
      )}
    </section>
  );
}
