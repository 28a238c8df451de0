// The rules of telemetry history: time ranges and their defaults, bucket widths, and the
// mapping of rows to the API's contract types.
import {
  BUCKET_ORIGIN,
  DEFAULT_HISTORY_WINDOW_MS,
  DEFAULT_SERIES_POINTS,
  type CsvLayout,
  type DeviceMetrics,
  type TelemetryQuery,
  type TelemetrySeries,
} from "@fleetwatch/contracts";
import { ApiProblem } from "../../http/errors.ts";
import type { TelemetryRepository } from "./telemetry.repository.ts";
import type { DevicesRepository } from "../devices/devices.repository.ts";
import { longCsv, wideCsv } from "./telemetry-csv.ts";

export interface TimeRange {
  from: Date;
  to: Date;
}

/** `from` and `to` as given, or the last day up to `to` (default now). Rejects from > to. */
export function resolveRange(query: { from?: string; to?: string }, now = Date.now()): TimeRange {
  const to = query.to ? new Date(query.to) : new Date(now);
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_HISTORY_WINDOW_MS);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new ApiProblem(400, "from and to must be ISO-8601 date-times");
  if (from > to) throw new ApiProblem(400, `from (${from.toISOString()}) is after to (${to.toISOString()})`);
  return { from, to };
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The bucket widths a series may use, narrowest first. Each divides the next larger unit
 * (a second, a minute, an hour, a day), so buckets aligned to the epoch also start on whole
 * seconds, minutes, hours and UTC days, which people read at a glance. Beyond a day: whole days.
 */
export const BUCKET_WIDTHS_MS: readonly number[] = [
  ...[1, 2, 5, 10, 20, 50, 100, 200, 500],
  ...[1, 2, 5, 10, 15, 20, 30].map((n) => n * SECOND),
  ...[1, 2, 3, 5, 10, 15, 20, 30].map((n) => n * MINUTE),
  ...[1, 2, 3, 4, 6, 8, 12].map((n) => n * HOUR),
  DAY,
];

/** The aligned buckets of width `widthMs` that hold some of [from, to): whole buckets, so they may reach beyond both ends. */
export function alignedSpan(range: TimeRange, widthMs: number): { start: number; end: number; buckets: number } {
  const from = range.from.getTime();
  const to = Math.max(range.to.getTime(), from + 1);
  const start = Math.floor(from / widthMs) * widthMs;
  const end = Math.ceil(to / widthMs) * widthMs;
  return { start, end, buckets: (end - start) / widthMs };
}

/**
 * The narrowest width (from BUCKET_WIDTHS_MS, else whole days) whose epoch-aligned buckets
 * cover the range in at most `maxPoints` buckets. The width depends only on the range's
 * length and position, so every reload of the same range gets the same buckets.
 */
export function bucketWidthMs(range: TimeRange, maxPoints: number): number {
  const fits = (width: number) => alignedSpan(range, width).buckets <= maxPoints;
  const listed = BUCKET_WIDTHS_MS.find(fits);
  if (listed !== undefined) return listed;
  let days = Math.max(2, Math.ceil((range.to.getTime() - range.from.getTime()) / maxPoints / DAY));
  while (!fits(days * DAY)) days++;
  return days * DAY;
}

/** Sub-millisecond reading times, averaged in whole milliseconds, may round onto a bucket's edge: keep the point inside. */
function insideBucket(time: number, start: number, widthMs: number): number {
  return Math.min(Math.max(time, start), start + widthMs - 1);
}

export class TelemetryService {
  constructor(
    private readonly repository: TelemetryRepository,
    private readonly devices: Pick<DevicesRepository, "exists">,
  ) {}

  private async requireDevice(id: string): Promise<void> {
    if (!(await this.devices.exists(id))) throw new ApiProblem(404, `device ${id} does not exist`);
  }

  async metrics(deviceId: string): Promise<DeviceMetrics> {
    await this.requireDevice(deviceId);
    const latest = await this.repository.latestReadings(deviceId);
    return {
      deviceId,
      metrics: latest.map((r) => ({ metric: r.metric, lastValue: r.value, lastTime: r.time.toISOString() })),
    };
  }

  async series(deviceId: string, query: TelemetryQuery): Promise<TelemetrySeries> {
    const range = resolveRange(query);
    await this.requireDevice(deviceId);
    const bucketMs = bucketWidthMs(range, query.maxPoints ?? DEFAULT_SERIES_POINTS);
    // Whole buckets only: a bucket cut by the range's ends would change as the range moves.
    const span = alignedSpan(range, bucketMs);
    const rows = await this.repository.buckets(deviceId, query.metric, new Date(span.start), new Date(span.end), bucketMs);
    return {
      deviceId,
      metric: query.metric,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      bucketMs,
      bucketOrigin: BUCKET_ORIGIN,
      points: rows.map((r) => ({
        time: r.bucket.toISOString(),
        at: new Date(insideBucket(r.atMs, r.bucket.getTime(), bucketMs)).toISOString(),
        min: r.min,
        max: r.max,
        avg: r.avg,
        count: r.count,
      })),
    };
  }

  /** CSV (header first) of the raw readings of one or more metrics in the range, in time order, streamed. Validates before the first line. */
  async csv(
    deviceId: string,
    query: { metric: readonly string[]; from?: string; to?: string; layout?: CsvLayout },
  ): Promise<AsyncGenerator<string>> {
    const range = resolveRange(query);
    const metrics = [...new Set(query.metric)];
    await this.requireDevice(deviceId);
    const chunks = this.repository.streamReadings(deviceId, metrics, range.from, range.to);
    return query.layout === "wide" ? wideCsv(metrics, chunks) : longCsv(metrics, chunks);
  }
}
