// The fleet overview's counts and its pulse: recent activity over aligned buckets.
import { PULSE_LIST_LENGTH, type FleetPulse, type FleetSummary, type PulseSeries } from "@fleetwatch/contracts";
import type { BucketCount, FleetRepository } from "./fleet.repository.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The grain of the per-device message counts: the migration's date_bin in
 * 20261203130000_message_rollups writes device_message_counts in buckets of this size.
 */
export const DEVICE_COUNT_BUCKET_MS = 5 * MINUTE;

/** The pulse's windows: each ends with the bucket holding `now` (still filling). */
export const PULSE_WINDOWS = {
  messageRate: { bucketMs: MINUTE, buckets: 60 },
  online: { bucketMs: 15 * MINUTE, buckets: 96 },
  alertsRaised: { bucketMs: HOUR, buckets: 24 },
  // The top talkers' and silent devices' "last hour": whole count buckets, so between 55
  // and 60 minutes (the current bucket is still filling), never more than the rate chart's hour.
  deviceMessages: { bucketMs: DEVICE_COUNT_BUCKET_MS, buckets: 12 },
} as const;

/** The first of `buckets` epoch-aligned buckets of `bucketMs` whose last holds `now`. */
export function windowStart(now: number, bucketMs: number, buckets: number): number {
  return (Math.floor(now / bucketMs) - buckets + 1) * bucketMs;
}

/** Every bucket of the window, oldest first: counts where the query found rows, else 0. */
function fill(start: number, bucketMs: number, buckets: number, rows: readonly BucketCount[]): number[] {
  const values = new Array<number>(buckets).fill(0);
  for (const row of rows) {
    const index = Math.round((row.bucket.getTime() - start) / bucketMs);
    if (index >= 0 && index < buckets) values[index] = (values[index] as number) + row.count;
  }
  return values;
}

function series(start: number, bucketMs: number, values: readonly number[]): PulseSeries {
  return { bucketMs, points: values.map((value, i) => ({ time: new Date(start + i * bucketMs).toISOString(), value })) };
}

export class FleetService {
  constructor(private readonly repository: FleetRepository) {}

  summary(): Promise<FleetSummary> {
    return this.repository.summary();
  }

  async pulse(now = Date.now()): Promise<FleetPulse> {
    const rate = PULSE_WINDOWS.messageRate;
    const presence = PULSE_WINDOWS.online;
    const raised = PULSE_WINDOWS.alertsRaised;
    const rateStart = windowStart(now, rate.bucketMs, rate.buckets);
    const onlineStart = windowStart(now, presence.bucketMs, presence.buckets);
    const raisedStart = windowStart(now, raised.bucketMs, raised.buckets);
    const perDevice = PULSE_WINDOWS.deviceMessages;
    const perDeviceStart = windowStart(now, perDevice.bucketMs, perDevice.buckets);
    const perDeviceBuckets = Array.from({ length: perDevice.buckets }, (_, i) => new Date(perDeviceStart + i * perDevice.bucketMs));
    // Independent statements on the shared pool, in parallel: the pulse takes as long as its slowest aggregate.
    const [messages, online, alerts, topTalkers, silent, activeAlerts] = await Promise.all([
      this.repository.messageCounts(new Date(rateStart), new Date(rateStart + rate.buckets * rate.bucketMs), rate.bucketMs),
      this.repository.onlineChanges(new Date(onlineStart), presence.bucketMs),
      this.repository.alertsRaised(new Date(raisedStart), raised.bucketMs),
      this.repository.topTalkers(new Date(perDeviceStart), PULSE_LIST_LENGTH),
      this.repository.silent(perDeviceBuckets, PULSE_LIST_LENGTH),
      this.repository.latestActiveAlerts(PULSE_LIST_LENGTH),
    ]);

    const rateValues = fill(rateStart, rate.bucketMs, rate.buckets, messages);
    // The online count at the end of each bucket: today's count minus every change after that bucket.
    const changes = fill(onlineStart, presence.bucketMs, presence.buckets, online.changes);
    const onlineValues = new Array<number>(presence.buckets);
    let count = online.now;
    for (let i = presence.buckets - 1; i >= 0; i--) {
      onlineValues[i] = Math.max(0, count);
      count -= changes[i] as number;
    }
    const raisedValues = fill(raisedStart, raised.bucketMs, raised.buckets, alerts);
    const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

    return {
      at: new Date(now).toISOString(),
      messageRate: { ...series(rateStart, rate.bucketMs, rateValues), total: sum(rateValues) },
      online: { ...series(onlineStart, presence.bucketMs, onlineValues), now: online.now },
      alertsRaised: { ...series(raisedStart, raised.bucketMs, raisedValues), total: sum(raisedValues) },
      topTalkers,
      silent,
      activeAlerts,
    };
  }
}
