// The device's readings as they arrive on the live channel, kept per metric for the live
// charts (the last LIVE_WINDOW_MS, bounded in count so a chatty device cannot grow memory).
import { useState } from "react";
import { deviceTopic } from "@fleetwatch/contracts";
import { useLiveMessages } from "../../../lib/live/use-live.ts";
import { LIVE_WINDOW_MS } from "../api/get-telemetry.ts";
import { liveReadingsOf } from "./live-readings.ts";

export interface LivePoint {
  /** Epoch ms. */
  t: number;
  v: number;
}

/** Most live points kept per metric. */
const MAX_LIVE_POINTS = 600;

export type LiveSeries = ReadonlyMap<string, readonly LivePoint[]>;

export function useLiveReadings(deviceId: string): LiveSeries {
  const [series, setSeries] = useState<LiveSeries>(() => new Map());
  // The page's one filter for the device: every panel listens to it, sharing one server subscription.
  useLiveMessages(deviceTopic.all(deviceId), (batch) => {
    const arrived = new Map<string, LivePoint[]>();
    for (const message of batch.messages) {
      const parsed = liveReadingsOf(message, deviceId);
      if (!parsed) continue;
      for (const { metric, value } of parsed.readings) {
        const points = arrived.get(metric);
        if (points) points.push({ t: parsed.time, v: value });
        else arrived.set(metric, [{ t: parsed.time, v: value }]);
      }
    }
    if (arrived.size === 0) return;
    setSeries((previous) => {
      const next = new Map(previous);
      for (const [metric, points] of arrived) {
        // Devices may send readings out of order (a `ts` from a buffer): keep the line monotonic.
        const merged = [...(previous.get(metric) ?? []), ...points].sort((a, b) => a.t - b.t);
        const newest = merged[merged.length - 1]?.t ?? 0;
        next.set(metric, merged.filter((point) => point.t > newest - LIVE_WINDOW_MS).slice(-MAX_LIVE_POINTS));
      }
      return next;
    });
  });
  return series;
}
